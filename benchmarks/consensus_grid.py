"""Template match @1 of the consensus under other weights, on saved candidate pools of the Bash test split.

`dump` runs the shipped generator over the test pairs (k = 5, CPU) and saves each request's candidates as
`rank_candidates` receives them: the recalled pairs with their similarity and reranker score, and the model's samples.
`grid` ranks the saved pools again with `cfusion.generate`'s consensus constants set to other values, and prints
template match @1 of the top answer (before literals are carried in) on the even-numbered requests, the odd-numbered
ones and all: a setting is better only if it wins on both halves. RESULTS.md, "Template match @1".

    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py dump .carry/bash_test.jsonl pools.pkl [--limit N]
    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py grid pools.pkl
"""

import argparse
import pickle
from pathlib import Path

import numpy as np
import torch

from cfusion import generate
from cfusion.bundle import installed_model, load_model
from cfusion.data import read_pairs
from cfusion.metrics import template_match

GRID = {  # constant -> values tried beside the shipped one
    "RECALL_WEIGHT": [0.0, 1.5, 6.0],
    "RERANK_WEIGHT": [40.0, 60.0, 120.0, 160.0],
    "RERANK_TEMPERATURE": [0.3, 0.4, 0.7, 1.0],
    "EXTRA_PENALTY": [0.0, 0.5, 2.0],
}


def dump(data: Path, out: Path, limit: int | None) -> None:
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(installed_model("bash"))
    memory, reranker, sketch = generate.load_recall(folder, net.minilm)
    g = generate.Generator(net, tok, memory=memory, reranker=reranker, sketch=sketch)
    pairs = read_pairs(data, lang="bash")[:limit]
    pools, rank = [], generate.rank_candidates

    def saved(cands, lang, *rest):  # rest: the request's sketch and fits
        pools.append(list(cands))
        return rank(cands, lang, *rest)

    generate.rank_candidates = saved  # the generator looks it up in its module on each call
    try:
        for i in range(0, len(pairs), 64):  # batches and seeds as `cfusion eval` makes them: the same samples
            g.generate([p.nl for p in pairs[i : i + 64]], "bash", k=5, seed=i, literals=False)
            print(f"{min(i + 64, len(pairs))} / {len(pairs)}", flush=True)
    finally:
        generate.rank_candidates = rank
    rows = [{"refs": [p.code, *p.refs], "pool": pool} for p, pool in zip(pairs, pools, strict=True)]
    out.write_bytes(pickle.dumps(rows))


def scores(rows: list[dict]) -> np.ndarray:
    """Template match of each request's top answer under the module's current constants."""
    return np.array([template_match(generate.rank_candidates(r["pool"], "bash")[0].code, r["refs"]) for r in rows])


def grid(pools: Path) -> None:
    rows = pickle.loads(pools.read_bytes())
    print(f"{len(rows)} requests; template match @1 (even / odd / all)")

    def show(name: str) -> None:
        s = 100 * scores(rows)
        print(f"{name:32s} {s[0::2].mean():6.2f} {s[1::2].mean():6.2f} {s.mean():6.2f}", flush=True)

    show("shipped")
    for name, values in GRID.items():
        shipped = getattr(generate, name)
        for v in values:
            setattr(generate, name, v)
            show(f"{name} = {v}")
        setattr(generate, name, shipped)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("data", type=Path)
    d.add_argument("out", type=Path)
    d.add_argument("--limit", type=int)
    sub.add_parser("grid").add_argument("pools", type=Path)
    a = p.parse_args()
    if a.cmd == "dump":
        dump(a.data, a.out, a.limit)
    else:
        grid(a.pools)
