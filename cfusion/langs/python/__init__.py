"""The Python language pack: validity by `ast.parse`, names for pre-training masks, CoNaLa BLEU, sacrebleu BLEU and
CodeBLEU."""

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

    def template(self, code: str) -> list[str]:
        return syntax.tokens(code)

    def values(self, code: str, request: str = "") -> list[tuple[str, int, int]]:
        return syntax.values(code, request)

    def metrics(self) -> Metrics:
        corpus = {"conala_bleu": metrics.CONALA_BLEU, "sacrebleu": metrics.SACRE_BLEU, "codebleu": metrics.CODEBLEU}
        return Metrics({}, {}, corpus)


PACK = Python()
