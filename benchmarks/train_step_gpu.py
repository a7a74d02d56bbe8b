"""Fine-tuning samples/s with the step replayed from CUDA graphs against the eager step, side by side in one process,
on the same data and seed; and how far apart their loss curves are. Usage (on the GPU machine):
python benchmarks/train_step_gpu.py --data bash_train.jsonl --out DIR [--presets small base] [--steps 1000 300]

Each run fine-tunes from a fresh model (speed does not depend on the weights). Samples/s is the median of the logged
windows past the first three, so the capture (reported apart, as capture_s) is not counted. Then one fixed batch is
stepped 50 times each way with no data loading: milliseconds of wall time per step, and of GPU time (CUDA events
around the kernels alone, measured with torch.profiler), which says whether a step is bound by launches or by work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from cfusion.train.diffusion import TrainArgs, train


def _args(data: str, out: Path, preset: str, steps: int, batch: int, graphs: bool, workers: int) -> TrainArgs:
    return TrainArgs(
        stage="finetune", lang="bash", data=[data], out=str(out), preset=preset, steps=steps, batch_size=batch,
        warmup=min(100, steps // 10), log_every=25, ckpt_every=steps, device="cuda", graphs=graphs, workers=workers,
    )  # fmt: skip


def run(data: str, out: Path, preset: str, steps: int, batch: int, graphs: bool, workers: int) -> dict:
    train(_args(data, out, preset, steps, batch, graphs, workers), log=lambda _: None)
    recs = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    rate = statistics.median(r["steps_per_s"] for r in recs[3:])
    return {
        "preset": preset,
        "step": "graphs" if graphs else "eager",
        "workers": workers,
        "samples_per_s": round(rate * batch, 1),
        "capture_s": recs[-1].get("capture_s", 0.0),
        "peak_mem_gb": recs[-1]["peak_mem_gb"],
        "loss": [r["loss"] for r in recs],
    }


def step_ms(data: str, out: Path, preset: str, batch: int, reps: int = 50) -> dict:
    """Wall and GPU milliseconds of one fine-tuning step on a fixed batch, eager and replayed (no data loading)."""
    from torch.profiler import ProfilerActivity, profile

    from cfusion.core.diffusion import Schedule
    from cfusion.core.features import Featurizer
    from cfusion.core.model import fast_attention
    from cfusion.train.diffusion import Dist, StepBatches, build_model, load_examples
    from cfusion.train.graphed import GraphedStep, train_step

    args = _args(data, out, preset, reps, batch, True, 0)
    examples = load_examples(args)
    torch.manual_seed(0)
    model, tok = build_model(args, examples, lambda _: None)
    model.cuda().train()
    fast_attention()
    sched = Schedule(model.cfg.diffusion_steps, model.cfg.schedule_offset)
    batch_ = StepBatches(Featurizer(model.cfg, tok), examples, args, Dist(), sched.T, None, bucketed=True)[0]
    on_gpu = {k: v.cuda() for k, v in batch_.items()}
    params = [p for p in model.parameters() if p.requires_grad]
    out_ = {}
    for graphed in (False, True):
        lr = torch.tensor(1e-4, device="cuda") if graphed else 1e-4
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, fused=True, capturable=graphed)
        if graphed:
            one = lambda g=GraphedStep(model, sched, opt, params, 1.0): g(on_gpu)  # noqa: E731
        else:
            one = lambda opt=opt: train_step(model, sched, opt, params, 1.0, on_gpu)  # noqa: E731
        for _ in range(5):
            one()
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(reps):
            one()
        torch.cuda.synchronize()
        wall = 1000 * (time.perf_counter() - t) / reps
        try:
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(10):
                    one()
                torch.cuda.synchronize()
            kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
            gpu, count = round(sum(e.device_time for e in kernels) / 1000 / 10, 2), len(kernels) // 10
        except Exception as e:  # noqa: BLE001 - a profiler that cannot see into graphs leaves the column empty
            print(f"profiler: {type(e).__name__}: {e}")
            gpu = count = None
        out_["graphs" if graphed else "eager"] = {"wall_ms": round(wall, 2), "gpu_ms": gpu, "kernels": count}
    return out_


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--presets", nargs="+", default=["small", "base"])
    ap.add_argument("--steps", type=int, nargs="+", default=[1000, 300], help="per preset")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--workers", type=int, nargs="+", default=[2], help="graphed runs, one per count")
    a = ap.parse_args()
    print("card:", torch.cuda.get_device_name(), "torch", torch.__version__)
    print("| preset | step | workers | samples/s | vs eager | capture s | peak GiB | loss, last 100 steps | rel. gap |")
    print("|---|---|---|---|---|---|---|---|---|")
    for preset, steps in zip(a.presets, a.steps):
        eager = run(a.data, a.out / f"{preset}-eager", preset, steps, a.batch_size, False, 2)
        rows = [eager] + [
            run(a.data, a.out / f"{preset}-graphs-{w}", preset, steps, a.batch_size, True, w) for w in a.workers
        ]
        tail = max(1, 100 // 25)
        for r in rows:
            e, g = torch.tensor(eager["loss"]), torch.tensor(r["loss"])
            gap = float(((g - e).abs() / e).mean())  # mean relative gap between the logged curves
            print(
                f"| {preset} | {r['step']} | {r['workers']} | {r['samples_per_s']} | "
                f"{r['samples_per_s'] / eager['samples_per_s']:.2f}x | {r['capture_s']} | {r['peak_mem_gb']} | "
                f"{statistics.mean(r['loss'][-tail:]):.4f} | {gap:.4f} |",
                flush=True,
            )
        (a.out / f"{preset}-curves.json").write_text(json.dumps({f"{r['step']}-{r['workers']}": r for r in rows}))
    print("\n| preset | step | wall ms per step | GPU ms per step | kernels per step |")
    print("|---|---|---|---|---|")
    for preset in a.presets:
        for name, r in step_ms(a.data, a.out / f"{preset}-fixed", preset, a.batch_size).items():
            print(f"| {preset} | {name} | {r['wall_ms']} | {r['gpu_ms']} | {r['kernels']} |", flush=True)


if __name__ == "__main__":
    main()
