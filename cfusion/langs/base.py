"""The Language protocol: what a language pack tells the engine, with the defaults a pack may keep.

A pack is pure text logic: it parses, compares and edits code and requests, and never imports the network, the
recall or the pipeline. The engine asks it, per language, what is valid, what the consensus compares, which spans
pre-training masks, how to score a prediction, and which ranking rules a request brings (`rules`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Rules:
    """What a pack adds to the ranking of one request's candidates; None: the rule does not apply.

    adapt(code, known): the recalled `code`, answer to the known request `known`, with this request's literals
    carried in (the edit stage calls it at most once per candidate). fits(code, adapted): how well a recalled
    command fits this request (a bonus, may be negative); `adapted()` gives the command adapted, computed when first
    asked for, so a fit that does not need it costs no adaptation. same(known): the known request asks what
    this request asks but for its literals, so its command answers first. safe(code): the command does nothing
    that cannot be undone and that the request did not ask for; unsafe ones answer first only when nothing else
    can. first(adapted): the command does what the request singles out (Bash: act as a named user), so such
    commands are ranked among themselves ahead of the rest. effects(code): what a shown command does that cannot
    be undone, which of that the request did not ask for, and the findings behind them as JSON-ready dicts (category,
    label, severity, start, end, part, reason, asked).
    """

    adapt: Callable[[str, str], str] | None = None
    fits: Callable[[str, Callable[[], str]], float] | None = None
    same: Callable[[str], bool] | None = None
    safe: Callable[[str], bool] | None = None
    first: Callable[[str], bool] | None = None
    effects: Callable[[str], tuple[tuple[str, ...], tuple[str, ...], tuple[dict, ...]]] | None = None


@dataclass(frozen=True)
class Metrics:
    """A language's benchmark metrics, each taking several references.

    per_candidate: name -> f(pred, refs) in [0, 1], reported in percent at top-k (best of the first k).
    per_list: name -> f(preds, refs) over the first k predictions, reported as is at top-k (NLC2CMD).
    corpus: name -> f(top1s, refs_lists) over all requests' first predictions, reported at top-1 (BLEU).
    """

    per_candidate: dict[str, Callable[[str, list[str]], float]]
    per_list: dict[str, Callable[[list[str], list[str]], float]]
    corpus: dict[str, Callable[[list[str], list[list[str]]], float]]


class Language:
    """A language pack's defaults: a pack subclasses this and overrides what its language needs."""

    name: str = ""
    # The CodeFusion benchmark file of this language starts with this (`BashBenchmarks.json`), when there is one.
    codefusion: str | None = None
    # Whether the ranking picks the top answer by template consensus (minimum Bayes risk under `match`).
    consensus: bool = False
    # The command line that runs a piece of code (its last argument) in `cfusion eval --exec`'s sandbox; () when
    # the language's code does not run as a process of its own.
    interpreter: tuple[str, ...] = ()

    def valid(self, code: str) -> bool:
        """The code parses in its language; it is never executed."""
        raise NotImplementedError

    def usable(self, code: str) -> bool:
        """Valid and runs as written (Bash adds: no typographic quotes, no `<placeholder>`, no `$ ` prompt)."""
        return self.valid(code)

    def template(self, code: str) -> list[str]:
        """The tokens the consensus compares: by default the whitespace-separated words."""
        return code.split()

    def maskable_spans(self, code: str) -> list[tuple[int, int]]:
        """Sorted (start, end) character spans of identifiers and keywords, for code-specific pre-training."""
        return []

    def normalise(self, code: str) -> str:
        """The form exact match compares: whitespace runs become one space."""
        return normalise_space(code)

    def exact(self, pred: str, refs: list[str]) -> float:
        """1.0 iff pred equals some ref once both are normalised."""
        check_refs(refs)
        mine = self.normalise(pred)
        return float(bool(mine) and any(mine == self.normalise(ref) for ref in refs))

    def match(self, pred: str, refs: list[str]) -> float:
        """The language's main per-candidate metric in [0, 1] (the reranker learns it): exact match by default."""
        return self.exact(pred, refs)

    def metrics(self) -> Metrics:
        """The paper's metrics for this language, beside exact match, validity and diversity (cfusion.eval)."""
        return Metrics({}, {}, {})

    def values(self, code: str, request: str = "") -> list[tuple[str, int, int]]:
        """(kind, start, end) of the values in the code that a request may name, such as numbers and strings, for
        literal swapping in training (cfusion.data.augment); `request` may decide which names count. None by default."""
        return []

    def skeleton(self, request: str) -> str:
        """The request with its literals taken out, for recall's second query vector (default: unchanged)."""
        return request

    def rules(self, request: str, literals: bool = True) -> Rules:
        """The ranking rules this request brings (default: none). `literals`: carry its literals into commands."""
        return Rules()

    def effects(self, code: str) -> frozenset[str]:
        """What the code does that cannot be undone (default: nothing known)."""
        return frozenset()

    def explain(self, code: str):
        """The code's structure with what each part does and the findings on it (`cfusion explain`: parts with kind,
        title, start, end, help, source, children, findings and to_json), or None: this pack cannot explain."""
        return None

    def parse_error(self, code: str):
        """Where the code first fails to parse (with line, column, offset and message), or None."""
        return None

    def template_vector(self, code: str) -> Counter:
        """Counts of the code's template tokens (none for blank code)."""
        return Counter(self.template(code)) if code.strip() else Counter()

    def __repr__(self) -> str:
        return f"<language {self.name}>"


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def check_refs(refs: list[str]) -> None:
    if not refs:
        raise ValueError("refs is empty: each request needs at least one reference")


def template_cosine(pred: str, p: Counter, ref: str, r: Counter) -> float:
    """Template match of one prediction against one reference: the cosine of their template-token count vectors.
    An empty prediction scores 0; two empty templates match when the texts are equal but for spacing."""
    if not pred.strip():
        return 0.0
    if not p or not r:
        return float(not p and not r and normalise_space(pred) == normalise_space(ref))
    dot = sum(n * r[t] for t, n in p.items())
    return dot / math.sqrt(sum(n * n for n in p.values()) * sum(n * n for n in r.values()))


def template_cosines(codes: list[str], vecs: list[Counter]) -> np.ndarray:
    """All pairwise template_cosine values of `codes` (with their template vectors `vecs`) as one (n, n) matrix."""
    import numpy as np  # here, so that reading the registry (the CLI's --help) stays light

    vocab = {t: i for i, t in enumerate({t for v in vecs for t in v})}
    m = np.zeros((len(codes), max(1, len(vocab))))
    for i, v in enumerate(vecs):
        for t, n in v.items():
            m[i, vocab[t]] = n
    norm = np.linalg.norm(m, axis=1)
    out = (m @ m.T) / np.maximum(np.outer(norm, norm), 1e-12)
    for i, c in enumerate(codes):  # empty templates: template_cosine's special cases
        if not vecs[i] or not c.strip():
            for j, d in enumerate(codes):
                out[i, j] = template_cosine(c, vecs[i], d, vecs[j])
                out[j, i] = template_cosine(d, vecs[j], c, vecs[i])
    return out
