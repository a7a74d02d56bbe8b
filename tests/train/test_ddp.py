"""DistributedDataParallel on CPU (gloo): two processes under torchrun match one process on the same global batch."""

import json
import shutil
import subprocess
import sys

import torch
from conftest import nl2bash_pairs, write_jsonl

from cfusion.core.checkpoint import load_tensors, read_latest


def _train(data, out, nproc: int, steps: int = 2, stage: str = "finetune"):
    launcher = (
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "--standalone", "-m"]
        if nproc > 1
        else [sys.executable, "-m"]
    )
    fixed = "--preset tiny --batch-size 8 --lr 1e-3 --warmup 1 --log-every 1 --ckpt-every 1 --device cpu --resume"
    cmd = launcher + ["cfusion.cli.main", "train", "--stage", stage, "--data", str(data), "--out", str(out)]
    cmd += ["--steps", str(steps), *fixed.split()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_ranks_equal_one_process_on_the_global_batch(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 24))
    _train(data, tmp_path / "one", 1)
    _train(data, tmp_path / "two", 2)
    for name in ("train_state", "model"):
        a = load_tensors(read_latest(tmp_path / "one" / "checkpoints"), name)
        b = load_tensors(read_latest(tmp_path / "two" / "checkpoints"), name)
        assert a.keys() == b.keys()
        for k in a:
            # atol is 1% of one Adam step (lr 1e-3): a wrong shard or a missing all-reduce moves weights by ~lr.
            # Key biases have a zero gradient in exact arithmetic, and Adam scales their float noise up to ~1e-6.
            torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-5, msg=f"{name}:{k}")
    # Only rank 0 logs: one line per step, not one per rank.
    recs = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs] == [1, 2]
    assert all(r["world"] == 2 and r["local_batch"] == 4 for r in recs)  # each rank trains on its half


def test_resume_under_ddp(tmp_path, shared_data):
    data = write_jsonl(tmp_path / "d.jsonl", nl2bash_pairs(shared_data, 24))
    whole = load_tensors(read_latest(_run(data, tmp_path / "whole")), "model")
    # A run killed after its step-3 checkpoint: the step-4 folder and the export never got written.
    _run(data, tmp_path / "part")
    shutil.rmtree(tmp_path / "part" / "checkpoints" / "step-0000004")
    shutil.rmtree(tmp_path / "part" / "model")
    resumed = load_tensors(read_latest(_run(data, tmp_path / "part")), "model")
    for k in whole:
        torch.testing.assert_close(resumed[k], whole[k], rtol=0, atol=1e-5, msg=k)


def _run(data, out):
    _train(data, out, 2, steps=4)
    return out / "checkpoints"


def test_pretraining_under_ddp_whose_tasks_use_different_parameters(tmp_path, shared_data):
    """The generation task skips the encoder and CPD uses it: DDP must not assume one graph (static_graph) there."""
    pairs = nl2bash_pairs(shared_data, 24)
    data = tmp_path / "snippets.txt"
    data.write_text("".join(p["code"] + "\n" for p in pairs))
    _train(data, tmp_path / "pre", 2, steps=6, stage="pretrain")
    recs = [json.loads(line) for line in (tmp_path / "pre" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs] == list(range(1, 7)) and all(r["world"] == 2 for r in recs)
