"""A candidate answer: its code and the evidence the ranking read (where it came from, scores, literals, effects)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Candidate:
    code: str
    score: float | None  # mean log-probability of the sampled tokens up to the first pad; None if only recalled
    votes: int  # how many of the k samples gave this code (0: recalled only)
    valid: bool  # parses in its language and runs as written (Language.usable); never executed
    similarity: float | None = None  # cosine similarity of the request to the known request it was recalled from
    known: str | None = None  # that known request
    rerank: float | None = None  # the reranker's score of the recalled pair for this request (cfusion.recall)
    extra: bool = False  # recalled from one of the memory's extra pairs (cfusion.recall.memory)
    shared: float = 0.0  # the rarity of the words the request shares with this recalled command (Memory.shared)
    fits: float = 0.0  # the language's fits bonus (Rules.fits), asked only of candidates it could lift to the top
    consensus: float | None = None  # the consensus score the ranking gave it, where it ran (fits bonus included)
    adapted_from: str | None = None  # the recalled command before the request's literals were carried in
    effects: tuple[str, ...] = ()  # what the command does that cannot be undone (Rules.effects), when shown
    unasked: tuple[str, ...] = ()  # those of its effects the request did not ask for
    findings: tuple[dict, ...] = ()  # the language's findings behind them, each with the part of the code responsible

    @property
    def source(self) -> str:
        if self.similarity is None:
            return "model"
        return "both" if self.votes else "memory"

    def to_json(self) -> dict:
        out = {"code": self.code, "source": self.source, "votes": self.votes, "valid": self.valid}
        out["score"] = None if self.score is None else round(self.score, 4)
        if self.similarity is not None:
            out.update(similarity=round(self.similarity, 4), known=self.known)
        if self.rerank is not None:
            out["rerank"] = round(self.rerank, 4)
        if self.extra:
            out["extra"] = True
        if self.shared:
            out["shared"] = round(self.shared, 2)
        if self.fits:
            out["fits"] = round(self.fits, 4)
        if self.consensus is not None:
            out["consensus"] = round(self.consensus, 4)
        if self.adapted_from is not None:
            out["adapted_from"] = self.adapted_from
        if self.effects:
            out.update(effects=list(self.effects), unasked=list(self.unasked))
        if self.findings:
            out["findings"] = [dict(f) for f in self.findings]
        return out
