"""Python's benchmark metrics on CoNaLa, several references per prediction, each a corpus score (0-100):

- conala_bleu: BLEU exactly as CoNaLa's official evaluation computes it, comparable with published CoNaLa numbers;
- sacre_bleu: BLEU by sacrebleu's '13a' tokenizer (closest reference length, exp smoothing), not comparable with them;
- codebleu: CodeBLEU by the codebleu package, parsing with the installed tree-sitter-python (nothing is downloaded).

CodeBERTScore, the CodeFusion paper's other Python metric, is not reported: it needs model weights from the
Hugging Face hub, and nothing is downloaded at run time. Each metric carries the sentence-level score by which
cfusion.eval picks the best of a request's first k candidates (`CorpusMetric.sentence`).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from cfusion.langs.base import check_refs


@dataclass(frozen=True)
class CorpusMetric:
    """A corpus metric, f(preds, refs_lists) -> 0-100, with `sentence(pred, refs)`: one prediction's score, which
    picks the best of a request's first k candidates before the corpus is scored at k."""

    corpus: Callable[[list[str], list[list[str]]], float]
    sentence: Callable[[str, list[str]], float]

    def __call__(self, preds: list[str], refs: list[list[str]]) -> float:
        return self.corpus(preds, refs)


def _check(preds: list[str], refs: list[list[str]]) -> None:
    if len(preds) != len(refs):
        raise ValueError(f"got {len(preds)} predictions but {len(refs)} reference lists")
    for r in refs:
        check_refs(r)


# --- BLEU as CoNaLa computes it ---

_NOT_WORD = re.compile(r"([^A-Za-z0-9_])")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_SPACES = re.compile(r"\s+")
_MAX_ORDER = 4


def conala_tokenize(code: str) -> list[str]:
    """CoNaLa's `tokenize_for_bleu_eval` (from Wang Ling et al. 2016; conala-corpus/conala-baseline,
    eval/conala_eval.py): every character outside [A-Za-z0-9_] is a token of its own, a lower-case letter followed
    by an upper-case one is split (camelCase; non-overlapping, left to right), whitespace runs become one space,
    both quote characters become a backtick, and the text is split at spaces without empty tokens."""
    text = _CAMEL.sub(r"\1 \2", _NOT_WORD.sub(r" \1 ", code))
    text = _SPACES.sub(" ", text).replace('"', "`").replace("'", "`")
    return [tok for tok in text.split(" ") if tok]


def _ngrams(tokens: list[str]) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for n in range(1, _MAX_ORDER + 1) for i in range(len(tokens) - n + 1))


@dataclass
class _BleuCounts:
    """What BLEU sums over a corpus: clipped n-gram matches and n-gram counts per order, and the two lengths."""

    matches: list[int]
    possible: list[int]
    hyp_len: int = 0
    ref_len: int = 0

    @classmethod
    def zero(cls) -> _BleuCounts:
        return cls([0] * _MAX_ORDER, [0] * _MAX_ORDER)

    def add(self, hyp: list[str], refs: list[list[str]]) -> None:
        # Each n-gram counts up to its largest count in any one reference; the reference length is the SHORTEST
        # reference's (not the closest one's, as sacrebleu and Papineni et al. take).
        ref_counts: Counter = Counter()
        for ref in refs:
            ref_counts |= _ngrams(ref)
        for gram, n in (_ngrams(hyp) & ref_counts).items():
            self.matches[len(gram) - 1] += n
        for order in range(1, _MAX_ORDER + 1):
            self.possible[order - 1] += max(0, len(hyp) - order + 1)
        self.hyp_len += len(hyp)
        self.ref_len += min(map(len, refs))

    def bleu(self, smooth: bool = False) -> float:
        """BLEU in [0, 1]: the geometric mean of the n-gram precisions (0 if any is 0) times the brevity penalty
        exp(1 - ref_len / hyp_len) when hyp_len <= ref_len. `smooth`: Lin and Och (2004) add-one smoothing of
        orders 2 to 4, the `smooth=True` of the same implementation."""
        precisions = []
        for i, (m, p) in enumerate(zip(self.matches, self.possible)):
            if smooth and i > 0:
                precisions.append((m + 1) / (p + 1))
            else:
                precisions.append(m / p if p > 0 else 0.0)
        if min(precisions) <= 0:
            return 0.0
        geo_mean = math.exp(sum(math.log(p) for p in precisions) / _MAX_ORDER)
        # The original divides by ref_len unguarded; references that tokenize to nothing leave no penalty.
        bp = 1.0 if self.hyp_len > self.ref_len else math.exp(1 - self.ref_len / self.hyp_len)
        return geo_mean * bp


