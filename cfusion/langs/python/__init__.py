"""The Python language pack: validity by `ast.parse`, names for pre-training masks, BLEU and CodeBLEU."""

from __future__ import annotations

from cfusion.langs.base import Language, Metrics
from cfusion.langs.python import metrics, syntax


class Python(Language):
    name = "python"
    codefusion = "Python"

    def valid(self, code: str) -> bool:
        return syntax.valid(code)

    def maskable_spans(self, code: str) -> list[tuple[int, int]]:
        return syntax.maskable_spans(code)

    def metrics(self) -> Metrics:
        return Metrics({}, {}, {"bleu": metrics.bleu, "codebleu": metrics.codebleu})


PACK = Python()
