"""Wall time of `cfusion gen` from the shell (k = 5, recall on, the shipped Bash model): cold (no server: the process
loads torch and the model) and warm (a `cfusion serve` running), p50 / p95 over distinct everyday requests, each one
a fresh process as a shell would start it. Also the floor under the warm figure: a Python start-up alone, and a
served `explain` (a round trip with no model work).

    python benchmarks/serve_latency.py [--runs 20] [--cold 5] [--exe PATH]

--exe: the `cfusion` to time (default: the one on PATH; a pyenv shim on PATH costs a bash start-up of its own, so
the script beside sys.executable is timed as well). Uses a private runtime folder and stops its server at the end.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from everyday_bash import EARLIER, LATER  # noqa: E402

REQUESTS = [r for r, *_ in EARLIER + LATER]


def wall(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    ms = 1000 * (time.perf_counter() - t)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()}")
    if "answering in-process" in proc.stderr:
        raise SystemExit(f"the server did not answer: {proc.stderr.strip()}")
    return ms


def stats(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 2 else ms[0]
    return f"{statistics.median(ms):.0f} / {p95:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--exe", default=shutil.which("cfusion"))
    args = ap.parse_args()
    beside = str(Path(sys.executable).parent / "cfusion")
    exes = {"cfusion on PATH": args.exe}
    if Path(beside).exists() and Path(beside).resolve() != Path(args.exe).resolve():
        exes["script beside python"] = beside
    env = {**os.environ, "CFUSION_RUNTIME_DIR": tempfile.mkdtemp(prefix="cfusion-bench-")}
    rows = []
    floor = [wall([sys.executable, "-c", "pass"], env) for _ in range(10)]
    rows.append(("python -c pass", "", stats(floor)))
    for name, exe in exes.items():
        cold = [wall([exe, "gen", r, "--no-server"], env) for r in REQUESTS[: args.cold]]
        rows.append(("cold gen (no server)", name, stats(cold)))
    subprocess.run([args.exe, "serve", "--detach"], env=env, check=True, capture_output=True)
    try:
        for name, exe in exes.items():
            wall([exe, "gen", "warm up"], env)
            warm = [wall([exe, "gen", r], env) for r in REQUESTS[: args.runs]]
            rows.append(("warm gen (server)", name, stats(warm)))
            explain = [wall([exe, "explain", "ls -la", "--check"], env) for _ in range(10)]
            rows.append(("warm explain (server)", name, stats(explain)))
        inside = [
            json.loads(subprocess.run([args.exe, "gen", r, "--json"], env=env, capture_output=True).stdout)["ms"]
            for r in REQUESTS[: args.runs]
        ]
        rows.append(("generation inside the server", "", stats(inside)))
    finally:
        subprocess.run([args.exe, "serve", "--stop"], env=env, capture_output=True)
    print(f"\n{os.cpu_count()} CPUs; {len(REQUESTS[: args.runs])} warm and {args.cold} cold requests")
    print("| what | how | p50 / p95 ms |\n|---|---|---|")
    for what, how, figure in rows:
        print(f"| {what} | {how} | {figure} |")


if __name__ == "__main__":
    main()
