"""Weights stored in 8 bits: rows within half a step of their fp32 values, a model folder half the size that still
answers its training pairs, and clear errors for a second pass or mismatched scales."""

import shutil

import pytest
import torch
from conftest import cfusion

from cfusion.core.bundle import SCALE, dequantize_state, load_model, model_state, quantize_state
from cfusion.core.checkpoint import load_tensors, save_tensors
from cfusion.errors import CheckpointError
from cfusion.pipeline.generator import Generator


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (257, 33)])
def test_each_row_comes_back_within_half_a_step(shape):
    g = torch.Generator().manual_seed(shape[0])
    w = torch.randn(shape, generator=g) * torch.rand(shape[0], 1, generator=g) * 10  # rows of different ranges
    w[0, 0] = 0.0
    state = {"w": w, "bias": torch.randn(shape[0], generator=g), "steps": torch.tensor(3)}
    q = quantize_state(state)
    assert q["w"].dtype == torch.int8 and q["w" + SCALE].dtype == torch.float16
    assert q["bias"] is state["bias"] and q["steps"] is state["steps"]  # vectors and integers stay as they are
    back = dequantize_state(q)
    assert set(back) == set(state)
    step = q["w" + SCALE].float()[:, None]
    assert ((back["w"] - w).abs() <= step / 2 + 1e-3 * w.abs().amax(1, keepdim=True)).all()
    assert back["w"][0, 0] == 0.0


def test_mismatched_scales_are_refused():
    q = quantize_state({"w": torch.randn(5, 4)})
    q["w" + SCALE] = q["w" + SCALE][:3]
    with pytest.raises(CheckpointError, match="does not match its scales"):
        dequantize_state(q)
    with pytest.raises(CheckpointError, match="does not match its scales"):
        dequantize_state({"v@scale": torch.ones(2)})
    with pytest.raises(CheckpointError, match="w has no scales"):
        dequantize_state({"w": q["w"]})


def test_a_quantised_folder_is_smaller_and_still_answers(tiny_run, tmp_path):
    run, pairs = tiny_run
    net, tok, src = load_model(run)
    folder = shutil.copytree(src, tmp_path / "model", ignore=shutil.ignore_patterns("train_state*"))  # a model folder
    save_tensors({k: v.half() for k, v in model_state(net).items()}, folder, "model")  # as the shipped one is
    size = sum(p.stat().st_size for p in folder.glob("model*.safetensors"))
    proc = cfusion("data", "quantize", "--model", str(folder), check=True)
    assert "MB ->" in proc.stderr
    stored = load_tensors(folder, "model")
    assert any(v.dtype == torch.int8 for v in stored.values())
    assert sum(p.stat().st_size for p in folder.glob("model*.safetensors")) < 0.65 * size

    small, _, _ = load_model(folder)
    for k, v in model_state(net).items():
        assert torch.allclose(model_state(small)[k], v.float(), atol=float(v.abs().max()) / 127 + 1e-3), k
    answers = Generator(small, tok).generate([p["nl"] for p in pairs], "bash", k=1, steps=50)
    hits = sum(bool(a) and a[0].code == p["code"] for a, p in zip(answers, pairs))
    assert hits >= 0.8 * len(pairs), f"{hits}/{len(pairs)}"

    again = cfusion("data", "quantize", "--model", str(folder))
    assert again.returncode == 2 and "already quantised" in again.stderr and "Traceback" not in again.stderr
    ckpt = cfusion("data", "quantize", "--model", str(run))  # its latest checkpoint: resuming needs float weights
    assert ckpt.returncode == 2 and "is a training checkpoint" in ckpt.stderr and "Traceback" not in ckpt.stderr
