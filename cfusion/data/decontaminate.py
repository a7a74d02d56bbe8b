"""Decontamination: training pairs whose command or request occurs in a test set are dropped."""

from __future__ import annotations

from cfusion.data.pairs import Pair


def normal_request(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".,;:!?").rstrip()


def normal_code(text: str) -> str:
    return " ".join(text.split())


def decontaminate(train: list[Pair], test: list[Pair]) -> tuple[list[Pair], dict]:
    """Drop train pairs whose normalised code or description occurs in `test`; returns (kept, report).

    The report counts pairs hit by code and by description separately; `dropped` counts each pair once.
    """
    test_codes = {normal_code(p.code) for p in test}
    test_nls = {normal_request(p.nl) for p in test}
    kept, by_code, by_nl, dropped = [], 0, 0, 0
    for pair in train:
        hit_code, hit_nl = normal_code(pair.code) in test_codes, normal_request(pair.nl) in test_nls
        by_code += hit_code
        by_nl += hit_nl
        if hit_code or hit_nl:
            dropped += 1
        else:
            kept.append(pair)
    return kept, {"kept": len(kept), "dropped_code": by_code, "dropped_nl": by_nl, "dropped": dropped}
