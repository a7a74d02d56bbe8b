"""Cold `cfusion gen` (no server: Python, torch, the model, then the answer) of several trees side by side: the runs
alternate between the trees, so that a slower minute of a shared machine falls on all of them. Each tree is a folder
holding a `cfusion` package, `cfusion/kernels` and `cfusion/cli` included (an installed layout), run with PYTHONPATH
pointing at it. Prints p50 / p95 wall ms per tree, with the steps and generation ms of its first run (`--json`).

    python benchmarks/cold_start.py NAME=FOLDER [NAME=FOLDER ...] [--runs 5]

To lay out a commit: `git worktree add /tmp/t COMMIT && mkdir /tmp/p && cp -r /tmp/t/cfusion /tmp/p/ &&
cp -r /tmp/t/kernels /tmp/p/cfusion/ && cp -r /tmp/t/cli /tmp/p/cfusion/`.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from everyday_bash import EARLIER, LATER  # noqa: E402
from serve_latency import stats  # noqa: E402

REQUESTS = [r for r, *_ in EARLIER + LATER]


def cold(folder: str, request: str) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": folder, "CFUSION_RUNTIME_DIR": tempfile.mkdtemp(prefix="cfusion-cold-")}
    env.pop("TRITON_INTERPRET", None)
    cmd = [sys.executable, "-c", "from cfusion.cli.main import main; main()", "gen", request, "--no-server", "--json"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    ms = 1000 * (time.perf_counter() - t)
    if proc.returncode != 0:
        raise SystemExit(f"{folder}: gen failed: {proc.stderr.strip()[-500:]}")
    return ms, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="+", help="NAME=FOLDER")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    trees = dict(t.split("=", 1) for t in args.trees)
    times: dict[str, list[float]] = {name: [] for name in trees}
    first: dict[str, dict] = {}
    for i in range(args.runs):
        for name, folder in trees.items():
            ms, out = cold(folder, REQUESTS[i % len(REQUESTS)])
            times[name].append(ms)
            first.setdefault(name, out)
            print(f"run {i} {name}: {ms:.0f} ms", flush=True)
    print(f"\n{os.cpu_count()} CPUs, {args.runs} cold runs a tree, alternating")
    print("| tree | p50 / p95 ms | steps | generation ms (first run) |")
    print("|---|---|---|---|")
    for name, ms in times.items():
        print(f"| {name} | {stats(ms)} | {first[name]['steps']} | {first[name]['ms']} |")


if __name__ == "__main__":
    main()
