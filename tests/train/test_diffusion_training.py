import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import torch
from conftest import cfusion, nl2bash_pairs, tiny_args, write_jsonl

from cfusion.core.bundle import load_model, model_state, save_model
from cfusion.core.checkpoint import load_tensors, read_latest
from cfusion.core.config import ModelConfig
from cfusion.core.features import Featurizer
from cfusion.train.diffusion import draw_noise, global_batch_indices, make_batch, train
from cfusion.train.masking import maskable_spans


def test_loss_falls(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 30))
    losses = []
    train(tiny_args(tmp_path, data), progress=lambda step, rec: losses.append(rec["loss"]), log=lambda m: None)
    assert len(losses) == 60
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.5 * first, (first, last)


def test_batches_are_a_pure_function_of_step():
    a = [global_batch_indices(10, 4, s, seed=3) for s in range(6)]
    assert a == [global_batch_indices(10, 4, s, seed=3) for s in range(6)]
    flat = sum(a[:5], [])[:10]  # the first 10 positions are one epoch: each example once
    assert sorted(flat) == list(range(10))


def test_high_noise_draws_that_share_of_t_from_the_top_eighth():
    cfg, T, B = ModelConfig(max_code_len={"bash": 64}), 1200, 20_000
    top = lambda high: (draw_noise(B, cfg, "bash", T, 0, 3, False, high)["t"] >= T - T // 8).float().mean().item()  # noqa: E731
    assert abs(top(0.0) - 1 / 8) < 0.01  # uniform over the schedule
    assert abs(top(0.5) - (0.5 + 0.5 / 8)) < 0.015 and top(1.0) == 1.0
    a, g = draw_noise(8, cfg, "bash", T, 0, 3, False, 0.0), torch.Generator().manual_seed(3 + 7)
    t = torch.randint(0, T, (8,), generator=g)
    noise = torch.randn(8, cfg.max_code_len["bash"], cfg.d_latent, generator=g)
    assert torch.equal(a["t"], t) and torch.equal(a["noise"], noise)  # high = 0 draws exactly what it drew before
    again = draw_noise(8, cfg, "bash", T, 0, 3, False, 0.8)
    assert torch.equal(again["t"], draw_noise(8, cfg, "bash", T, 0, 3, False, 0.8)["t"])  # still a function of step


def test_pretraining_masks_only_identifiers_and_keywords(tmp_path, shared_data):
    snippets = [s.strip() for s in (shared_data / "codefusion" / "BashSnippets.txt").open() if s.strip()][:300]
    snippets = [s for s in snippets if maskable_spans(s, "bash")][:64]
    (tmp_path / "s.txt").write_text("\n".join(snippets))
    args = tiny_args(tmp_path, tmp_path / "s.txt", stage="pretrain", cpd_prob=1.0, mask_rate=0.5)
    from cfusion.train.diffusion import build_model, load_examples

    examples = load_examples(args)
    model, tok = build_model(args, examples, log=lambda m: None)
    feat = Featurizer(model.cfg, tok)
    batch = make_batch(feat, examples, list(range(len(examples))), args, random.Random(0))
    masked_any = 0
    for i, (_, code) in enumerate(examples):
        seen = tok.tok.decode(batch["lit_ids"][i, : batch["lit_len"][i]].tolist(), skip_special_tokens=False)
        # Each maskable span may be kept or turned into <mask>; every other character must be untouched.
        pattern, pos = "", 0
        for start, end in maskable_spans(code, "bash"):
            pattern += re.escape(code[pos:start]) + f"(?:{re.escape(code[start:end])}|<mask>)"
            pos = end
        pattern += re.escape(code[pos:])
        assert re.fullmatch(pattern, seen), (code, seen)
        masked_any += "<mask>" in seen
    assert masked_any == len(examples)  # at least one span is masked in every snippet


def test_checkpoint_round_trips_bit_for_bit(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 20))
    folder = train(tiny_args(tmp_path, data, steps=10, ckpt_every=10), log=lambda m: None)
    model, tok, _ = load_model(folder)
    save_model(tmp_path / "copy", model.cfg, tok, model_state(model))
    again, tok2, _ = load_model(tmp_path / "copy")
    a, b = model_state(model), model_state(again)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert tok2.encode("find . -name '*.PDF'") == tok.encode("find . -name '*.PDF'")


