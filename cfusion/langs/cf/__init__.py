"""The Excel conditional-formatting rule pack: the rule grammar, names for pre-training masks, a case-insensitive
normal form for exact match."""

from __future__ import annotations

from cfusion.langs.base import Language
from cfusion.langs.cf import grammar


class CF(Language):
    name = "cf"
    codefusion = "CFRule"

    def valid(self, code: str) -> bool:
        return grammar.valid(code)

    def maskable_spans(self, code: str) -> list[tuple[int, int]]:
        return grammar.maskable_spans(code)

    def normalise(self, code: str) -> str:
        return grammar.normalise(code)


PACK = CF()
