"""The rank stage: order one request's candidates and choose the first answer.

Valid candidates come first (the top answer parses whenever any candidate does): recalled ones by similarity, then
sampled ones by score. The first answer is then:
- the command of a known request at least `same_request` similar, when there is one and it is valid;
- otherwise the most similar valid recalled command whose known request asks the same but for its literals
  (Rules.same), when the language says so of one;
- otherwise, for a language that ranks by consensus, the valid candidate (a recalled one, when any is valid) whose
  template agrees most with all the others, each weighted by RankWeights (a minimum-Bayes-risk choice under the
  template metric), plus the sketch's and the shared words' votes and the fits bonus (Rules.fits).
A candidate that Rules.safe rejects answers first in none of these ways while another valid one can, and follows
the others in the list. Ranking returns new candidates carrying their evidence; it never changes its input.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cfusion import langs
from cfusion.errors import CheckpointError
from cfusion.langs import Language, Rules
from cfusion.langs.base import template_cosines
from cfusion.pipeline.candidate import Candidate
from cfusion.recall.sketch import agreement as sketch_agreement

RANK_FILE = "rank.json"


@dataclass(frozen=True)
class RankWeights:
    """The ranking's weights, stored with the model in `rank.json` with the split they were tuned on."""

    sample: float = 40.0  # the k samples' share of the consensus, split by votes
    recall: float = 3.0  # a recalled pair's weight in the consensus, per unit of similarity
    same_request: float = 0.95  # a known request at least this similar answers the new one as it stands
    rerank: float = 80.0  # the reranker's share of the consensus: this times softmax(score / rerank_temperature)
    rerank_temperature: float = 0.5  # over the recalled candidates
    extra_penalty: float = 0.5  # an extra memory pair's reranker score counts this much less
    sketch: float = 20.0  # the sketch's share of the consensus, times its template cosine
    shared: float = 1.0  # per unit of rarity of the words a request shares with a recalled main pair's command
    fits: float = 6.0  # times the language's fits bonus (Rules.fits)
    # An answer is confident when a known request is at least this similar, or this share of the samples agree.
    confident_similarity: float = 0.45
    confident_votes: float = 0.6
    # Where these weights were chosen: one text for all, or weight name -> the sets that chose it.
    tuned_on: str | dict[str, str] = "untuned defaults"

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "tuned_on" and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError(f"RankWeights.{f.name} must be a finite number, got {value!r}")
        if isinstance(self.tuned_on, dict):
            names = {f.name for f in dataclasses.fields(self)} - {"tuned_on"}
            if unknown := set(self.tuned_on) - names:
                raise ValueError(f"RankWeights.tuned_on names no such weight: {', '.join(sorted(unknown))}")
        elif not isinstance(self.tuned_on, str):
            raise ValueError(f"RankWeights.tuned_on must be a text or a mapping, got {self.tuned_on!r}")
        if self.rerank_temperature <= 0:
            raise ValueError(f"RankWeights.rerank_temperature must be positive, got {self.rerank_temperature!r}")

    def chosen_on(self, name: str) -> str:
        """The sets weight `name` was chosen on."""
        return self.tuned_on.get(name, "untuned default") if isinstance(self.tuned_on, dict) else self.tuned_on

    @classmethod
    def load(cls, folder: Path) -> RankWeights:
        """The weights in a model folder's rank.json; the defaults when it has none."""
        path = Path(folder) / RANK_FILE
        if not path.exists():
            return cls()
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as e:
            raise CheckpointError(f"bad ranking weights in {path}: {e}") from None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"


def consensus_weights(cands: list[Candidate], w: RankWeights) -> np.ndarray:
    """Each candidate's weight in the consensus: its share of `w.sample` by its votes, `w.recall` x its similarity
    and, for the candidates the reranker scored (the recalled ones), `w.rerank` x the reranker's softmax over them,
    where an extra pair's score counts `w.extra_penalty` less."""
    votes = np.array([c.votes for c in cands], dtype=float)
    out = w.sample * votes / max(1.0, votes.sum()) + w.recall * np.array([c.similarity or 0.0 for c in cands])
    scored = np.array([c.rerank is not None for c in cands])
    if scored.any():
        r = np.array([c.rerank - w.extra_penalty * c.extra if c.rerank is not None else 0.0 for c in cands])
        r = r / w.rerank_temperature
        p = np.where(scored, np.exp(r - r[scored].max()), 0.0)
        out = out + w.rerank * p / p.sum()
    return out


