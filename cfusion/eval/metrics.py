"""Language-neutral scoring of ranked candidates: exact match, validity and diversity, with each language's own
metrics (Language.metrics, corpus metrics included) at top-1/3/5."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from itertools import combinations

from cfusion import langs
from cfusion.langs.base import check_refs


def exact_match(pred: str, refs: list[str], lang: str) -> float:
    """1.0 iff pred equals some ref once both are in the language's normal form (Language.normalise)."""
    return langs.get(lang).exact(pred, refs)


def distinct_ngrams(cands: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the candidates' whitespace tokens (0.0 when there are none)."""
    grams = [tuple(toks[i : i + n]) for toks in (c.split() for c in cands) for i in range(len(toks) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _levenshtein(a: str, b: str) -> int:
    """Character edit distance, bit-parallel (Myers 1999, Hyyrö's form): one big-int step per character of a."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask, high = (1 << len(b)) - 1, 1 << (len(b) - 1)
    pv, mv, dist = mask, 0, len(b)
    for ch in a:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        dist += 1 if ph & high else -1 if mh & high else 0
        ph = (ph << 1) | 1  # row 0 of the DP table counts up: a global, not a substring, distance
        mh <<= 1
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv & mask
    return dist


def pairwise_edit_distance(cands: list[str]) -> float:
    """Mean over candidate pairs of the character edit distance over the longer length; 0.0 under 2 candidates."""
    pairs = list(combinations(cands, 2))
    if not pairs:
        return 0.0
    return sum(_levenshtein(a, b) / max(len(a), len(b), 1) for a, b in pairs) / len(pairs)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _at_k(per_cand: list[list[float]], k: int) -> float:
    """Mean over requests of the best of the first k candidates (0 for a request without candidates)."""
    return _mean([max(scores[:k], default=0.0) for scores in per_cand])


def _best_of(cands: list[str], scores: list[float], k: int) -> str:
    """The first k candidates' best by score, the earliest of equal ones ("" when there are no candidates)."""
    if not cands:
        return ""
    if k <= 1 or not scores:
        return cands[0]
    first = scores[:k]
    return cands[first.index(max(first))]


def _corpus_at_k(
    metric: Callable[[list[str], list[list[str]]], float],
    preds: list[list[str]],
    refs: list[list[str]],
    ks: tuple[int, ...],
) -> dict[int, float]:
    """A corpus metric at each k: the corpus of each request's best of its first k candidates (score_topk)."""
    sentence = getattr(metric, "sentence", None) or (lambda pred, rs: metric([pred], [rs]))
    depth = max(ks)
    scores = []  # sentence scores only where there is a choice, once per distinct candidate of a request
    for ps, rs in zip(preds, refs):
        if depth > 1 and len(ps) > 1:
            seen = {p: sentence(p, rs) for p in dict.fromkeys(ps[:depth])}
            scores.append([seen[p] for p in ps[:depth]])
        else:
            scores.append([])
    out: dict[int, float] = {}
    by_picks: dict[tuple[str, ...], float] = {}  # CodeBLEU takes a while: score a corpus of picks once
    for k in ks:
        picks = tuple(_best_of(ps, s, k) for ps, s in zip(preds, scores))
        if picks not in by_picks:
            by_picks[picks] = metric(list(picks), refs)
        out[k] = by_picks[picks]
    return out


def score_topk(
    preds: list[list[str]],
    refs: list[list[str]],
    lang: str,
    ks: tuple[int, ...] = (1, 3, 5),
    cells: list[tuple[str, ...]] | None = None,
) -> dict[str, float]:
    """Metrics of ranked candidates (preds[i], best first) against references refs[i], averaged over requests.

    Accuracy-type values are percent (0-100) as the paper reports them: the language's per-candidate metrics and
    exact@k (best of the first k), valid@1 (top-1 parses) and valid_all (all candidates). Its per-list metrics
    (NLC2CMD, in [-1, 1]) are reported as the competition did. Diversity over each request's full candidate list,
    in [0, 1] as the paper reports it: distinct_1..4 and edit_distance, averaged over the requests with at least
    two candidates (and, for distinct_n, one n-gram). `cells[i]`: request i's own table column, for the metrics
    that take `cells` (CF's execution match); () where it has none.

    The language's corpus metrics (BLEU, CodeBLEU) at k: the corpus score when each request contributes its best of
    the first k candidates, the oracle pick by that candidate's sentence-level score against its references (ties
    to the earliest; a request without candidates contributes ""). The sentence-level score is the metric's
    `sentence(pred, refs)` where it has one, else the metric of the one-request corpus. At k = 1 this is the corpus
    score of the top-1 predictions. A pick that is best for its request need not be best for the corpus (BLEU sums
    n-gram counts and lengths over the corpus), so a corpus score at k is usually, not always, at least that at
    k - 1.
    """
    pack = langs.get(lang)
    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} prediction lists but {len(refs)} reference lists")
    for r in refs:
        check_refs(r)
    top = max(ks)
    out: dict[str, float] = {}
    metrics = pack.metrics()
    cells = cells or [()] * len(preds)
    for name, metric in {**metrics.per_candidate, "exact": pack.exact}.items():
        if "cells" in inspect.signature(metric).parameters:  # reads the item's own table (CF execution match)
            scores = [[metric(p, r, cells=c or None) for p in ps[:top]] for ps, r, c in zip(preds, refs, cells)]
        else:
            scores = [[metric(p, r) for p in ps[:top]] for ps, r in zip(preds, refs)]
        out.update({f"{name}@{k}": 100 * _at_k(scores, k) for k in ks})
    for name, metric in metrics.per_list.items():
        out.update({f"{name}@{k}": _mean([metric(ps[:k], r) for ps, r in zip(preds, refs)]) for k in ks})
    for name, metric in metrics.corpus.items():
        try:
            out.update({f"{name}@{k}": v for k, v in _corpus_at_k(metric, preds, refs, ks).items()})
        except ImportError as err:  # an optional scorer that is not installed
            warnings.warn(f"{name} left out: {err}", stacklevel=2)
    out["valid@1"] = 100 * _mean([float(bool(ps) and pack.valid(ps[0])) for ps in preds])
    out["valid_all"] = 100 * _mean([float(pack.valid(p)) for ps in preds for p in ps])
    # Diversity is a property of a list: requests with fewer than two candidates, or with no n-gram of that order,
    # have none, and averaging them in as 0 would score short commands as undiverse.
    lists = [ps for ps in preds if len(ps) >= 2]
    for n in range(1, 5):
        out[f"distinct_{n}"] = _mean([distinct_ngrams(ps, n) for ps in lists if any(len(c.split()) >= n for c in ps)])
    out["edit_distance"] = _mean([pairwise_edit_distance(ps) for ps in lists])
    return out
