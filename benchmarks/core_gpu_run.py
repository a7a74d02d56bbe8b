"""One GPU call for the core issue: pre-train and fine-tune `small` on Bash, time it, score exact match, and print a
table. Usage: python benchmarks/core_gpu_run.py --data DIR --out DIR [--pretrain-steps N] [--finetune-steps N]
DIR holds the files benchmarks/make_bash_data.py writes from ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch


def run(cmd: list[str]) -> float:
    print("$", " ".join(cmd), flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def summary(run_dir: Path) -> dict:
    recs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rates = [r["steps_per_s"] for r in recs[1:]] or [recs[0]["steps_per_s"]]
    rates.sort()
    return {
        "steps": recs[-1]["step"],
        "steps_per_s": rates[len(rates) // 2],
        "peak_mem_gb": max(r.get("peak_mem_gb", 0) for r in recs),
        "loss": recs[-1]["loss"],
        "tok_acc": recs[-1]["tok_acc"],
    }


def score(model_dir: Path, test: Path, k: int, steps: int, limit: int, device: str) -> dict:
    """The harness of `cfusion eval` on the test split: template match and exact match at top-1 and top-k."""
    from cfusion.bundle import load_model
    from cfusion.data import read_pairs
    from cfusion.evaluate import evaluate
    from cfusion.generate import Generator

    net, tok, _ = load_model(model_dir, device)
    _, result = evaluate(Generator(net, tok), read_pairs(test)[:limit], "bash", k=k, steps=steps, batch_size=128)
    m = result["metrics"]
    keep = ("template_match@1", f"template_match@{k}", "exact@1", f"exact@{k}", "valid@1")
    return {**{key: m[key] for key in keep}, "n": result["n"], "eval_s": result["seconds"]}


def step_breakdown(run_dir: Path, args_json: Path, device: str) -> dict:
    """Milliseconds per training step spent building the batch on the host vs in forward+backward+AdamW."""
    import random

    from cfusion.bundle import load_model
    from cfusion.diffusion import Schedule
    from cfusion.features import Featurizer
    from cfusion.train import TrainArgs, draw_noise, global_batch_indices, load_examples, make_batch

    a = TrainArgs(**json.loads(args_json.read_text()))
    model, tok, _ = load_model(run_dir, device)
    model.train()
    ex = load_examples(a)
    feat, sch = Featurizer(model.cfg, tok), Schedule(model.cfg.diffusion_steps)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

    def build(s):
        b = make_batch(feat, ex, global_batch_indices(len(ex), a.batch_size, s, 0), a, random.Random(s))
        b.update(draw_noise(a.batch_size, model.cfg, a.lang, sch.T, 0, s))
        return {k: v.to(device) if torch.is_tensor(v) else v for k, v in b.items()}

    t = time.perf_counter()
    batches = [build(s) for s in range(30)]
    host_ms = 1000 * (time.perf_counter() - t) / 30
    times = []
    for b in batches:
        torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model(b, sch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        torch.cuda.synchronize()
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    return {"host_batch_ms": round(host_ms, 1), "fwd_bwd_opt_ms": round(times[len(times) // 2], 1)}


def export_fp16(src: Path, dst: Path) -> None:
    """The fine-tuned model in fp16, sharded under 16 MB, so it fits what a device call brings back (8 files)."""
    from cfusion.bundle import save_model
    from cfusion.checkpoint import load_tensors, read_json
    from cfusion.config import ModelConfig
    from cfusion.tokenizer import CodeTokenizer

    state = {k: v.half() if v.is_floating_point() else v for k, v in load_tensors(src).items()}
    save_model(dst, ModelConfig.from_dict(read_json(src / "config.json")), CodeTokenizer.load(src), state)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--runs", type=Path, default=Path("runs"))
    ap.add_argument("--pretrain-steps", type=int, default=2000)
    ap.add_argument("--finetune-steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--trainable-encoder", action="store_true", help="also fine-tune with MiniLM unfrozen")
    ap.add_argument("--eval-limit", type=int, default=2522)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--preset", default="small")
    a = ap.parse_args()
    # -P: the checkout's own cfusion/ (no cli/ inside) must not shadow the installed package.
    cf = [
        sys.executable,
        "-P",
        "-m",
        "cfusion.cli.main",
        "train",
        "--lang",
        "bash",
        "--batch-size",
        str(a.batch_size),
        "--ckpt-every",
        "500",
        "--log-every",
        "50",
        "--device",
        a.device,
    ]
    rows = {}
    pre = a.runs / "pretrain"
    wall = run(
        cf
        + [
            "--stage",
            "pretrain",
            "--data",
            str(a.data / "bash_snippets.txt"),
            "--data",
            str(a.data / "bash_train_code.txt"),
            "--preset",
            a.preset,
            "--out",
            str(pre),
            "--steps",
            str(a.pretrain_steps),
            "--resume",
        ]
    )
    rows["pretrain"] = {**summary(pre), "wall_s": round(wall, 1)}
    print("ROW pretrain", json.dumps(rows["pretrain"]), flush=True)
    if a.device == "cuda":
        print("ROW breakdown", json.dumps(step_breakdown(pre, pre / "train_args.json", a.device)), flush=True)
    variants = [("finetune-frozen", [])] + (
        [("finetune-trainable", ["--set", "encoder_trainable=true"])] if a.trainable_encoder else []
    )
    for name, extra in variants:
        ft = a.runs / name
        wall = run(
            cf
            + [
                "--stage",
                "finetune",
                "--data",
                str(a.data / "bash_train.jsonl"),
                "--init",
                str(pre),
                "--out",
                str(ft),
                "--steps",
                str(a.finetune_steps),
                "--resume",
            ]
            + extra
        )
        rows[name] = {**summary(ft), "wall_s": round(wall, 1)}
        rows[name].update(score(ft / "model", a.data / "bash_test.jsonl", 5, 50, a.eval_limit, a.device))
        print("ROW", name, json.dumps(rows[name]), flush=True)
    export_fp16(a.runs / variants[0][0] / "model", a.out / "model")
    card = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    curves = {
        p.name: [json.loads(x) for x in (p / "metrics.jsonl").read_text().splitlines()]
        for p in [pre] + [a.runs / name for name, _ in variants]
    }
    (a.out / "summary.json").write_text(json.dumps({"card": card, "rows": rows, "curves": curves}, indent=2))
    print(f"\ncard: {card}  torch {torch.__version__}")
    keys = [
        "steps",
        "steps_per_s",
        "peak_mem_gb",
        "loss",
        "tok_acc",
        "wall_s",
        "template_match@1",
        "exact@1",
        "exact@5",
    ]
    print("| run | " + " | ".join(keys) + " |")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
