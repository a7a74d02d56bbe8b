"""Scores a model on a JSONL test set with the paper's metrics at top-1/3/5; writes predictions and metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from cfusion.core.checkpoint import write_json_atomic, write_text_atomic
from cfusion.data.pairs import Pair
from cfusion.eval.metrics import score_topk
from cfusion.pipeline.generator import Generator


def evaluate(
    gen: Generator,
    pairs: list[Pair],
    lang: str,
    k: int = 5,
    steps: int = 50,
    seed: int = 0,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    clamp: bool = True,
    recall: int = 0,
    literals: bool = True,
) -> tuple[list[dict], dict]:
    """Generates k candidates per request in batches, then scores them against each request's references."""
    predictions = []
    t0 = time.perf_counter()
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        answers = gen.generate(
            [p.nl for p in chunk], lang, k=k, steps=steps, seed=seed + i, clamp=clamp, recall=recall, literals=literals
        )
        for p, cands in zip(chunk, answers):
            predictions.append(
                {
                    "id": p.id,
                    "nl": p.nl,
                    "refs": [p.code, *p.refs],
                    **({"cells": list(p.cells)} if p.cells else {}),
                    "candidates": [c.to_json() for c in cands],
                }
            )
        if progress:
            progress(len(chunk))
    seconds = time.perf_counter() - t0
    candidates = [[c["code"] for c in p["candidates"]] for p in predictions]
    metrics = score_topk(candidates, [p["refs"] for p in predictions], lang, cells=[p.cells for p in pairs])
    metrics = {key: round(v, 2) for key, v in metrics.items()}
    run = {
        "lang": lang,
        "n": len(pairs),
        "k": k,
        "steps": steps,
        "seed": seed,
        "clamp": clamp,
        "recall": recall if gen.memory is not None else 0,
        "literals": literals,
        "seconds": round(seconds, 1),
        "ms_per_request": round(1000 * seconds / max(1, len(pairs)), 1),
    }
    return predictions, {**run, "metrics": metrics}


def nearest_neighbour(
    gen: Generator, requests: list[str], lang: str, k: int, adapt: Callable[[str, str, str], str] | None = None
) -> list[list[str]]:
    """The nearest-neighbour baseline over the generator's memory: per request, the codes of its nearest known
    requests (MiniLM cosine), one candidate per distinct code, nearest first; `adapt(request, code, known_request)`,
    when given, rewrites each (the Bash pack's literal carrying)."""
    from cfusion.recall.memory import sentence_vectors

    queries = sentence_vectors(gen.model, gen.feat, requests)
    _, idx = gen.memory.search(queries, 4 * k, lang)
    m = gen.memory
    out = []
    for request, row in zip(requests, idx.tolist()):
        codes = [adapt(request, m.codes[j], m.requests[j]) if adapt else m.codes[j] for j in row]
        out.append(list(dict.fromkeys(codes))[:k])
    return out


def write_results(out: Path, predictions: list[dict], metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "predictions.jsonl", "".join(json.dumps(p) + "\n" for p in predictions))
    write_json_atomic(out / "metrics.json", metrics)
