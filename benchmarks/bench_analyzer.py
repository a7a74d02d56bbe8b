"""The command analyzer's cost per command on this CPU (issue target: <= 1 ms), and its scores on the labelled sets.

    python benchmarks/bench_analyzer.py [--repeat 5]

Times cfusion.langs.bash.analyzer.findings without its cache over every command of tests/langs/bash/commands.tsv
(the development set) and benchmarks/data/commands_heldout.tsv (written apart, scored after the analyzer was frozen
the first time), then prints per-category recall and the false-positive rate of each set.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from cfusion.langs.bash.analyzer import DESTRUCTIVE, findings

ROOT = Path(__file__).resolve().parents[1]
SETS = {"dev": ROOT / "tests/langs/bash/commands.tsv", "held-out": ROOT / "benchmarks/data/commands_heldout.tsv"}


def read(path: Path) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [(label, command) for label, command in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    analyse = findings.__wrapped__  # no lru_cache: every call parses and walks
    commands = [c for path in SETS.values() for _, c in read(path)]
    analyse("ls")  # the parser and the table load once
    times = []
    for _ in range(args.repeat):
        for command in commands:
            t = time.perf_counter()
            analyse(command)
            times.append(time.perf_counter() - t)
    times.sort()
    ms = [1000 * t for t in times]
    print(
        f"{len(commands)} commands x {args.repeat}: mean {statistics.mean(ms):.3f} ms, "
        f"p50 {ms[len(ms) // 2]:.3f} ms, p95 {ms[int(0.95 * len(ms))]:.3f} ms, max {ms[-1]:.3f} ms"
    )
    for name, path in SETS.items():
        rows = read(path)
        n, hit = Counter(), Counter()
        for label, command in rows:
            n[label] += 1
            hit[label] += any(f.category in DESTRUCTIVE for f in analyse(command))
        destructive = sum(n[c] for c in DESTRUCTIVE)
        recall = sum(hit[c] for c in DESTRUCTIVE) / destructive
        per = ", ".join(f"{c} {hit[c]}/{n[c]}" for c in sorted(DESTRUCTIVE))
        print(
            f"{name}: recall {100 * recall:.1f} % of {destructive} ({per}); "
            f"false positives {hit['benign']}/{n['benign']} ({100 * hit['benign'] / n['benign']:.1f} %)"
        )


if __name__ == "__main__":
    main()
