"""The neighbours a retrieval-aware model trains with: each training pair's nearest known pairs, retrieved
leave-one-out from what gen's memory would hold (the training pairs and any extra pairs), never the pair itself."""

from __future__ import annotations

import random

import torch

from cfusion.core.tokenizer import RequestTokenizer
from cfusion.recall.memory import encode_sentences

Pair = tuple[str, str]  # (request, code)


def leave_one_out(vectors: torch.Tensor, own: list[int], r: int, chunk: int = 1024) -> list[list[int]]:
    """For each query row i of the pool `vectors` (N, d, unit length) named by own[i], the r most similar other
    rows, nearest first: cosine search with the query's own row excluded."""
    out: list[list[int]] = []
    r = min(r, vectors.shape[0] - 1)
    for s in range(0, len(own), chunk):
        rows = torch.tensor(own[s : s + chunk], dtype=torch.long)
        sims = vectors[rows] @ vectors.T
        sims[torch.arange(len(rows)), rows] = float("-inf")
        out += sims.topk(r, dim=1).indices.tolist() if r > 0 else [[] for _ in rows]
    return out


def request_vectors(model, texts: list[str]) -> torch.Tensor:
    """Unit MiniLM sentence vectors of texts, as a memory holds them: by the model's own MiniLM, or for a model with
    the scratch encoder (tests' tiny models) by one loaded for the search alone."""
    minilm = model.minilm
    if minilm is None:
        from cfusion.core.minilm import load_minilm

        minilm = load_minilm().eval()
    return encode_sentences(minilm, RequestTokenizer(model.cfg.max_request_len), texts)


def recall_neighbours(model, examples: list[Pair], extra: list[Pair], r: int) -> list[list[Pair]]:
    """Each example's r nearest pairs among the examples and `extra` (kept once each, as Memory.build keeps them),
    by MiniLM sentence vectors of their requests; an example's own pair is never among its neighbours."""
    pool = list(dict.fromkeys([*examples, *extra]))
    where = {p: i for i, p in enumerate(pool)}
    vectors = request_vectors(model, [nl for nl, _ in pool])
    near = leave_one_out(vectors, [where[p] for p in examples], r)
    return [[pool[j] for j in js] for js in near]


def drop(pairs: list[Pair], rng: random.Random, r: int) -> list[Pair]:
    """The nearest few of a pair's neighbours: all r half the time, otherwise 0..r-1 of them, so the model also
    answers with a short memory or an empty one (the model alone)."""
    return pairs[: r if rng.random() < 0.5 else rng.randrange(r)]
