"""Language-neutral scoring of ranked candidates: exact match, validity and diversity, with each language's own
metrics (Language.metrics) at top-1/3/5."""

from __future__ import annotations

import warnings
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


def score_topk(
    preds: list[list[str]], refs: list[list[str]], lang: str, ks: tuple[int, ...] = (1, 3, 5)
) -> dict[str, float]:
    """Metrics of ranked candidates (preds[i], best first) against references refs[i], averaged over requests.

    Accuracy-type values are percent (0-100) as the paper reports them: the language's per-candidate metrics and
    exact@k (best of the first k), valid@1 (top-1 parses), valid_all (all candidates) and the language's corpus
    metrics of the top-1 (BLEU). Its per-list metrics (NLC2CMD, in [-1, 1]) are reported as the competition did.
    Diversity over each request's full candidate list, in [0, 1] as the paper reports it: distinct_1..4 and
    edit_distance, averaged over the requests with at least two candidates (and, for distinct_n, one n-gram).
    """
    pack = langs.get(lang)
    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} prediction lists but {len(refs)} reference lists")
    for r in refs:
        check_refs(r)
    top = max(ks)
    out: dict[str, float] = {}
    metrics = pack.metrics()
    for name, metric in {**metrics.per_candidate, "exact": pack.exact}.items():
        scores = [[metric(p, r) for p in ps[:top]] for ps, r in zip(preds, refs)]
        out.update({f"{name}@{k}": 100 * _at_k(scores, k) for k in ks})
    for name, metric in metrics.per_list.items():
        out.update({f"{name}@{k}": _mean([metric(ps[:k], r) for ps, r in zip(preds, refs)]) for k in ks})
    top1 = [ps[0] if ps else "" for ps in preds]
    for name, metric in metrics.corpus.items():
        try:
            out[f"{name}@1"] = metric(top1, refs)
        except ImportError as err:  # an optional scorer that is not installed
            warnings.warn(f"{name}@1 left out: {err}", stacklevel=2)
    out["valid@1"] = 100 * _mean([float(bool(ps) and pack.valid(ps[0])) for ps in preds])
    out["valid_all"] = 100 * _mean([float(pack.valid(p)) for ps in preds for p in ps])
    # Diversity is a property of a list: requests with fewer than two candidates, or with no n-gram of that order,
    # have none, and averaging them in as 0 would score short commands as undiverse.
    lists = [ps for ps in preds if len(ps) >= 2]
    for n in range(1, 5):
        out[f"distinct_{n}"] = _mean([distinct_ngrams(ps, n) for ps in lists if any(len(c.split()) >= n for c in ps)])
    out["edit_distance"] = _mean([pairwise_edit_distance(ps) for ps in lists])
    return out