def rank(
    cands: list[Candidate],
    lang: str,
    weights: RankWeights = RankWeights(),
    rules: Rules = Rules(),
    edited: Callable[[Candidate], str] | None = None,
    sketch: dict[str, float] | None = None,
) -> list[Candidate]:
    """The candidates of language `lang` in answer order (module docstring). `rules`: the request's (Language.rules);
    `edited(c)`: c's command with the request's literals carried in (the edit stage), which the fits bonus reads;
    `sketch`: the sketch's template-token probabilities."""
    pack = langs.get(lang)
    recalled = sorted((c for c in cands if c.similarity is not None), key=lambda c: -c.similarity)
    sampled = sorted((c for c in cands if c.similarity is None), key=lambda c: (-c.score, -c.votes, c.code))
    order = sorted(recalled + sampled, key=lambda c: not c.valid)
    safe = rules.safe or (lambda code: True)
    evidence: dict[int, dict] = {}
    if recalled and recalled[0].similarity >= weights.same_request and recalled[0].valid and safe(recalled[0].code):
        best = recalled[0]
    elif rules.same is not None and (
        twin := next((c for c in recalled if c.valid and rules.same(c.known) and safe(c.code)), None)
    ):
        best = twin
    elif pack.consensus and len(order) > 1:
        best, evidence = _consensus(order, pack, weights, rules, edited, sketch)
    else:
        return order
    out = [best] + sorted((c for c in order if c is not best), key=lambda c: not safe(c.code))  # stable
    return [dataclasses.replace(c, **evidence[id(c)]) if id(c) in evidence else c for c in out]


def _consensus(
    order: list[Candidate], lang: Language, weights: RankWeights, rules: Rules, edited, sketch
) -> tuple[Candidate, dict[int, dict]]:
    """The consensus choice among `order` (rank's docstring), and each candidate's evidence (its consensus score and
    fits bonus) by id.

    A sample with no known request behind it votes, but answers first only when no recalled command is valid: its
    template can sit between the recalled ones' (`tail data.csv | head -` between `head` and `tail`)."""
    safe = rules.safe or (lambda code: True)
    pool = [c for c in order if c.valid and c.similarity is not None] or [c for c in order if c.valid] or order
    pool = [c for c in pool if safe(c.code)] or [c for c in order if c.valid and safe(c.code)] or pool
    codes = [c.code for c in order]
    agreement = template_cosines(codes, [lang.template_vector(c) for c in codes]) @ consensus_weights(order, weights)
    agreement = agreement + weights.shared * np.array([c.shared for c in order])
    if sketch:
        agreement = agreement + weights.sketch * sketch_agreement(codes, sketch, lang)
    score = {id(c): round(a, 9) for c, a in zip(order, agreement.tolist())}  # equal templates tie exactly
    fitted: dict[int, float] = {}
    if rules.fits is not None:  # adapting every recalled command costs more than the few the bonus could decide
        edited = edited or (lambda c: c.code)
        reach = -math.inf  # the best score with its bonus so far; the bonus may be negative, so the top may fall
        for c in sorted(pool, key=lambda c: -score[id(c)]):
            if score[id(c)] + weights.fits < reach:
                break  # neither this one nor any after it can reach the best, even with a full bonus
            if c.similarity is not None:
                fitted[id(c)] = rules.fits(c.code, lambda c=c: edited(c))
                score[id(c)] = round(score[id(c)] + weights.fits * fitted[id(c)], 9)
            reach = max(reach, score[id(c)])
    evidence = {
        id(c): {"consensus": score[id(c)], **({"fits": fitted[id(c)]} if id(c) in fitted else {})} for c in order
    }
    return max(pool, key=lambda c: score[id(c)]), evidence


def confident(cands: list[Candidate], k: int, weights: RankWeights) -> bool:
    """Whether one request's answers deserve trust: something recalled is similar to the request, or the model's k
    samples mostly agree (RankWeights.confident_*). Neither holds for a request unlike any known one that the model
    answers differently each draw, such as a random string."""
    best = max((c.similarity for c in cands if c.similarity is not None), default=0.0)
    votes = max((c.votes for c in cands), default=0)
    return best >= weights.confident_similarity or votes >= weights.confident_votes * k
