"""Issue 36's ablation on the Bash dev sets: each row k = 5, seed 0, on this machine's CPU, in one run.

Usage: python benchmarks/bash_dev.py MODEL DATA [DATA ...] [--rows nn,nn-literals,model,pipeline]
  [--steps 4] [--fp32] [--limit N] [--out results.json]

MODEL must be a dev folder: a model and a memory that never saw the dev requests (`benchmarks/make_bash_data.py`
writes the data; MODEL.md says how the dev model is trained). DATA: JSONL pairs, or a .tsv of requests and
right commands such as benchmarks/data/exec_everyday_dev.tsv. Rows:
- nn: the commands of the nearest known requests (MiniLM cosine over the request), nearest first, as known;
- nn-literals: the same commands with the request's literals carried in (the Bash pack's `adapt`);
- model: the diffusion model alone, empty memory;
- pipeline: what `cfusion gen` does (recall 30, reranker, sketch, rules, literals);
- pipeline-noliterals / pipeline-norerank: the pipeline without literal carrying / without the reranker.
Metrics: template match @1 / @5, exact @1, NLC2CMD @1, valid @1, and execution match @1 / @5 (`cfusion eval
--exec`'s sandbox) over the requests whose reference runs meaningfully there. The table prints last.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cfusion import langs
from cfusion.core.bundle import load_model
from cfusion.core.features import Featurizer
from cfusion.data.pairs import Pair, read_pairs
from cfusion.eval.evaluate import evaluate
from cfusion.eval.execution import Runner
from cfusion.eval.execution import score as score_exec
from cfusion.eval.metrics import score_topk
from cfusion.pipeline.generator import Generator, load_recall
from cfusion.pipeline.rank import RankWeights
from cfusion.recall.memory import sentence_vectors

SHOWN = ["template_match@1", "template_match@5", "exact@1", "nlc2cmd@1", "valid@1", "exec@1", "exec@5"]


def read_tsv(path: Path) -> list[Pair]:
    """request<TAB>command[<TAB>another right command ...] a line; `#` lines are comments."""
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [Pair(r[0], r[1], "bash", f"{path.stem}:{i}", tuple(r[2:])) for i, r in enumerate(rows)]


def nearest(net, tok, memory, pairs, k: int, literals: bool) -> tuple[list[list[str]], float]:
    t0 = time.perf_counter()
    pack = langs.get("bash")
    queries = sentence_vectors(net, Featurizer(net.cfg, tok), [p.nl for p in pairs])
    _, idx = memory.search(queries, 4 * k, "bash")
    cands = []
    for p, row in zip(pairs, idx.tolist()):
        adapt = pack.rules(p.nl).adapt if literals else None
        codes = [adapt(memory.codes[j], memory.requests[j]) if adapt else memory.codes[j] for j in row]
        cands.append(list(dict.fromkeys(codes))[:k])  # one candidate per distinct command, nearest first
    return cands, 1000 * (time.perf_counter() - t0) / len(pairs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path)
    ap.add_argument("data", type=Path, nargs="+")
    ap.add_argument("--rows", default="nn,nn-literals,model,pipeline,pipeline-noliterals")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--fp32", action="store_true", help="float32 products (default: int8, as the CPU runs)")
    ap.add_argument("--recall", type=int, default=30)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    int8 = not a.fp32
    net, tok, folder = load_model(a.model, "cpu")
    memory, reranker, sketch = load_recall(folder, net.minilm)
    weights = RankWeights.load(folder)
    runner = Runner(langs.get("bash").interpreter)
    results: dict[str, dict] = {}
    for data in a.data:
        pairs = (read_tsv(data) if data.suffix == ".tsv" else read_pairs(data, lang="bash"))[: a.limit]
        refs = [[p.code, *p.refs] for p in pairs]
        for name in a.rows.split(","):
            t0 = time.perf_counter()
            if name.startswith("nn"):
                cands, ms = nearest(net, tok, memory, pairs, a.k, literals=name == "nn-literals")
            else:
                recall = 0 if name == "model" else a.recall
                rr = None if name == "pipeline-norerank" else reranker
                gen = Generator(net, tok, "torch", False, memory, rr, sketch, weights, int8)
                preds, res = evaluate(
                    gen, pairs, "bash", k=a.k, steps=a.steps, recall=recall, literals=name != "pipeline-noliterals"
                )
                cands, ms = [[c["code"] for c in p["candidates"]] for p in preds], res["ms_per_request"]
            metrics = score_topk(cands, refs, "bash")
            metrics.update(score_exec(cands, refs, runner))
            results[f"{data.stem}/{name}"] = {"n": len(pairs), "ms_per_request": round(ms, 1), **metrics}
            print(data.stem, name, f"{time.perf_counter() - t0:.0f} s", json.dumps(results[f"{data.stem}/{name}"]))
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))
    products = "float32" if a.fp32 else "int8"
    print(f"\nmodel {folder}, k = {a.k}, {a.steps} steps, {products}, recall {a.recall}; exec over runnable requests")
    print("| set | row | n | exec n | " + " | ".join(SHOWN) + " | ms/request |")
    print("|---" * (len(SHOWN) + 5) + "|")
    for key, r in results.items():
        data, name = key.split("/")
        vals = " | ".join(f"{r[m]:.2f}" for m in SHOWN)
        print(f"| {data} | {name} | {r['n']} | {r['exec_n']} | {vals} | {r['ms_per_request']} |")


if __name__ == "__main__":
    main()
