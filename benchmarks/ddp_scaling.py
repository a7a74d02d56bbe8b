"""Samples/s of fine-tuning on 1 GPU vs N GPUs (torchrun, DDP) for the small and base presets, then a single-process
`cfusion gen` from the multi-GPU checkpoint. Usage: python benchmarks/ddp_scaling.py --data DIR --out DIR [--gpus 2]

--batch-size fixes the global batch (strong scaling: each GPU gets 1/N of it); --per-gpu-batch fixes each GPU's
batch (weak scaling: the global batch grows with N), the usual way data-parallel throughput is reported.
--ddp-options adds N-GPU runs with extra DistributedDataParallel arguments (JSON objects; $CFUSION_DDP_OPTIONS), side
by side with the default, e.g. '{"gradient_as_bucket_view": true}'.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def train(
    nproc: int, preset: str, data: Path, out: Path, steps: int, batch: int, device: str, extra=(), ddp: str = ""
) -> dict:
    launch = [sys.executable, "-P", "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m"]
    cmd = launch + [
        "cfusion.cli.main",
        "train",
        "--stage",
        "finetune",
        "--lang",
        "bash",
        "--data",
        str(data),
        "--out",
        str(out),
        "--preset",
        preset,
        "--steps",
        str(steps),
        "--batch-size",
        str(batch),
        "--log-every",
        "10",
        "--ckpt-every",
        str(steps),
        "--device",
        device,
        "--resume",
        *extra,
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "CFUSION_DDP_OPTIONS": ddp})
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    wall = time.perf_counter() - t
    recs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rates = sorted(r["steps_per_s"] for r in recs[3:])  # past warm-up
    rate = rates[len(rates) // 2]
    return {
        "preset": preset,
        "gpus": nproc,
        "ddp_options": ddp,
        "global_batch": batch,
        "steps_per_s": rate,
        "samples_per_s": round(rate * batch, 1),
        "peak_mem_gb": recs[-1].get("peak_mem_gb"),
        "wall_s": round(wall, 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--runs", type=Path, default=Path("/tmp/ddp_runs"))
    ap.add_argument("--gpus", type=int, default=2)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=128, help="global batch (strong scaling)")
    ap.add_argument("--per-gpu-batch", type=int, help="each GPU's batch (weak scaling); overrides --batch-size")
    ap.add_argument("--workers", type=int, default=-1, help="cfusion train --workers (batch-building processes)")
    ap.add_argument("--presets", default="small,base")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--ddp-options", action="append", default=[], help="JSON; repeat for several variants")
    a = ap.parse_args()
    rows = []
    for preset in a.presets.split(","):
        for n in (1, a.gpus):
            batch = a.per_gpu_batch * n if a.per_gpu_batch else a.batch_size
            extra = ["--workers", str(a.workers)]
            row = train(
                n, preset, a.data / "bash_train.jsonl", a.runs / f"{preset}-{n}", a.steps, batch, a.device, extra
            )
            rows.append(row)
            print("ROW", json.dumps(row), flush=True)
        for ddp in a.ddp_options:
            batch = a.per_gpu_batch * a.gpus if a.per_gpu_batch else a.batch_size
            out = a.runs / f"{preset}-{a.gpus}-{len(rows)}"
            row = train(a.gpus, preset, a.data / "bash_train.jsonl", out, a.steps, batch, a.device, extra, ddp)
            rows.append(row)
            print("ROW", json.dumps(row), flush=True)
        one = next(r for r in rows if r["preset"] == preset and r["gpus"] == 1)["samples_per_s"]
        for r in rows:
            if r["preset"] == preset and r["gpus"] > 1:
                x = r["samples_per_s"] / one
                print(f"SCALING {preset} {r['ddp_options'] or 'default'}: {x:.2f}x on {a.gpus} GPUs", flush=True)
    gen = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "cfusion.cli.main",
            "gen",
            "find all txt files in this folder",
            "--model",
            str(a.runs / f"{a.presets.split(',')[0]}-{a.gpus}"),
            "-k",
            "3",
            "--json",
            "--device",
            a.device,
        ],
        capture_output=True,
        text=True,
    )
    print("GEN rc", gen.returncode, gen.stdout.strip()[:400], gen.stderr.strip()[-300:])
    (a.out / "ddp_scaling.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
