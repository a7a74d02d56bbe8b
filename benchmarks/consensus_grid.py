"""Template match @1 of the consensus under other weights, on saved candidate pools of a Bash dev set.

`dump` runs a model folder's generator (default: the shipped one) over a set's pairs (k = 5, batches and seeds as
`cfusion eval` makes them) and saves each request's candidates before ranking (Generator.pools): the recalled pairs
with their similarity and reranker score, the model's samples, and the request's sketch. One gzipped pickle per
seed, OUT/pools_sSEED.pkl.gz. On CUDA the three seeds of the 2,522-request test split take about 40 s (one H100); on
a 2-core CPU one seed takes about 45 min.
`grid` ranks the saved pools again, as `gen` does (the sketch, the fits bonus, literals carried in), under other
ranking weights (RankWeights, passed to the ranking), and prints template match @1 on the even-numbered
requests, the odd-numbered ones and, in brackets, its change over the folder's rank.json on all, for each seed (with
--exec, execution match @1 too, over the requests whose references run in the sandbox): a setting is better only if
it wins on every seed and both halves. Run it on a dev split's pools, never the test split's, to choose weights;
the folder must be a dev folder (a model and memory that never saw the set). Several pool folders (the dev split,
the out-of-domain dev set) are ranked side by side.

    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py dump .carry/dev/bash_dev.jsonl pools/dev \
        --model .runs/devmodel --device cuda --seeds 0,1,2
    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py grid pools/dev pools/ood --model .runs/devmodel
"""

import argparse
import dataclasses
import gzip
import pickle
import time
from pathlib import Path

import numpy as np
import torch

from cfusion import langs
from cfusion.core.bundle import installed_model, load_model
from cfusion.data.pairs import read_pairs
from cfusion.eval.execution import UNRUNNABLE, Runner, first_matches
from cfusion.langs.bash.metrics import template_match
from cfusion.pipeline import DEFAULT_STEPS
from cfusion.pipeline.generator import Generator, answers, load_recall
from cfusion.pipeline.rank import RankWeights

GRID = {  # RankWeights field -> values tried beside the folder's; 0 takes a component out
    "sample": [0.0, 20.0, 60.0],
    "recall": [1.5, 6.0],
    "rerank": [0.0, 60.0, 120.0],
    "rerank_temperature": [0.4, 0.7],
    "extra_penalty": [0.0, 2.0],
    "sketch": [0.0, 10.0, 30.0],
    "shared": [0.0, 0.5, 1.5],
    "fits": [0.0, 3.0, 12.0],
    "same_request": [0.9, 1.01],
}


def dump(
    data: Path,
    out: Path,
    limit: int | None,
    device: str,
    seeds: list[int],
    k: int = 5,
    steps: int = DEFAULT_STEPS,
    model: Path | None = None,
    int8: bool = False,
) -> None:
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(model or installed_model("bash"), device)
    memory, reranker, sketch = load_recall(folder, net.minilm)
    weights = RankWeights.load(folder)
    g = Generator(net, tok, memory=memory, reranker=reranker, sketch=sketch, weights=weights, int8=int8)
    pairs = read_pairs(data, lang="bash")[:limit]
    batch = 256 if g.device.type == "cuda" else 64  # as `cfusion eval --batch-size` is set on each
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        pools: list = []
        t0 = time.perf_counter()
        for i in range(0, len(pairs), batch):
            pools += g.pools([p.nl for p in pairs[i : i + batch]], "bash", k=k, steps=steps, seed=seed + i)
        rows = [
            {"nl": p.nl, "refs": [p.code, *p.refs], "pool": pool, "sketch": sk}
            for p, (pool, sk) in zip(pairs, pools, strict=True)
        ]
        with gzip.open(out / f"pools_s{seed}.pkl.gz", "wb") as f:
            pickle.dump(rows, f)
        print(f"seed {seed}: {len(rows)} pools in {time.perf_counter() - t0:.1f} s", flush=True)


def top(row: dict, weights: RankWeights) -> str:
    """The top answer `gen` gives for a saved pool under `weights`, literals carried in."""
    return answers(row["pool"], row["nl"], "bash", 1, row["sketch"], weights=weights)[0].code


def scores(rows: list[dict], weights: RankWeights, runner: Runner | None = None) -> np.ndarray:
    """Template match of each request's top answer; with a runner, execution match too (a second row, NaN where
    the request's references do not run)."""
    tops = [top(r, weights) for r in rows]
    tm = [template_match(t, r["refs"]) for t, r in zip(tops, rows)]
    if runner is None:
        return np.array([tm])
    found = first_matches([[t] for t in tops], [r["refs"] for r in rows], runner, 1)
    return np.array([tm, [np.nan if m == UNRUNNABLE else float(m is not None) for m in found]])


def grid(folders: list[Path], model: Path | None, execute: bool, combos: str = "") -> None:
    sets = {
        f"{folder.name}/{p.name.split('_')[1].split('.')[0]}": pickle.load(gzip.open(p))
        for folder in folders
        for p in sorted(folder.glob("pools_s*.pkl.gz"))
    }
    runner = Runner(langs.get("bash").interpreter) if execute else None
    base = RankWeights.load(model or installed_model("bash"))
    shipped = {name: scores(rows, base, runner) for name, rows in sets.items()}
    what = "template match @1 even / odd (change on all)" + (", exec @1 (change)" if execute else "")
    print(f"by set and seed ({', '.join(sets)}): {what}")

    def show(label: str, weights: RankWeights) -> None:
        cells = []
        for name, rows in sets.items():
            s = scores(rows, weights, runner)
            change = 100 * (s[0] - shipped[name][0]).mean()
            cell = f"{100 * s[0][0::2].mean():6.2f} / {100 * s[0][1::2].mean():6.2f} ({change:+.2f})"
            if runner is not None:
                ex, was = 100 * np.nanmean(s[1]), 100 * np.nanmean(shipped[name][1])
                cell += f", {ex:5.1f} ({ex - was:+.1f})"
            cells.append(cell)
        print(f"{label:32s} " + "   ".join(cells), flush=True)

    show("as in the folder", base)
    if combos:  # "a=1,b=2;c=3": each setting changes several weights at once
        for combo in combos.split(";"):
            changes = {k: float(v) for k, v in (kv.split("=") for kv in combo.split(","))}
            show(combo, dataclasses.replace(base, **changes))
        return
    for name, values in GRID.items():
        for v in values:
            show(f"{name} = {v} (now {getattr(base, name)})", dataclasses.replace(base, **{name: v}))


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
    d.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="denoising steps (default: gen's)")
    d.add_argument("--model", type=Path, help="a dev model folder (default: the shipped one)")
    d.add_argument("--int8", action="store_true", help="int8 products, as the CPU with VNNI runs")
    g = sub.add_parser("grid")
    g.add_argument("pools", type=Path, nargs="+", help="folders `dump` wrote")
    g.add_argument("--model", type=Path, help="the folder whose rank.json is the baseline (default: the shipped one)")
    g.add_argument("--exec", action="store_true", help="execution match @1 too (eval --exec's sandbox)")
    g.add_argument("--combos", default="", help='settings of several weights instead of the grid: "a=1,b=2;c=3"')
    a = p.parse_args()
    if a.cmd == "dump":
        seeds = [int(s) for s in a.seeds.split(",")]
        dump(a.data, a.out, a.limit, a.device, seeds, a.k, a.steps, a.model, a.int8)
    else:
        grid(a.pools, a.model, a.exec, a.combos)