def _train_cmd(data, out, steps, ckpt_every):
    return [
        sys.executable,
        "-m",
        "cfusion.cli.main",
        "train",
        "--stage",
        "finetune",
        "--data",
        str(data),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--steps",
        str(steps),
        "--batch-size",
        "16",
        "--lr",
        "3e-3",
        "--warmup",
        "5",
        "--ckpt-every",
        str(ckpt_every),
        "--log-every",
        "5",
        "--device",
        "cpu",
        "--resume",
    ]


def test_a_killed_run_resumes_to_the_same_weights(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 30))
    steps = 200
    subprocess.run(_train_cmd(data, tmp_path / "whole", steps, 20), check=True, capture_output=True)

    proc = subprocess.Popen(
        _train_cmd(data, tmp_path / "killed", steps, 20), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        latest = read_latest(ckpts) if ckpts.is_dir() else None
        if latest is not None and int(latest.name.split("-")[1]) >= 40:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = int(read_latest(ckpts).name.split("-")[1])
    assert killed_at < steps and not (tmp_path / "killed" / "model").exists()

    subprocess.run(_train_cmd(data, tmp_path / "killed", steps, 20), check=True, capture_output=True)
    logged = [json.loads(line)["step"] for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    assert logged == list(range(5, steps + 1, 5))  # no step logged twice across the kill
    for name in ("model", "train_state"):
        a = load_tensors(read_latest(tmp_path / "whole" / "checkpoints"), name)
        b = load_tensors(read_latest(ckpts), name)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_training_twice_into_one_folder_needs_resume(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 10))
    args = [
        "train",
        "--stage",
        "finetune",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "r"),
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--device",
        "cpu",
    ]
    cfusion(*args, check=True)
    again = cfusion(*args)
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr


def test_pretrain_then_finetune_through_the_cli(tmp_path, shared_data):
    snippets = tmp_path / "s.txt"
    snippets.write_text("".join(list((shared_data / "codefusion" / "BashSnippets.txt").open())[:400]))
    common = ["--preset", "tiny", "--batch-size", "8", "--device", "cpu", "--log-every", "5"]
    cfusion(
        "train",
        "--stage",
        "pretrain",
        "--data",
        str(snippets),
        "--out",
        str(tmp_path / "pre"),
        "--steps",
        "20",
        *common,
        check=True,
    )
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 10))
    cfusion(
        "train",
        "--stage",
        "finetune",
        "--data",
        str(data),
        "--init",
        str(tmp_path / "pre"),
        "--out",
        str(tmp_path / "ft"),
        "--steps",
        "10",
        *common,
        check=True,
    )
    pre, _, _ = load_model(tmp_path / "pre")
    ft, _, _ = load_model(tmp_path / "ft")
    assert pre.cfg == ft.cfg
    assert not torch.equal(pre.denoiser.outp.weight, ft.denoiser.outp.weight)  # fine-tuning moved the weights


def test_worker_processes_build_the_same_batches_as_the_loop(tmp_path, shared_data):
    """Batches from DataLoader workers (the GPU default) train to the same weights as batches built in the loop."""
    snippets = [s.strip() for s in (shared_data / "codefusion" / "BashSnippets.txt").open() if s.strip()][:200]
    (tmp_path / "s.txt").write_text("\n".join(snippets))
    states = []
    for workers in (0, 2):
        args = tiny_args(tmp_path / f"w{workers}", tmp_path / "s.txt", stage="pretrain", steps=12, workers=workers)
        folder = train(args, log=lambda m: None)
        states.append(load_tensors(folder, "model"))
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
