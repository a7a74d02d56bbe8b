"""One GPU call for the kernels: the GPU tests, `cfusion bench` for the small and base presets, and, when a trained
model is given, Triton vs torch candidates on real test requests and the latency at several step counts.

Usage: python benchmarks/kernels_gpu_run.py --out DIR [--model DIR --test bash_test.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch


def sh(cmd: list[str], env: dict | None = None) -> None:
    print("$", " ".join(cmd), flush=True)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    print(p.stdout[-3000:], p.stderr[-2000:], f"[{time.perf_counter() - t:.0f} s]", flush=True)


def compare_paths(model: Path, test: Path, n: int, steps: int) -> dict:
    """The same requests through Triton + CUDA graph and through the eager torch loop, both in bf16."""
    from cfusion.core.bundle import load_model
    from cfusion.data.pairs import read_pairs
    from cfusion.pipeline.generator import Generator

    reqs = [p.nl for p in read_pairs(test)[:n]]
    outs = {}
    for mode, graphs in (("torch", False), ("triton", True)):
        net, tok, _ = load_model(model, "cuda")
        outs[mode] = Generator(net, tok, kernels=mode, graphs=graphs).generate(reqs, "bash", k=5, steps=steps)
    same_top = sum(a[:1] and b[:1] and a[0].code == b[0].code for a, b in zip(outs["torch"], outs["triton"]))
    same_all = sum([c.code for c in a] == [c.code for c in b] for a, b in zip(outs["torch"], outs["triton"]))
    diffs = [
        abs(a[0].score - b[0].score)
        for a, b in zip(outs["torch"], outs["triton"])
        if a and b and a[0].code == b[0].code
    ]
    return {
        "requests": n,
        "steps": steps,
        "same_top1": same_top,
        "same_ranked_list": same_all,
        "max_top1_score_diff": round(max(diffs, default=0.0), 5),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--test", type=Path)
    ap.add_argument("--skip-tests", action="store_true")
    ap.add_argument("--skip-kernels", action="store_true")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    py = [sys.executable, "-P"]
    if not a.skip_tests:
        sh(py + ["-m", "pytest", "-q", "-m", "gpu", "tests", "-p", "no:cacheprovider"], env={"TRITON_INTERPRET": "0"})
    from cfusion.eval import bench as B

    card = torch.cuda.get_device_name()
    result = {"card": card, "torch": torch.__version__, "kernels": []}
    for name in () if a.skip_kernels else ("small", "base"):
        result["kernels"] += B.bench_kernels([name], "cuda")
        print("KERNELS", name, "done", flush=True)
        (a.out / "bench.json").write_text(json.dumps(result, indent=1))
    for steps in (50, 20):
        result[f"e2e_{steps}"] = B.bench_end_to_end(a.model, "small", "cuda", steps, 20, 256)
        print("E2E", steps, json.dumps(result[f"e2e_{steps}"]), flush=True)
        (a.out / "bench.json").write_text(json.dumps(result, indent=1))
    if a.model is not None and a.test is not None:
        for steps in (50, 20):
            result[f"paths_{steps}"] = compare_paths(a.model, a.test, 256, steps)
            print("PATHS", json.dumps(result[f"paths_{steps}"]), flush=True)
    sweep = {}
    gen = B.load_generator(a.model, "small", "cuda", "triton", True)
    for steps in (1200, 200, 50, 20, 10):
        sweep[steps] = B.latency(gen, 5, steps, 5 if steps > 200 else 20)
    result["latency_k5_by_steps"] = sweep
    (a.out / "bench.json").write_text(json.dumps(result, indent=1))
    print(f"\ncard: {card}")
    for r in result["kernels"]:
        print(
            f"| {r['preset']} | {r['op']} | {r['shape']} | {r['impl']} | {r['ms']} ms | "
            f"{r.get('GB/s', r.get('TFLOP/s', ''))} | {r.get('of_peak', '')} | {r.get('note', '')} |"
        )
    for steps in (50, 20):
        for r in result[f"e2e_{steps}"]:
            print(f"| e2e {steps} |", " | ".join(f"{k}={v}" for k, v in r.items()), "|")
    print("latency k=5 by steps:", json.dumps(sweep))


if __name__ == "__main__":
    main()
