"""Literal swapping: training pairs whose shared values are replaced, in the request and the code alike.

A model fine-tuned on a few thousand pairs learns the values it saw (`GreaterThan(50)`) instead of copying the ones
a request names (`greater than 2305`). Each copy made here replaces every value that the code and its request share
(Language.values: numbers, string contents, text operands, quoted names) by another value of the same kind, drawn
from the other pairs' values or, for numbers, made up, so that only copying explains the code. Nothing here reads
the English of the request: a value is shared when its text occurs in the request as a whole word.
"""

from __future__ import annotations

import random
import re

from cfusion import langs
from cfusion.data.pairs import Pair
from cfusion.data.slots import rewrite


def _word(text: str) -> re.Pattern:
    # The value as a whole word of the request: not inside a longer word or number.
    word = text[:1].isalnum() or text[:1] == "_"
    return re.compile(rf"(?<![\w.]){re.escape(text)}(?![\w])" if word else re.escape(text))


def shared_values(pair: Pair, found: list[tuple[str, int, int]] | None = None) -> list[tuple[str, str]]:
    """(kind, text) of each distinct value of the pair's code whose text occurs in its request as a whole word.
    `found`: the code's values (Language.values), when the caller has them already."""
    if found is None:
        found = langs.get(pair.lang).values(pair.code, pair.nl)
    out = {}
    for kind, start, end in found:
        text = pair.code[start:end]
        if text.strip() and text not in out and _word(text).search(pair.nl):
            out[text] = kind
    return [(kind, text) for text, kind in out.items()]


_PLAIN = re.compile(r"\d+(?:\.\d+)?")


def _number_like(text: str, rng: random.Random) -> str:
    """Another number written like `text`: as many digits (give or take one), the same decimals."""
    whole, _, frac = text.partition(".")
    digits = max(1, len(whole) + rng.choice((-1, 0, 0, 1)))
    new = str(rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits))
    return new + ("." + "".join(rng.choice("0123456789") for _ in frac) if frac else "")


def swap_literals(pairs: list[Pair], copies: int = 3, seed: int = 0) -> list[Pair]:
    """Up to `copies` new pairs for each pair that shares values with its request, each value swapped for another of
    its kind; pairs that share none give nothing. Deterministic for a seed."""
    rng = random.Random(seed)
    found = [langs.get(p.lang).values(p.code, p.nl) for p in pairs]
    shared = [shared_values(p, f) for p, f in zip(pairs, found)]
    pools: dict[tuple[str, str], list[str]] = {}
    for p, values in zip(pairs, shared):
        for kind, text in values:
            pools.setdefault((p.lang, kind), []).append(text)
    out = []
    for p, values, spans in zip(pairs, shared, found):
        if not values:
            continue
        numbers = [t for k, t in values if k == "number" and _PLAIN.fullmatch(t)]
        for _ in range(copies):
            swap: dict[str, str] = {}
            # New numbers keep the old ones' order (`between 25 and 50` stays a range that holds something).
            made = dict(zip(sorted(numbers, key=float), sorted((_number_like(t, rng) for t in numbers), key=float)))
            for kind, text in values:
                if text in made:
                    new = made[text]
                else:
                    pool = pools.get((p.lang, kind), [])
                    new = rng.choice(pool) if pool else text
                if new == text or new in swap.values() or new in p.nl or new in p.code:
                    continue  # a clash would make the copy ambiguous
                swap[text] = new
            if not swap:
                continue
            olds = sorted(swap, key=len, reverse=True)
            nl = re.sub("|".join(_word(t).pattern for t in olds), lambda m, swap=swap: swap[m.group(0)], p.nl)
            out.append(Pair(nl, rewrite(p.code, spans, swap), p.lang))
    return out
