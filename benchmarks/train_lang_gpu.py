"""Trains the Python and CF models on one GPU, across as many device calls as it needs, and brings them back.

Usage (DATA holds what benchmarks/make_lang_data.py writes; MiniLM comes from $CFUSION_MINILM_PATH):
  python benchmarks/train_lang_gpu.py --data DATA --runs DIR --out DIR [--langs python,cf] [--variants plain,swap]
      [--deadline-s S]

Every stage resumes from --runs, so the same command, run again on the same machine, continues where the last call
stopped (a training run still going at the deadline is killed and resumes from its last checkpoint). For each
language, side by side with the others:
  1. pre-training on LANG_pretrain.txt (code alone);
  2. fine-tuning variants side by side, from the pre-trained weights: `plain` reads LANG_train.jsonl (the train split
     less its dev tenth), `swap` adds its literal-swapped copies LANG_swap.jsonl;
  3. always, last: each finished model, weights stored in int8 (`cfusion data quantize`), as OUT/LANG-VARIANT.tar.0,
     .1 ...
Nothing here reads a dev or test split: the choices are made on the CPU from the models brought back.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

T0 = time.perf_counter()
PART = 15 << 20

# Per language: model fields over the `small` preset, and (steps, batch, lr) of pre-training and fine-tuning.
# CF rules are short and few: a narrower, shallower model keeps the package's CF weights under 10 MB. These are the
# shipped models' first stages; `--set value_slots=true` on a fine-tuning run adds value slots (MODEL.md).
PLANS = {
    "python": {
        # Pre-training's one-line statements are shorter than CoNaLa's snippets: 48 holds 99 % of these.
        "set": {"vocab_size": 8000, "max_code_len": {"python": 48}},
        "pretrain": (3000, 256, 8e-4),
        "finetune": (2000, 128, 5e-4),
    },
    "cf": {
        "set": {
            "vocab_size": 2000, "d_model": 256, "n_heads": 4, "d_ff": 512, "d_latent": 64,
            "n_denoiser_layers": 4, "n_decoder_layers": 2,
        },
        "pretrain": (1500, 256, 8e-4),
        "finetune": (1200, 128, 5e-4),
    },
}  # fmt: skip
# Fine-tuning variants, side by side: the files they read (LANG_NAME.jsonl) and the model fields they set. plain: the
# train split; swap: with its literal-swapped copies; slots: value slots; tagged: slots for copied words as well
# (train the tagger after, `cfusion data tagger`); synth: tagged, with synthetic pairs (LANG_synth.jsonl).
SLOTS, TAGGED = {"value_slots": True}, {"value_slots": True, "tagged_slots": True}
VARIANTS = {
    "plain": (["train"], {}),
    "swap": (["train", "swap"], {}),
    "slots": (["train", "swap"], SLOTS),
    "tagged": (["train", "swap"], TAGGED),
    "synth": (["train", "swap", "synth"], TAGGED),
}


def done(run: Path) -> bool:
    return (run / "model" / "config.json").exists()


def train_cmd(
    lang: str, stage: str, run: Path, data: list[Path], init: Path | None, a, fields: dict | None = None
) -> list[str]:
    steps, batch, lr = PLANS[lang][stage]
    if stage == "finetune" and a.finetune_steps:
        steps = a.finetune_steps
    steps, batch = max(1, round(steps * a.scale)), max(2, round(batch * a.scale))
    # -P: the checkout's own cfusion/ (no cli/ inside) must not shadow the installed package.
    cmd = [
        sys.executable, "-P", "-m", "cfusion.cli.main", "train", "--stage", stage, "--lang", lang, "--out", str(run),
        "--steps", str(steps), "--batch-size", str(batch), "--lr", str(lr),
        "--ckpt-every", "250", "--log-every", "50", "--device", a.device, "--resume",
    ]  # fmt: skip
    for d in data:
        cmd += ["--data", str(d)]
    if init is not None:  # fine-tuning keeps the pre-trained model's fields, and adds the variant's
        cmd += ["--init", str(init)]
    for key, value in (PLANS[lang]["set"] if init is None else fields or {}).items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def step(lang: str, variant: str, a) -> tuple[list[str], Path] | None:
    """The next training command of one fine-tuning variant of `lang` and its run folder, or None when done."""
    pre, fine = a.runs / f"{lang}-pretrain", a.runs / f"{lang}-{variant}"
    if not done(pre):
        return train_cmd(lang, "pretrain", pre, [a.data / f"{lang}_pretrain.txt"], None, a), pre
    if not done(fine):
        names, fields = VARIANTS[variant]
        data = [a.data / f"{lang}_{name}.jsonl" for name in names]
        return train_cmd(lang, "finetune", fine, data, pre / "model", a, fields), fine
    return None


def curve(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--langs", default="python,cf")
    ap.add_argument("--variants", default="plain,swap", help=f"fine-tuning variants: {', '.join(VARIANTS)}")
    ap.add_argument("--deadline-s", type=float, default=540)
    ap.add_argument("--device", default="cuda", help="cpu, with a small --scale: a smoke test of the whole script")
    ap.add_argument("--finetune-steps", type=int, default=None, help="fine-tuning steps, for PLANS's")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every stage's steps and batch size")
    a = ap.parse_args()
    jobs = [(lang, v) for lang in a.langs.split(",") for v in a.variants.split(",")]
    a.runs.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    running: dict[Path, tuple[subprocess.Popen, Path]] = {}  # run folder -> its trainer and log
    end = T0 + a.deadline_s - 40  # time kept back to quantise and pack
    while time.perf_counter() < end:
        for run, (p, log) in list(running.items()):
            if p.poll() is None:
                continue
            if p.returncode != 0:
                sys.stdout.write(log.read_text()[-3000:])
                raise SystemExit(f"{run.name}: training failed with exit code {p.returncode}")
            del running[run]
        todo = [nxt for lang, v in jobs if (nxt := step(lang, v, a)) is not None]
        if not todo and not running:
            break
        for cmd, run in todo:
            if run in running:
                continue  # the variants of a language share its pre-training
            print("$", " ".join(cmd), flush=True)
            log = run.with_suffix(".log")  # the progress bar and messages; shown if the run fails
            p = subprocess.Popen(cmd, start_new_session=True, stdout=log.open("a"), stderr=subprocess.STDOUT)
            running[run] = (p, log)
        time.sleep(2)
    for p, _ in running.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # the trainer and its batch-building workers; resumes next call
            p.wait()
    for lang, v in jobs:
        fine = a.runs / f"{lang}-{v}"
        for run in (a.runs / f"{lang}-pretrain", fine):
            if recs := curve(run):
                r = recs[-1]
                print(
                    f"| {run.name} | step {r['step']} | {r['steps_per_s']} steps/s | loss {r['loss']} "
                    f"| acc {r['tok_acc']} |"
                )
        if done(fine):
            name = f"{lang}-{v}"
            folder = a.runs / f"{name}-int8"
            if not folder.exists():
                subprocess.run(["cp", "-r", str(fine / "model"), str(folder)], check=True)
                subprocess.run([sys.executable, "-P", "-m", "cfusion.cli.main", "data", "quantize", "--model",
                                str(folder)], check=True)  # fmt: skip
                (folder / "curves.json").write_text(json.dumps({"pretrain": curve(a.runs / f"{lang}-pretrain"),
                                                                "finetune": curve(fine)}))  # fmt: skip
            tar = a.runs / f"{name}.tar"
            with tarfile.open(tar, "w") as f:
                f.add(folder, arcname=name)
            # A device call brings back files of at most 16 MiB: `cat OUT/NAME.tar.* | tar x` joins the parts.
            data = tar.read_bytes()
            for i in range(0, len(data), PART):
                (a.out / f"{name}.tar.{i // PART}").write_bytes(data[i : i + PART])
            print(f"{name}: {len(data) / 1e6:.1f} MB -> {a.out}/{name}.tar.*")


if __name__ == "__main__":
    main()