def _conala_counts(preds: list[str], refs: list[list[str]]) -> _BleuCounts:
    counts = _BleuCounts.zero()
    for pred, rs in zip(preds, refs):
        counts.add(conala_tokenize(pred), [conala_tokenize(r) for r in rs])
    return counts


def conala_bleu(preds: list[str], refs: list[list[str]]) -> float:
    """Corpus BLEU (0-100) as CoNaLa's official evaluation computes it, comparable with published CoNaLa BLEU.

    Definition (conala-corpus/conala-baseline, eval/conala_eval.py, which calls `compute_bleu(..., smooth=False)` of
    the TensorFlow NMT scripts, tensorflow/nmt nmt/scripts/bleu.py): both sides tokenized by `conala_tokenize`;
    n-grams of orders 1-4 with clipped counts, summed over the corpus; no smoothing, so the score is 0 when any
    order has no match; the brevity penalty exp(1 - r/c) when c <= r, with c the total prediction length and r the
    sum over requests of the SHORTEST reference's length. An empty corpus of predictions (c = 0) scores 0, as in
    TranX's copy of the script. refs[i] holds the references of preds[i] (CoNaLa's test set has one each).
    """
    _check(preds, refs)
    return 100 * _conala_counts(preds, refs).bleu() if preds else 0.0


def conala_bleu_sentence(pred: str, refs: list[str]) -> float:
    """One prediction's BLEU (0-100) by `conala_bleu`'s definition with Lin and Och smoothing: unsmoothed, any
    prediction without a matching 4-gram would score 0, and a best-of-k pick among those would be no pick."""
    check_refs(refs)
    return 100 * _conala_counts([pred], [refs]).bleu(smooth=True)


# --- sacrebleu ---


def sacre_bleu(preds: list[str], refs: list[list[str]]) -> float:
    """Corpus BLEU (0-100) by sacrebleu with its default '13a' tokenizer, which splits code punctuation from words;
    its brevity penalty takes the closest reference length. Not CoNaLa's number: see `conala_bleu`.

    refs[i] holds the references of preds[i]; their number may vary per prediction.
    """
    import sacrebleu  # only this metric needs it

    _check(preds, refs)
    if not preds:
        return 0.0
    streams = [[r[j] if j < len(r) else None for r in refs] for j in range(max(map(len, refs)))]
    return float(sacrebleu.corpus_bleu(preds, streams).score)


@cache
def _sentence_bleu():
    from sacrebleu.metrics import BLEU

    return BLEU(effective_order=True)  # sacrebleu's advice for sentence scores: orders the sentence has


def sacre_bleu_sentence(pred: str, refs: list[str]) -> float:
    """One prediction's sacrebleu BLEU (0-100): '13a', exp smoothing, effective order."""
    check_refs(refs)
    return float(_sentence_bleu().sentence_score(pred, refs).score)


# --- CodeBLEU ---


@contextmanager
def _quiet_logging() -> Iterator[None]:
    # codebleu logs a warning on the root logger whenever the references have no data flow, which for one-line
    # snippets scored one by one is most of them.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def codebleu(preds: list[str], refs: list[list[str]], lang: str = "python") -> float:
    """CodeBLEU (0-100, equal weights) by the codebleu package; refs[i] holds the references of preds[i].

    As in the reference implementation, a snippet shorter than n whitespace tokens still adds 1 to the n-gram
    precision's denominator, so even identical one-liners can score below 100; and when no reference has a data
    flow, the data-flow term counts as 1 (a prediction that does not parse still scores 25).
    """
    from codebleu import calc_codebleu  # only CodeBLEU needs it

    _check(preds, refs)
    if not preds:
        return 0.0
    return 100 * float(calc_codebleu(refs, preds, lang=lang)["codebleu"])


def codebleu_sentence(pred: str, refs: list[str]) -> float:
    """One prediction's CodeBLEU (0-100): `codebleu` of the one-request corpus, without codebleu's log warnings."""
    with _quiet_logging():
        return codebleu([pred], [refs])


CONALA_BLEU = CorpusMetric(conala_bleu, conala_bleu_sentence)
SACRE_BLEU = CorpusMetric(sacre_bleu, sacre_bleu_sentence)
CODEBLEU = CorpusMetric(codebleu, codebleu_sentence)
