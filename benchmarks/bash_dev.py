"""Issue 36's ablation on the Bash dev sets: each row k = 5, seed 0, on this machine's CPU, in one run.

Usage: python benchmarks/bash_dev.py MODEL DATA [DATA ...] [--rows nn,nn-literals,model,pipeline]
  [--steps 4] [--fp32] [--device cuda] [--limit N] [--no-exec] [--out results.json]
       python benchmarks/bash_dev.py results.json --rescore     # execution match of candidates saved elsewhere

MODEL must be a dev folder: a model and a memory that never saw the dev requests (`benchmarks/make_bash_data.py`
writes the data; MODEL.md says how the dev model is trained). DATA: JSONL pairs, or a .tsv of requests and
right commands such as benchmarks/data/exec_everyday_dev.tsv. Rows:
- nn: the commands of the nearest known requests (MiniLM cosine over the request), nearest first, as known;
- nn-literals: the same commands with the request's literals carried in (the Bash pack's `adapt`);
- model: the diffusion model alone, empty memory;
- model-neighbours: a retrieval-aware model's own samples, reading the nearest recalled pairs (none shown);
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
from cfusion.data.pairs import Pair, read_pairs
from cfusion.eval.evaluate import evaluate, nearest_neighbour
from cfusion.eval.execution import Runner
from cfusion.eval.execution import score as score_exec
from cfusion.eval.metrics import score_topk
from cfusion.pipeline.generator import Generator, load_recall
from cfusion.pipeline.rank import RankWeights

SHOWN = ["template_match@1", "template_match@5", "exact@1", "nlc2cmd@1", "valid@1", "exec@1", "exec@5"]


def read_tsv(path: Path) -> list[Pair]:
    """request<TAB>command[<TAB>another right command ...] a line; `#` lines are comments."""
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [Pair(r[0], r[1], "bash", f"{path.stem}:{i}", tuple(r[2:])) for i, r in enumerate(rows)]


def run_rows(a, folder_arg: Path) -> tuple[dict, dict, Path]:
    """Each set's rows: metrics by "set/row", and the candidates and references they were scored on."""
    int8 = not a.fp32 and a.device == "cpu"
    net, tok, folder = load_model(folder_arg, a.device)
    memory, reranker, sketch = load_recall(folder, net.minilm)
    weights = RankWeights.load(folder)
    results: dict[str, dict] = {}
    saved: dict[str, dict] = {}
    for data in a.data:
        pairs = (read_tsv(data) if data.suffix == ".tsv" else read_pairs(data, lang="bash"))[: a.limit]
        refs = [[p.code, *p.refs] for p in pairs]
        for name in a.rows.split(","):
            t0 = time.perf_counter()
            if name.startswith("nn"):
                gen = Generator(net, tok, "torch", False, memory)
                carry = (
                    (lambda nl, code, known: langs.get("bash").rules(nl).adapt(code, known)) if "lit" in name else None
                )
                cands = nearest_neighbour(gen, [p.nl for p in pairs], "bash", a.k, carry)
                ms = 1000 * (time.perf_counter() - t0) / len(pairs)
            elif name == "model-neighbours":
                gen = Generator(net, tok, "torch", False, memory, None, None, weights, int8)
                cands = []
                for i in range(0, len(pairs), 16):
                    found = gen.pools([p.nl for p in pairs[i : i + 16]], "bash", a.k, a.steps, recall=a.recall)
                    for cs, _ in found:
                        sampled = sorted((c for c in cs if c.votes), key=lambda c: (-c.votes, -c.score))
                        cands.append([c.code for c in sampled])
                ms = 1000 * (time.perf_counter() - t0) / len(pairs)
            else:
                recall = 0 if name == "model" else a.recall
                rr = None if name == "pipeline-norerank" else reranker
                gen = Generator(net, tok, "torch", False, memory, rr, sketch, weights, int8)
                preds, res = evaluate(
                    gen, pairs, "bash", k=a.k, steps=a.steps, recall=recall, literals=name != "pipeline-noliterals"
                )
                cands, ms = [[c["code"] for c in p["candidates"]] for p in preds], res["ms_per_request"]
            key = f"{data.stem}/{name}"
            results[key] = {"n": len(pairs), "ms_per_request": round(ms, 1), **score_topk(cands, refs, "bash")}
            saved[key] = {"cands": cands, "refs": refs}
            print(data.stem, name, f"{time.perf_counter() - t0:.0f} s", json.dumps(results[key]))
    return results, saved, folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", type=Path, help="a dev model folder, or with --rescore a file that --out wrote")
    ap.add_argument("data", type=Path, nargs="*")
    ap.add_argument("--rows", default="nn,nn-literals,model,pipeline,pipeline-noliterals")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--fp32", action="store_true", help="float32 products (default: int8, as the CPU runs)")
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (bf16, as gen runs there; no int8)")
    ap.add_argument("--recall", type=int, default=30)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-exec", action="store_true", help="skip execution match (a machine without bubblewrap)")
    ap.add_argument("--rescore", action="store_true", help="add execution match to the candidates --out saved")
    ap.add_argument("--out", type=Path, default=None, help="metrics and candidates, as JSON")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    if a.rescore:
        stored = json.loads(a.model.read_text())
        results, saved, label = stored["results"], stored["candidates"], stored["label"]
    else:
        results, saved, folder = run_rows(a, a.model)
        products = "float32" if a.fp32 or a.device != "cpu" else "int8"
        label = f"model {folder}, {a.device}, k = {a.k}, {a.steps} steps, {products}, recall {a.recall}"
    if not a.no_exec:
        runner = Runner(langs.get("bash").interpreter)
        for key, c in saved.items():
            results[key].update(score_exec(c["cands"], c["refs"], runner))
    if a.out:
        a.out.write_text(json.dumps({"label": label, "results": results, "candidates": saved}))
    print(f"\n{label}; exec over runnable requests")
    print("| set | row | n | exec n | " + " | ".join(SHOWN) + " | ms/request |")
    print("|---" * (len(SHOWN) + 5) + "|")
    for key, r in results.items():
        data, name = key.split("/")
        vals = " | ".join(f"{r[m]:.2f}" if m in r else "-" for m in SHOWN)
        print(f"| {data} | {name} | {r['n']} | {r.get('exec_n', '-')} | {vals} | {r['ms_per_request']} |")


if __name__ == "__main__":
    main()
