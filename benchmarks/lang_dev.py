"""Scores a language's model folder on a split, row by row: nearest neighbour, the model alone, the pipeline.

Usage: python benchmarks/lang_dev.py MODEL DATA.jsonl --lang python [--steps 10 20] [--rows nn,model,pipeline]
  [--recall 8] [--out results.json]

MODEL holds the model and the memory to recall from (for dev: a memory of the train split less dev, so that no dev
request is remembered). Rows, each k = 5, seed 0, on this machine's CPU:
- nn: the commands of the k nearest known requests (MiniLM cosine), nearest first: lookup, no model;
- nn-literals: the same, each command with the request's values carried in (the pack's edit stage);
- model@S: the diffusion model alone at S denoising steps, no recall;
- model-neighbours@S: a retrieval-aware model's own samples, reading the nearest recalled pairs (none shown);
- pipeline@S: the model's samples and the recalled commands, ranked as `cfusion gen` ranks them;
- pipeline-norerank@S: the same without the reranker (when the folder has one), to see what it adds.
The table prints last; --out keeps every metric.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cfusion import langs
from cfusion.core.bundle import load_model
from cfusion.data.pairs import read_pairs
from cfusion.eval.evaluate import evaluate, nearest_neighbour
from cfusion.eval.metrics import score_topk
from cfusion.pipeline.generator import Generator, load_recall
from cfusion.pipeline.rank import RankWeights

SHOWN = {
    "python": ["exact@1", "exact@5", "conala_bleu@1", "conala_bleu@5", "sacrebleu@1", "codebleu@1", "valid@1"],
    "cf": ["exec@1", "exec@3", "exec@5", "exact@1", "exact@5", "canon@1", "canon@5", "valid@1"],
}


def nearest(net, tok, memory, pairs, lang: str, k: int, literals: bool = False) -> dict:
    """The nn row; with `literals`, each known command takes the request's values as the pack's edit stage gives
    them (Rules.adapt)."""
    t0 = time.perf_counter()
    adapt = None
    if literals:

        def adapt(request, code, known):
            rule = langs.get(lang).rules(request).adapt
            return rule(code, known) if rule else code

    cands = nearest_neighbour(Generator(net, tok, "torch", False, memory), [p.nl for p in pairs], lang, k, adapt)
    metrics = score_topk(cands, [[p.code, *p.refs] for p in pairs], lang, cells=[p.cells for p in pairs])
    ms = 1000 * (time.perf_counter() - t0) / len(pairs)
    return {"metrics": {key: round(v, 2) for key, v in metrics.items()}, "ms_per_request": round(ms, 1)}


def own_samples(net, tok, memory, pairs, a, steps: int) -> dict:
    """The model-neighbours row: the samples alone, by votes then score, of a model reading its recalled pairs."""
    t0 = time.perf_counter()
    gen = Generator(net, tok, "torch", False, memory, int8=a.int8)
    cands = []
    for i in range(0, len(pairs), 16):
        for found, _ in gen.pools([p.nl for p in pairs[i : i + 16]], a.lang, a.k, steps, recall=a.recall):
            sampled = sorted((c for c in found if c.votes), key=lambda c: (-c.votes, -c.score))
            cands.append([c.code for c in sampled])
    metrics = score_topk(cands, [[p.code, *p.refs] for p in pairs], a.lang, cells=[p.cells for p in pairs])
    ms = 1000 * (time.perf_counter() - t0) / len(pairs)
    return {"metrics": {key: round(v, 2) for key, v in metrics.items()}, "ms_per_request": round(ms, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--lang", required=True)
    ap.add_argument("--steps", type=int, nargs="+", default=[10])
    ap.add_argument("--rows", default="nn,model,pipeline")
    ap.add_argument("--recall", type=int, default=8)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--int8", action="store_true", help="multiply in int8, as the CPU settings of cpu.json may")
    ap.add_argument("--consensus", choices=("pack", "on", "off"), default="pack", help="rank by template consensus")
    a = ap.parse_args()
    if a.consensus != "pack":
        type(langs.get(a.lang)).consensus = a.consensus == "on"
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    pairs = read_pairs(a.data, lang=a.lang)[: a.limit]
    net, tok, folder = load_model(a.model, "cpu")
    memory, reranker, sketch = load_recall(folder, net.minilm)
    weights = RankWeights.load(folder)
    rows = a.rows.split(",")
    results = {}
    if "nn" in rows and memory is not None:
        results["nn"] = nearest(net, tok, memory, pairs, a.lang, a.k)
    if "nn-literals" in rows and memory is not None:
        results["nn-literals"] = nearest(net, tok, memory, pairs, a.lang, a.k, literals=True)
    for steps in a.steps:
        if "model-neighbours" in rows and memory is not None:
            results[f"model-neighbours@{steps}"] = own_samples(net, tok, memory, pairs, a, steps)
        variants = []
        if "model" in rows:
            variants.append((f"model@{steps}", Generator(net, tok, "torch", False, int8=a.int8), 0))
        if "pipeline" in rows and memory is not None:
            variants.append(
                (
                    f"pipeline@{steps}",
                    Generator(net, tok, "torch", False, memory, reranker, sketch, weights, a.int8),
                    a.recall,
                )
            )
            if reranker is not None:
                g = Generator(net, tok, "torch", False, memory, None, sketch, weights, a.int8)
                variants.append((f"pipeline-norerank@{steps}", g, a.recall))
        for name, gen, recall in variants:
            _, res = evaluate(gen, pairs, a.lang, k=a.k, steps=steps, batch_size=64, recall=recall)
            results[name] = res
            print(name, json.dumps(res["metrics"]), flush=True)
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))
    keys = SHOWN.get(a.lang, ["exact@1", "exact@5", "valid@1"])
    products = "int8" if a.int8 else "fp32"
    print(f"\n{len(pairs)} {a.lang} requests from {a.data}, k = {a.k}, {products}, model {folder}")
    print("| row | " + " | ".join(keys) + " | ms/request |")
    print("|---" * (len(keys) + 2) + "|")
    for name, res in results.items():
        m = res["metrics"]
        print(f"| {name} | " + " | ".join(str(m.get(key, "")) for key in keys) + f" | {res['ms_per_request']} |")


if __name__ == "__main__":
    main()
