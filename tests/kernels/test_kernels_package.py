"""cfusion.kernels lives in the checkout's top-level `kernels/` folder, and PyPI has a package named `kernels` that
transformers imports: the two must load side by side, with the checkout root off sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkout_root_is_not_on_sys_path():
    assert all(Path(p or ".").resolve() != ROOT for p in sys.path)


def test_transformers_bert_runs_beside_cfusion_kernels():
    import torch

    import cfusion.kernels

    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    out = transformers.BertModel(cfg).eval()(input_ids=torch.tensor([[1, 2, 3]])).last_hidden_state
    assert out.shape == (1, 3, 16)
    assert Path(cfusion.kernels.__file__).resolve().parent == ROOT / "kernels"
    other = sys.modules.get("kernels")  # the PyPI package, when transformers loaded it
    assert other is None or ROOT not in Path(other.__file__).resolve().parents


def test_a_cpu_process_runs_the_references_without_importing_triton():
    import os
    import subprocess

    import torch

    from cfusion.kernels import HAVE_TRITON

    if torch.cuda.is_available() or not HAVE_TRITON:
        pytest.skip("with CUDA, Triton is imported for the kernels; without Triton, never")
    code = "import sys, torch, cfusion.kernels as k; x = torch.ones(2, 3, 4)"
    code += "; k.noise_update(x, x, None, torch.ones(4, 3), torch.zeros(2, dtype=torch.long))"
    code += "; print('triton' in sys.modules)"
    for interpret, imported in (("0", "False"), ("1", "True")):
        env = {**os.environ, "TRITON_INTERPRET": interpret}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == imported, out.stderr
