"""Trains, scores and exports the shipped Bash model on one or more GPUs, across as many device calls as it needs.

Usage:
  python benchmarks/train_bash_gpu.py --data DIR --runs DIR --out DIR --gpus 2 \
      --pretrain-steps N --finetune-steps M [--variants train,train+extra] [--deadline-s S]

DIR holds what benchmarks/make_bash_data.py writes from ../shared/data. Every stage resumes from --runs, so the same
command, run again on the same machine, continues where the last call stopped (a training run still going at the
deadline is killed and resumes from its last checkpoint):
  1. pre-training on bash_pretrain.txt, data-parallel over --gpus GPUs (torchrun);
  2. one fine-tuning run per --variants entry, side by side, one GPU each:
     `train` reads the CodeFusion Bash train split; `train+extra` reads it twice plus bash_extra_pairs.jsonl
     (decontaminated tldr and cheatsheet pairs), so the split still makes 40 % of the batches;
  3. scoring on bash_test.jsonl with the harness of `cfusion eval`: every variant at 20 steps on the full split, then
     the best of them at 10 and 50 steps (full split), 200 (first 500 requests) and 1200 (first 200);
  4. always, last: the best (or newest) weights in fp16 (shards under 16 MB) and summary.json into --out.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

T0 = time.perf_counter()
VARIANTS = {"train": ["bash_train.jsonl"], "train+extra": ["bash_train.jsonl"] * 2 + ["bash_extra_pairs.jsonl"]}
EVALS = ((10, None), (50, None), (200, 500), (1200, 200))  # (steps, first n requests) after the 20-step comparison


def left(a) -> float:
    return a.deadline_s - (time.perf_counter() - T0)


def train_cmd(a, stage: str, out: Path, steps: int, batch: int, lr: float, data: list[Path], nproc=1, extra=()):
    # -P: the checkout's own cfusion/ (no cli/ inside) must not shadow the installed package.
    launch = [sys.executable, "-P", "-m"]
    if nproc > 1:
        launch += ["torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m"]
    cmd = launch + [
        "cfusion.cli.main", "train", "--stage", stage, "--lang", "bash", "--out", str(out), "--steps", str(steps),
        "--batch-size", str(batch), "--lr", str(lr), "--ckpt-every", "250", "--log-every", "50",
        "--device", a.device, "--preset", a.preset, "--resume", *extra,
    ]  # fmt: skip
    for d in data:
        cmd += ["--data", str(d)]
    return cmd


def run_until(jobs: list[tuple[list[str], dict]], seconds: float) -> None:
    """Runs the jobs side by side; at the deadline they are killed (each resumes from its checkpoint next call)."""
    procs = []
    for cmd, env in jobs:
        print("$", " ".join(cmd), env, f"(for at most {seconds:.0f} s)", flush=True)
        procs.append(subprocess.Popen(cmd, start_new_session=True, env={**os.environ, **env}))
    end = time.perf_counter() + max(1.0, seconds)
    for p in procs:
        try:
            p.wait(timeout=max(0.1, end - time.perf_counter()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # the trainer, its ranks and its batch-building workers
            p.wait()
        elif p.returncode != 0:
            raise SystemExit(f"training failed with exit code {p.returncode}")


def done(run: Path) -> bool:
    return (run / "model" / "config.json").exists()


def curve(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def median_rate(recs: list[dict]) -> float:
    rates = sorted(r["steps_per_s"] for r in recs[1:]) or [r["steps_per_s"] for r in recs] or [0.0]
    return rates[len(rates) // 2]


def export_fp16(src: Path, dst: Path) -> None:
    """A model folder in fp16, sharded under 16 MB, so it fits what a device call brings back (8 files)."""
    from cfusion.core.bundle import resolve, save_model
    from cfusion.core.checkpoint import load_tensors, read_json
    from cfusion.core.config import ModelConfig
    from cfusion.core.tokenizer import CodeTokenizer

    src = resolve(src)
    state = {k: v.half() if v.is_floating_point() else v for k, v in load_tensors(src, "model").items()}
    save_model(dst, ModelConfig.from_dict(read_json(src / "config.json")), CodeTokenizer.load(src), state)


def score(model_dir: Path, test: Path, steps: int, limit: int | None, k: int = 5) -> dict:
    from cfusion.core.bundle import load_model
    from cfusion.data.pairs import read_pairs
    from cfusion.eval.evaluate import evaluate
    from cfusion.pipeline.generator import Generator

    net, tok, _ = load_model(model_dir, "cuda" if torch.cuda.is_available() else "cpu")
    pairs = read_pairs(test)[:limit]
    # The plain-torch path: the kernels are benchmarked and checked against it elsewhere (cfusion bench).
    gen = Generator(net, tok, kernels="torch", graphs=False)
    _, result = evaluate(gen, pairs, "bash", k=k, steps=steps, batch_size=256)
    return result


def row(name: str, ev: dict) -> str:
    m = ev["metrics"]
    return (
        f"| {name} | {ev['steps']} steps, n={ev['n']} | TM {m['template_match@1']}/{m['template_match@3']}/"
        f"{m['template_match@5']} | EM@1 {m['exact@1']} | valid@1 {m['valid@1']} | {ev['ms_per_request']} ms/req |"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--deadline-s", type=float, default=560)
    ap.add_argument("--gpus", type=int, default=1)
    ap.add_argument("--device", default="cuda", help="cpu: a smoke test of the whole pipeline")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--pretrain-steps", type=int, required=True)
    ap.add_argument("--pretrain-batch", type=int, default=512, help="global batch, split over --gpus")
    ap.add_argument("--pretrain-lr", type=float, default=8e-4)
    ap.add_argument("--finetune-steps", type=int, required=True)
    ap.add_argument("--finetune-batch", type=int, default=256)
    ap.add_argument("--finetune-lr", type=float, default=5e-4)
    ap.add_argument("--variants", default="train,train+extra")
    ap.add_argument("--eval-s", type=float, default=90, help="time kept back for scoring in the call that needs it")
    a = ap.parse_args()
    variants = a.variants.split(",")
    if unknown := set(variants) - set(VARIANTS):
        raise SystemExit(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    a.runs.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    state_path = a.runs / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {"calls": 0, "eval": {}}
    state["calls"] += 1
    cuda = a.device == "cuda"
    state["card"] = f"{torch.cuda.device_count()} x {torch.cuda.get_device_name()}" if cuda else "cpu"
    state["args"] = {k: str(v) for k, v in vars(a).items()}

    def save():
        state_path.write_text(json.dumps(state, indent=1))

    pre = a.runs / "pretrain"
    fts = {v: a.runs / f"finetune-{v}" for v in variants}
    # 1. pre-training
    if not done(pre):
        data = [a.data / "bash_pretrain.txt"]
        cmd = train_cmd(a, "pretrain", pre, a.pretrain_steps, a.pretrain_batch, a.pretrain_lr, data, a.gpus)
        run_until([(cmd, {})], left(a) - 25)
    # 2. fine-tuning variants, side by side
    todo = [v for v in variants if not done(fts[v])]
    if done(pre) and todo:
        jobs = []
        for i, v in enumerate(todo):
            data = [a.data / f for f in VARIANTS[v]]
            cmd = train_cmd(
                a, "finetune", fts[v], a.finetune_steps, a.finetune_batch, a.finetune_lr, data,
                extra=["--init", str(pre / "model")],
            )  # fmt: skip
            jobs.append((cmd, {"CUDA_VISIBLE_DEVICES": str(i % a.gpus)}))
        # Variants beyond the GPU count would share a card: their rates would not compare.
        run_until(jobs[: a.gpus], left(a) - 25 - a.eval_s)
    # 3. scoring
    test = a.data / "bash_test.jsonl"
    try:
        for v in variants:
            if done(fts[v]) and v not in state["eval"] and left(a) > 40:
                state["eval"][v] = {"20": score(fts[v] / "model", test, 20, None)}
                print("EVAL", v, json.dumps(state["eval"][v]["20"]), flush=True)
                save()
        if all(v in state["eval"] for v in variants):
            best = max(variants, key=lambda v: state["eval"][v]["20"]["metrics"]["template_match@1"])
            state["best"] = best
            for steps, limit in EVALS:
                if str(steps) not in state["eval"][best] and left(a) > 40:
                    state["eval"][best][str(steps)] = score(fts[best] / "model", test, steps, limit)
                    print("EVAL", best, steps, json.dumps(state["eval"][best][str(steps)]), flush=True)
                    save()
    except Exception as e:  # the weights must come back even if scoring breaks
        print(f"EVAL FAILED: {type(e).__name__}: {e}", flush=True)
    # 4. export
    pick = fts.get(state.get("best")) or next((fts[v] for v in variants if (fts[v] / "checkpoints").is_dir()), pre)
    if (pick / "checkpoints").is_dir():
        export_fp16(pick, a.out / "model")
        state["exported"] = pick.name
    state["curves"] = {p.name: curve(p) for p in (pre, *fts.values())}
    save()
    (a.out / "summary.json").write_text(json.dumps(state, indent=1))
    print(f"\ncard: {state['card']}  torch {torch.__version__}  call {state['calls']} exported {state.get('exported')}")
    for name, recs in state["curves"].items():
        if recs:
            r, rate = recs[-1], median_rate(recs)
            print(f"| {name} | step {r['step']} | {rate} steps/s | loss {r['loss']} | acc {r['tok_acc']} |")
    for v, evs in state["eval"].items():
        for ev in evs.values():
            print(row(v, ev))


if __name__ == "__main__":
    main()
