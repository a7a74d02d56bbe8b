"""The recall stage: the known pairs nearest a request, and the reranker's score of each for this request.

The model folder's memory holds known (request, code) pairs with MiniLM sentence vectors; a request's own vector
finds its nearest ones (cosine). A request that quotes text also searches with its skeleton (Language.skeleton), so
that the quoted text does not outweigh what the request asks. The reranker (cfusion.recall.reranker) reads the
request beside each recalled pair and scores whether that command answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cfusion.langs import Language
from cfusion.pipeline.candidate import Candidate
from cfusion.recall.memory import Memory
from cfusion.recall.reranker import Reranker, known_side, pair_batch, score_pairs

REPLAY_PAIRS = 256  # the most reranker pairs replayed from a CUDA graph (8 requests at recall 30)


@dataclass(frozen=True)
class Known:
    """A recalled pair: its similarity to the request, the known request, whether it is an extra pair, its row."""

    similarity: float
    request: str
    extra: bool
    row: int


def queries(
    requests: list[str], vectors: torch.Tensor, lang: Language, encode: Callable[[list[str]], torch.Tensor]
) -> torch.Tensor:
    """Recall's query vectors: a request whose skeleton differs from it (it quotes text) searches with the normalised
    sum of its own vector and its skeleton's (`encode`: one more MiniLM pass, mean-pooled); the others with their
    own vectors."""
    shapes = [lang.skeleton(r) for r in requests]
    rows = [i for i, (r, s) in enumerate(zip(requests, shapes)) if r != s]
    if not rows:
        return vectors
    out = vectors.clone()
    out[rows] = F.normalize(vectors[rows] + encode([shapes[i] for i in rows]), dim=-1)
    return out


def search(memory: Memory, queries: torch.Tensor, r: int, lang: str) -> list[dict[str, Known]]:
    """Per request, code -> the nearest known pair with that code among the r nearest pairs of `lang`."""
    sims, near = memory.search(queries, r, lang)
    out: list[dict[str, Known]] = []
    for ss, js in zip(sims.tolist(), near.tolist()):
        mine: dict[str, Known] = {}
        for sim, j in zip(ss, js):
            if memory.codes[j] not in mine:
                mine[memory.codes[j]] = Known(sim, memory.requests[j], memory.extra[j], j)
        out.append(mine)
    return out


def rerank(
    reranker: Reranker, req_tok, requests: list[str], recalled: list[dict[str, Known]], replay=None, rows: int = 0
) -> torch.Tensor:
    """The reranker's scores of every recalled pair, request by request in recall order, left on its device.
    `replay`: the reranker replayed from a CUDA graph over `rows` pairs of its full length, used when the pairs fit
    (padding pairs are one token long and dropped); large batches run eagerly, where padding costs more than the
    launches save."""
    knowns = [known_side(reranker.cfg, k.request, code) for mine in recalled for code, k in mine.items()]
    firsts = [requests[r] for r, mine in enumerate(recalled) for _ in mine]
    if replay is None or rows > REPLAY_PAIRS:
        return score_pairs(reranker, req_tok, firsts, knowns)
    n = len(firsts)
    pieces = req_tok.pieces(firsts + knowns)
    pairs = pair_batch(req_tok, pieces[:n], pieces[n:], reranker.cfg.max_len, reranker.head.weight.device, rows)
    return replay(*pairs)[:n].float()


def join(found: dict[str, Candidate], request: str, mine: dict[str, Known], memory: Memory, scores, usable) -> None:
    """Adds the recalled pairs to a request's sampled candidates (`found`, by code), with their evidence; `scores`:
    an iterator over the reranker's scores in recall order, or None."""
    for code, k in mine.items():
        c = found.get(code)
        if c is None:
            c = found[code] = Candidate(code, None, 0, usable(code))
        c.similarity, c.known, c.extra, c.shared = k.similarity, k.request, k.extra, memory.shared(request, k.row)
        if scores is not None:
            c.rerank = next(scores)
