"""The Python language pack: validity by `ast.parse`, names for pre-training masks, CoNaLa BLEU, sacrebleu BLEU and
CodeBLEU."""

from __future__ import annotations

from cfusion.data import slots
from cfusion.langs.base import Language, Metrics, Rules
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

    def skeleton(self, request: str) -> str:
        return slots.blank(request)

    def rules(self, request: str, literals: bool = True) -> Rules:
        """A recalled snippet takes the request's values: the names, strings and numbers that its known request
        quotes or writes become this request's, in the order each request gives them (slots.carry); a snippet that
        would no longer parse stays as it was."""

        def adapt(code: str, known: str) -> str:
            carried = slots.carry(request, code, known, self.name, syntax.cast)
            return carried if syntax.valid(carried) else code

        return Rules(adapt=adapt if literals else None)

    def metrics(self) -> Metrics:
        corpus = {"conala_bleu": metrics.CONALA_BLEU, "sacrebleu": metrics.SACRE_BLEU, "codebleu": metrics.CODEBLEU}
        return Metrics({}, {}, corpus)


PACK = Python()
