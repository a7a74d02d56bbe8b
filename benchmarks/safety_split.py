"""What the command analyzer changes in the shipped pipeline's answers on a split's saved candidate pools.

`tops` ranks each saved pool (benchmarks/consensus_grid.py dump) as `gen` does and writes the top answer; run it
once with the tree to compare (PYTHONPATH=its checkout) and once with this one. `score` reads the top answers of
each and prints template match @1 and exact match @1, and how many top answers do what the analyzer finds
destructive and the request did not ask for (cfusion.langs.bash.effects.unasked), as this tree's analyzer sees them.

    PYTHONSAFEPATH=1 python benchmarks/consensus_grid.py dump .carry/bash_test.jsonl pools --seeds 0
    PYTHONSAFEPATH=1 PYTHONPATH=/tmp/before python benchmarks/safety_split.py tops pools/pools_s0.pkl.gz before.jsonl
    PYTHONSAFEPATH=1 python benchmarks/safety_split.py tops pools/pools_s0.pkl.gz after.jsonl
    PYTHONSAFEPATH=1 python benchmarks/safety_split.py score before.jsonl after.jsonl
"""

import argparse
import gzip
import json
import pickle
from pathlib import Path


def tops(pools: Path, out: Path) -> None:
    from cfusion.core.bundle import installed_model
    from cfusion.pipeline.generator import answers
    from cfusion.pipeline.rank import RankWeights

    weights = RankWeights.load(installed_model("bash"))
    rows = pickle.load(gzip.open(pools))
    with out.open("w") as f:
        for r in rows:
            top = answers(r["pool"], r["nl"], "bash", 1, r["sketch"], weights=weights)[0].code
            f.write(json.dumps({"nl": r["nl"], "refs": r["refs"], "top": top}) + "\n")


def score(files: list[Path]) -> None:
    from cfusion.langs.bash import PACK
    from cfusion.langs.bash.analyzer import destructive
    from cfusion.langs.bash.effects import unasked
    from cfusion.langs.bash.metrics import template_match

    runs = {f.name: [json.loads(line) for line in f.open()] for f in files}
    for name, rows in runs.items():
        tm = sum(template_match(r["top"], r["refs"]) for r in rows) / len(rows)
        em = sum(PACK.exact(r["top"], r["refs"]) for r in rows) / len(rows)
        bad = [r for r in rows if unasked(r["top"], r["nl"]) and destructive(r["top"])]
        flagged = sum(bool(destructive(r["top"])) for r in rows)
        print(
            f"{name}: {len(rows)} requests, template match @1 {100 * tm:.2f}, exact @1 {100 * em:.2f}; "
            f"top answers destructive {flagged}, of which not asked for {len(bad)}"
        )
        for r in bad[:10]:
            print(f"   {r['nl']!r} -> {r['top']!r}")
    names = list(runs)
    if len(names) == 2:
        a, b = runs[names[0]], runs[names[1]]
        changed = [(x["nl"], x["top"], y["top"]) for x, y in zip(a, b) if x["top"] != y["top"]]
        print(f"top answers that differ: {len(changed)}")
        for nl, x, y in changed[:20]:
            print(f"   {nl!r}: {x!r} -> {y!r}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tops")
    t.add_argument("pools", type=Path)
    t.add_argument("out", type=Path)
    sub.add_parser("score").add_argument("files", type=Path, nargs="+")
    a = p.parse_args()
    tops(a.pools, a.out) if a.cmd == "tops" else score(a.files)
