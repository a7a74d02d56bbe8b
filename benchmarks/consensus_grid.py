"""Template match @1 of the consensus under other weights, on saved candidate pools of the Bash test split.

`dump` runs the shipped generator over the test pairs (k = 5, batches and seeds as `cfusion eval` makes them) and
saves each request's candidates as `rank_candidates` receives them: the recalled pairs with their similarity and
reranker score, the model's samples, and the request's sketch. One gzipped pickle per seed, OUT/pools_sSEED.pkl.gz.
On CUDA the three seeds of the split take about 40 s (one H100); on a 2-core CPU one seed takes about 45 min.
`grid` ranks the saved pools again, as `gen` does (the sketch, the fits bonus, literals carried in), with
`cfusion.generate`'s consensus constants set to other values, and prints template match @1 on the even-numbered
requests, the odd-numbered ones and, in brackets, its change over the shipped constants on all, for each seed: a
setting is better only if it wins on every seed and both halves. RESULTS.md, "Template match @1".

    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py dump .carry/bash_test.jsonl pools --device cuda --seeds 0,1,2
    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py grid pools
"""

import argparse
import dataclasses
import gzip
import pickle
import time
from pathlib import Path

import numpy as np
import torch

from cfusion import generate
from cfusion.bundle import installed_model, load_model
from cfusion.data import read_pairs
from cfusion.metrics import template_match

GRID = {  # constant -> values tried beside the shipped one
    "SAMPLE_WEIGHT": [20.0, 60.0],
    "RECALL_WEIGHT": [1.5, 6.0],
    "RERANK_WEIGHT": [60.0, 120.0],
    "RERANK_TEMPERATURE": [0.4, 0.7],
    "EXTRA_PENALTY": [0.5, 2.0],
    "SKETCH_WEIGHT": [10.0, 30.0],
    "SHARED_WEIGHT": [0.5, 1.5],
}


def dump(
    data: Path,
    out: Path,
    limit: int | None,
    device: str,
    seeds: list[int],
    k: int = 5,
    steps: int = generate.DEFAULT_STEPS,
) -> None:
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(installed_model("bash"), device)
    memory, reranker, sketch = generate.load_recall(folder, net.minilm)
    g = generate.Generator(net, tok, memory=memory, reranker=reranker, sketch=sketch)
    pairs = read_pairs(data, lang="bash")[:limit]
    batch = 256 if g.device.type == "cuda" else 64  # as `cfusion eval --batch-size` is set on each
    rank = generate.rank_candidates
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        pools: list = []

        def saved(cands, lang, sketch=None, *rest, pools=pools):
            pools.append((list(cands), sketch))
            return rank(cands, lang, sketch, *rest)

        generate.rank_candidates = saved  # the generator looks it up in its module on each call
        t0 = time.perf_counter()
        try:
            for i in range(0, len(pairs), batch):
                g.generate(
                    [p.nl for p in pairs[i : i + batch]],
                    "bash",
                    k=k,
                    steps=steps,
                    seed=seed + i,
                )
        finally:
            generate.rank_candidates = rank
        rows = [
            {"nl": p.nl, "refs": [p.code, *p.refs], "pool": pool, "sketch": sk}
            for p, (pool, sk) in zip(pairs, pools, strict=True)
        ]
        with gzip.open(out / f"pools_s{seed}.pkl.gz", "wb") as f:
            pickle.dump(rows, f)
        print(f"seed {seed}: {len(rows)} pools in {time.perf_counter() - t0:.1f} s", flush=True)


def top(row: dict) -> str:
    """The top answer `gen` gives for a saved pool under the module's current constants, literals carried in."""
    pool = [dataclasses.replace(c) for c in row["pool"]]  # rank_candidates sets `fits` on the candidates
    return generate.answers(pool, row["nl"], "bash", 1, row["sketch"])[0].code


def scores(rows: list[dict]) -> np.ndarray:
    """Template match of each request's top answer."""
    return np.array([template_match(top(r), r["refs"]) for r in rows])


def grid(folder: Path) -> None:
    seeds = {p.name: pickle.load(gzip.open(p)) for p in sorted(folder.glob("pools_s*.pkl.gz"))}
    shipped = {name: scores(rows) for name, rows in seeds.items()}
    print(f"template match @1 by seed ({', '.join(seeds)}): even / odd (change on all)")

    def show(label: str) -> None:
        cells = []
        for name, rows in seeds.items():
            s = scores(rows)
            change = 100 * (s - shipped[name]).mean()
            cells.append(f"{100 * s[0::2].mean():6.2f} / {100 * s[1::2].mean():6.2f} ({change:+.2f})")
        print(f"{label:32s} " + "   ".join(cells), flush=True)

    show("shipped")
    for name, values in GRID.items():
        was = getattr(generate, name)
        for v in values:
            setattr(generate, name, v)
            show(f"{name} = {v} (ships {was})")
        setattr(generate, name, was)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("data", type=Path)
    d.add_argument("out", type=Path, help="a folder for pools_sSEED.pkl.gz")
    d.add_argument("--limit", type=int)
    d.add_argument("--device", default="cpu")
    d.add_argument("--seeds", default="0", help="comma-separated sampling seeds")
    d.add_argument("-k", type=int, default=5, help="samples per request (the pool's)")
    d.add_argument("--steps", type=int, default=generate.DEFAULT_STEPS, help="denoising steps (default: gen's)")
    sub.add_parser("grid").add_argument("pools", type=Path, help="the folder `dump` wrote")
    a = p.parse_args()
    if a.cmd == "dump":
        dump(a.data, a.out, a.limit, a.device, [int(s) for s in a.seeds.split(",")], a.k, a.steps)
    else:
        grid(a.pools)
