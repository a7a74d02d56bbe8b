"""Seeded dev sets, held out of training and of the memory while weights, rules and checkpoints are chosen.

- `dev_split`: a fixed share of a training split (Bash: 1,000 of the 10,085 CodeFusion train pairs).
- `heldout_pages`: the pages (one utility each) of a seeded share of a documentation corpus (tldr-pages,
  cheatsheets); their pairs make an out-of-domain dev set, worded as documentation rather than as the benchmark.

Membership is a hash of the seed and the pair's id (or page name), so it does not depend on the order of the input
or on what else it holds: a pair is in the dev split today and tomorrow, whatever was added beside it.
"""

from __future__ import annotations

import hashlib

from cfusion.data.pairs import Pair

DEV_SEED = 36
DEV_SIZE = 1000
OOD_SHARE = 0.1


def _rank(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "big")


def _key(pair: Pair) -> str:
    return pair.id if pair.id is not None else f"{pair.nl}\x00{pair.code}"


def dev_split(pairs: list[Pair], n: int = DEV_SIZE, seed: int = DEV_SEED) -> tuple[list[Pair], list[Pair]]:
    """(rest, dev): the n pairs whose seeded hash is lowest make dev; both keep the input's order."""
    keys = [_key(p) for p in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("pairs must have distinct ids (or distinct request and code) to be split by hash")
    if not 0 < n < len(pairs):
        raise ValueError(f"n must be between 1 and {len(pairs) - 1}, got {n}")
    chosen = set(sorted(range(len(pairs)), key=lambda i: _rank(seed, keys[i]))[:n])
    return [p for i, p in enumerate(pairs) if i not in chosen], [p for i, p in enumerate(pairs) if i in chosen]


def page(pair: Pair) -> str | None:
    """The documentation page a pair comes from (`tldr/common/tar:3` and `cheat/tar:12` are both `tar`), or None."""
    if pair.id is None or not pair.id.startswith(("tldr/", "cheat/")):
        return None
    return pair.id.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def heldout_pages(pages, share: float = OOD_SHARE, seed: int = DEV_SEED) -> set[str]:
    """The pages of a seeded `share` of page names: each name is in or out by its own hash."""
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    return {p for p in pages if _rank(seed, f"page:{p}") < share * 2**64}


def split_pages(pairs: list[Pair], held: set[str]) -> tuple[list[Pair], list[Pair]]:
    """(rest, held out): the pairs of the held-out pages, and all others (pairs of no page stay in rest)."""
    out = [p for p in pairs if page(p) in held]
    return [p for p in pairs if page(p) not in held], out
