"""The Excel conditional-formatting rule pack: the rule grammar, names for pre-training masks, a case-insensitive
normal form for exact match, and execution match by the rule interpreter (interpret.py)."""

from __future__ import annotations

from collections.abc import Sequence

from cfusion.langs.base import Language, Metrics
from cfusion.langs.cf import grammar
from cfusion.langs.cf.interpret import canonical_match, cell_text, exec_match, unknown_calls, value_column


class CF(Language):
    name = "cf"
    codefusion = "CFRule"
    # The samples vote: on the CF dev sets the consensus lifts the shipped model's exec @1 from 66.20 to 67.61 (dev
    # split) and from 68.79 to 73.41 (out-of-domain dev). By score alone one confident sample beat three that agree
    # (`less than 42.5` answered `GreaterThan(42.5)`).
    consensus = True

    def valid(self, code: str) -> bool:
        return grammar.valid(code)

    def usable(self, code: str) -> bool:
        """Valid, and calls no function that conditional formatting lacks (a sample's `bottomorScale()` parses)."""
        return grammar.valid(code) and not unknown_calls(code)

    def maskable_spans(self, code: str) -> list[tuple[int, int]]:
        return grammar.maskable_spans(code)

    def normalise(self, code: str) -> str:
        return grammar.normalise(code)

    def template(self, code: str) -> list[str]:
        return grammar.tokens(code)

    def values(self, code: str, request: str = "") -> list[tuple[str, int, int]]:
        return grammar.values(code)

    def metrics(self) -> Metrics:
        """exec@k: execution match (interpret.exec_match) on probe columns and, where the item has one, its own
        table column (score_topk passes `cells`); canon@k: exact match of the canonical forms
        (interpret.canonical_match), beside exact@k of the normalised text."""
        return Metrics({"exec": exec_match, "canon": canonical_match}, {}, {})

    def table_cells(self, code: str, table: Sequence[Sequence[object]]) -> tuple[str, ...]:
        """The cells under the header of the table column that `code` formats (interpret.value_column), as text;
        () when there is no such column."""
        k = value_column(code, table[0]) if table else None
        if k is None:
            return ()
        return tuple(cell_text(row[k]) if k < len(row) else "" for row in table[1:])


PACK = CF()
