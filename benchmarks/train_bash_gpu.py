"""Trains, scores and exports the shipped Bash model on one GPU, in as many device calls as the budget needs.

Usage: python benchmarks/train_bash_gpu.py --data DIR --runs DIR --out DIR --deadline-s S [--train-s S]
DIR holds what benchmarks/make_bash_data.py writes from ../shared/data. Every stage resumes from --runs, so the same
command, run again on the same machine, continues where the last call stopped (training runs are killed at the
deadline and resume from their last checkpoint):
  1. probe: steps/s of fine-tuning at batch 64 and 128, and a torch.profiler table of one training step;
  2. pre-training on bash_pretrain.txt, then fine-tuning on bash_train.jsonl, sized to --train-s seconds in all;
  3. scoring on bash_test.jsonl with the harness of `cfusion eval`, at several step counts;
  4. always, last: the newest weights in fp16 (shards under 16 MB) and summary.json into --out.
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


def left(a) -> float:
    return a.deadline_s - (time.perf_counter() - T0)


def train_cmd(a, stage: str, out: Path, steps: int, batch: int, data: Path, extra=()) -> list[str]:
    # -P: the checkout's own cfusion/ (no cli/ inside) must not shadow the installed package.
    return [
        sys.executable, "-P", "-m", "cfusion.cli.main", "train", "--stage", stage, "--lang", "bash",
        "--data", str(data), "--out", str(out), "--steps", str(steps), "--batch-size", str(batch),
        "--ckpt-every", "250", "--log-every", str(a.log_every), "--device", a.device, "--preset", a.preset,
        "--resume", *extra,
    ]  # fmt: skip


def run_until(cmd: list[str], seconds: float) -> bool:
    """Runs cmd; at the deadline it is killed (it resumes from its last checkpoint next call). True if it finished."""
    print("$", " ".join(cmd), f"(for at most {seconds:.0f} s)", flush=True)
    p = subprocess.Popen(cmd, start_new_session=True)
    try:
        p.wait(timeout=max(1.0, seconds))
        if p.returncode != 0:
            raise SystemExit(f"training failed with exit code {p.returncode}")
        return True
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the trainer and its batch-building workers
        p.wait()
        return False


def curve(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def median_rate(recs: list[dict]) -> float:
    rates = sorted(r["steps_per_s"] for r in recs[1:]) or [r["steps_per_s"] for r in recs] or [0.0]
    return rates[len(rates) // 2]


def profile_step(a, batch: int) -> str:
    """torch.profiler over 6 fine-tuning steps after 4 of warm-up: where a step's time goes."""
    from torch.profiler import ProfilerActivity, profile

    from cfusion.diffusion import Schedule
    from cfusion.features import Featurizer
    from cfusion.model import fast_attention
    from cfusion.train import Dist, StepBatches, TrainArgs, build_model, load_examples

    args = TrainArgs("finetune", "bash", [str(a.data / "bash_train.jsonl")], "/tmp/prof", batch_size=batch, steps=10)
    ex = load_examples(args)
    model, tok = build_model(args, ex, log=lambda m: None)
    model.cuda().train()
    fast_attention()
    sch = Schedule(model.cfg.diffusion_steps)
    ds = StepBatches(Featurizer(model.cfg, tok), ex, args, Dist(), sch.T)
    batches = [{k: v.cuda() if torch.is_tensor(v) else v for k, v in ds[s].items()} for s in range(10)]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, fused=True)

    def step(b):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(b, sch)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for b in batches[:4]:
        step(b)
    torch.cuda.synchronize()
    t = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for b in batches[4:]:
            step(b)
        torch.cuda.synchronize()
    wall = (time.perf_counter() - t) / 6
    events = prof.key_averages()
    gpu_us = sum(e.self_device_time_total for e in events) / 6
    n_kernels = sum(e.count for e in events if e.self_device_time_total > 0) / 6
    head = f"batch {batch}: {1000 * wall:.1f} ms per step (profiled), GPU busy {gpu_us / 1000:.1f} ms, "
    head += f"{n_kernels:.0f} GPU ops per step\n"
    return head + events.table(sort_by="self_device_time_total", row_limit=12, max_name_column_width=50)


def export_fp16(src: Path, dst: Path) -> None:
    """A model folder in fp16, sharded under 16 MB, so it fits what a device call brings back (8 files)."""
    from cfusion.bundle import resolve, save_model
    from cfusion.checkpoint import load_tensors, read_json
    from cfusion.config import ModelConfig
    from cfusion.tokenizer import CodeTokenizer

    src = resolve(src)
    state = {k: v.half() if v.is_floating_point() else v for k, v in load_tensors(src, "model").items()}
    save_model(dst, ModelConfig.from_dict(read_json(src / "config.json")), CodeTokenizer.load(src), state)


