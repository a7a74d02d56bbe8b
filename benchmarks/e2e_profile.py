"""Where one `gen` request's time goes, stage by stage, with the shipped model, recall and reranker (k = 5).
Usage: python benchmarks/e2e_profile.py [--device cuda] [--model DIR] [--reps 50]

First the p50/p95 of whole requests, timed as `cfusion bench` times them (no added synchronisation). Then the same
requests with a timer around each stage; on CUDA each timer synchronises, so a stage's figure includes the GPU work it
queued, and the stages no longer overlap (their sum exceeds the plain p50). Last, the host functions that take the
most time of their own (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections import defaultdict

import torch

from cfusion.eval.bench import latency
from cfusion.pipeline import DEFAULT_RECALL
from cfusion.pipeline import generator as G
from cfusion.pipeline import recall as R
from cfusion.pipeline import sample as S

REQUESTS = (
    "find all txt files under the current directory and delete them",
    "count the lines of every python file in src",
    "show the 10 largest files in /var/log",
    "compress the folder backups into backups.tar.gz",
    "list processes listening on port 8080",
    "replace foo with bar in all markdown files",
    "delete empty directories under /tmp",
    "print the last 20 lines of app.log and keep following it",
    "copy all jpg files from photos to /mnt/usb",
    "show disk usage of each folder in the home directory",
)


def stage_times(gen, device: str, steps: int, reps: int) -> dict[str, list[float]]:
    acc: dict[str, float] = defaultdict(float)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def wrap(name, fn):
        def timed(*a, **kw):
            sync()
            t = time.perf_counter()
            out = fn(*a, **kw)
            sync()
            acc[name] += 1000 * (time.perf_counter() - t)
            return out

        return timed

    patches = [
        (gen.feat, "requests", "tokenise the request"),
        (gen, "_minilm", "MiniLM"),
        (R, "queries", "recall queries (MiniLM included)"),
        (R, "search", "recall search"),
        (R, "rerank", "reranker"),
        (S, "sample", "denoising (prepare, steps, decode)"),
        (S, "candidates", "detokenise samples"),
        (R, "join", "join samples and recalled pairs"),
        (G, "answers", "rules, ranking, literals, effects"),
    ]
    if gen.sketch is not None:
        patches.append((gen.sketch, "predict", "sketch"))
    saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in patches]
    for obj, attr, name in patches:
        setattr(obj, attr, wrap(name, getattr(obj, attr)))
    per: dict[str, list[float]] = defaultdict(list)
    try:
        for i in range(reps):
            acc.clear()
            sync()
            t = time.perf_counter()
            gen.generate([REQUESTS[i % len(REQUESTS)]], "bash", k=5, steps=steps, seed=i)
            sync()
            total = 1000 * (time.perf_counter() - t)
            for name, ms in acc.items():
                per[name].append(ms)
            per["whole request, timers on"].append(total)
    finally:
        for obj, attr, fn in saved:
            setattr(obj, attr, fn)
    return per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default=None, help="model folder (default: the installed Bash model)")
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    from pathlib import Path

    from cfusion.cli.common import generator

    gen, _, steps = generator(Path(a.model) if a.model else None, "bash", a.device, 5, None, recall=DEFAULT_RECALL)
    card = torch.cuda.get_device_name() if a.device == "cuda" else "CPU"
    plain = latency(gen, 5, steps, a.reps, REQUESTS)
    print(f"card: {card}; k = 5, {steps} steps, with recall: p50 {plain['p50_ms']} ms, p95 {plain['p95_ms']} ms")
    fresh = tuple(f"{REQUESTS[i % len(REQUESTS)]} in project{i}" for i in range(a.reps))  # never seen before
    new = latency(gen, 5, steps, a.reps, fresh)
    print(f"every request new (no cache holds its commands): p50 {new['p50_ms']} ms, p95 {new['p95_ms']} ms")
    per = stage_times(gen, a.device, steps, a.reps)
    print("\n| stage | p50 ms | mean ms |\n|---|---|---|")
    for name, xs in per.items():
        print(f"| {name} | {statistics.median(xs):.2f} | {statistics.mean(xs):.2f} |")
    prof = cProfile.Profile()
    prof.enable()
    for i in range(a.reps):
        gen.generate([REQUESTS[i % len(REQUESTS)]], "bash", k=5, steps=steps, seed=i)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
    print("\nhost functions by own time, over", a.reps, "requests:")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-4000:])


if __name__ == "__main__":
    main()