def score(model_dir: Path, test: Path, steps: int, limit: int, k: int = 5) -> dict:
    from cfusion.bundle import load_model
    from cfusion.data import read_pairs
    from cfusion.evaluate import evaluate
    from cfusion.generate import Generator

    net, tok, _ = load_model(model_dir, "cuda" if torch.cuda.is_available() else "cpu")
    pairs = read_pairs(test)[:limit]
    # The plain-torch path: the kernels are benchmarked and checked against it elsewhere (cfusion bench).
    gen = Generator(net, tok, kernels="torch", graphs=False)
    _, result = evaluate(gen, pairs, "bash", k=k, steps=steps, batch_size=256)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--deadline-s", type=float, default=540)
    ap.add_argument("--train-s", type=float, default=800, help="seconds of training in all, across calls")
    ap.add_argument("--pretrain-share", type=float, default=0.3)
    ap.add_argument("--finetune-steps", type=int, help="override the plan's fine-tuning length (resume-safe)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-limit", type=int, default=2522)
    ap.add_argument("--eval-s", type=float, default=150, help="time kept back for scoring in the last call")
    a = ap.parse_args()
    a.runs.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    state_path = a.runs / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {"calls": 0}
    state["calls"] += 1
    state["card"] = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"

    def save():
        state_path.write_text(json.dumps(state, indent=2))

    # 1. probe
    if "plan" not in state:
        rates = {}
        for b in (64, 128):
            probe = a.runs / f"probe-{b}"
            run_until(train_cmd(a, "finetune", probe, 300, b, a.data / "bash_train.jsonl", ["--log-every", "20"]), 35)
            rates[b] = median_rate(curve(probe))
        if not any(rates.values()):
            raise SystemExit(f"the probe logged no step rate: {rates}")
        if a.device == "cuda":
            print(profile_step(a, 64), flush=True)
        best = max(rates, key=lambda b: b * rates[b] * (1.0 if b == 64 else 1 / 1.25))  # 128 must win by 25 %
        total = int(a.train_s * rates[best] * 0.95)
        state["probe"] = {str(b): {"steps_per_s": r, "samples_per_s": round(b * r, 1)} for b, r in rates.items()}
        state["plan"] = {
            "batch": best,
            "pretrain_steps": int(total * a.pretrain_share),
            "finetune_steps": total - int(total * a.pretrain_share),
        }
        print("PLAN", json.dumps(state), flush=True)
        save()
    plan = state["plan"]
    if a.finetune_steps:
        plan["finetune_steps"] = a.finetune_steps
    pre, ft = a.runs / "pretrain", a.runs / "finetune"
    # 2. training
    if not (pre / "model" / "config.json").exists():
        cmd = train_cmd(a, "pretrain", pre, plan["pretrain_steps"], plan["batch"], a.data / "bash_pretrain.txt")
        run_until(cmd, left(a) - 25)
    if (pre / "model" / "config.json").exists() and not (ft / "model" / "config.json").exists():
        cmd = train_cmd(
            a, "finetune", ft, plan["finetune_steps"], plan["batch"], a.data / "bash_train.jsonl",
            ["--init", str(pre / "model")],
        )  # fmt: skip
        run_until(cmd, left(a) - 25 - a.eval_s)
    # 3. scoring, once fine-tuning is done
    if (ft / "model" / "config.json").exists() and "eval" not in state:
        test = a.data / "bash_test.jsonl"
        ev = {}
        try:
            for steps, limit in ((50, a.eval_limit), (20, a.eval_limit), (10, a.eval_limit), (200, 500), (1200, 200)):
                if left(a) < 40:
                    break
                ev[str(steps)] = score(ft / "model", test, steps, min(limit, a.eval_limit))
                print(f"EVAL {steps}", json.dumps(ev[str(steps)]), flush=True)
        except Exception as e:  # the weights must come back even if scoring breaks
            print(f"EVAL FAILED: {type(e).__name__}: {e}", flush=True)
        state["eval"] = ev
        save()
    # 4. export
    newest = ft if (ft / "checkpoints").is_dir() else pre
    if (newest / "checkpoints").is_dir():
        export_fp16(newest, a.out / "model")
        state["exported"] = newest.name
    state["curves"] = {p.name: curve(p) for p in (pre, ft)}
    save()
    (a.out / "summary.json").write_text(json.dumps(state, indent=1))
    print(f"\ncard: {state['card']}  torch {torch.__version__}  call {state['calls']}")
    for name in ("pretrain", "finetune"):
        recs = state["curves"][name]
        if recs:
            r, rate = recs[-1], median_rate(recs)
            print(f"| {name} | step {r['step']} | {rate} steps/s | loss {r['loss']} | acc {r['tok_acc']} |")
    for steps, ev in state.get("eval", {}).items():
        m = ev["metrics"]
        print(
            f"| eval {steps} steps n={ev['n']} | TM {m['template_match@1']}/{m['template_match@3']}/"
            f"{m['template_match@5']} | EM@1 {m['exact@1']} | valid@1 {m['valid@1']} | {ev['ms_per_request']} ms/req |"
        )


if __name__ == "__main__":
    main()
