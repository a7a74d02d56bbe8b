"""Fused ops of the denoising loop and the switch that picks Triton or the plain-torch reference for each call.

Each op has a Triton kernel (`*_triton`, inference only: no backward) and a plain-torch reference (`*_ref`) that is
at once the CPU path, the training path and the test oracle. `use(mode)` sets the backend:
- "auto": Triton for CUDA tensors when no gradient is needed, the reference otherwise;
- "triton": Triton for every call (on CPU tensors that needs TRITON_INTERPRET=1, as the tests do);
- "torch": always the reference.
"""

from __future__ import annotations

import contextlib

import torch

from cfusion.errors import CfusionError
from cfusion.kernels._triton import INSTALLED as HAVE_TRITON
from cfusion.kernels._triton import INTERPRET, triton
from cfusion.kernels.argmax_head import argmax_head_ref, argmax_head_triton, argmax_rows_triton
from cfusion.kernels.cross_attention import cross_attention_ref, cross_attention_triton
from cfusion.kernels.noise_update import noise_update_ref, noise_update_triton

MODES = ("auto", "triton", "torch")
_NEEDS_CUDA = "--kernels triton needs a CUDA device (or TRITON_INTERPRET=1, Triton's slow CPU interpreter)"
_mode = "auto"


class KernelError(CfusionError):
    """A backend was asked for that this machine cannot run."""


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"--kernels must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "triton" and not HAVE_TRITON:
        raise KernelError("--kernels triton was asked for, but Triton is not installed", hint="use --kernels auto")
    if mode == "triton" and triton is None:
        raise KernelError(_NEEDS_CUDA, hint="use --kernels auto or --device cuda")
    return mode


@contextlib.contextmanager
def use(mode: str):
    """Run the block with kernels `mode` (see the module docstring)."""
    global _mode
    old, _mode = _mode, check_mode(mode)
    try:
        yield
    finally:
        _mode = old


def _triton_for(*tensors: torch.Tensor) -> bool:
    if _mode == "torch" or not HAVE_TRITON:
        return False
    if _mode == "triton":
        if triton is None or (tensors[0].device.type != "cuda" and not INTERPRET):
            raise KernelError(_NEEDS_CUDA, hint="use --kernels auto or --device cuda")
        return True
    return (
        triton is not None
        and tensors[0].is_cuda
        and not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))
    )


def noise_update(x_t, x0_hat, z, coefs, step):
    if _triton_for(x_t, x0_hat):
        return noise_update_triton(x_t, x0_hat, z, coefs, step)
    return noise_update_ref(x_t, x0_hat, z, coefs, step)


def cross_attention(q, k, v, kv_len):
    if _triton_for(q, k, v):
        return cross_attention_triton(q, k, v, kv_len)
    return cross_attention_ref(q, k, v, kv_len)


def argmax_head(h, weight, bias):
    if _triton_for(h, weight):
        return argmax_head_triton(h, weight, bias)
    return argmax_head_ref(h, weight, bias)


def argmax_rows(h, weight, bias=None):
    """argmax_v (h W^T + b) (ties to the lowest index) without the score: the torch path skips the logsumexp, a fifth
    of a CPU request when clamping at every step."""
    if _triton_for(h, weight):
        return argmax_rows_triton(h, weight, bias)
    return torch.nn.functional.linear(h, weight, bias).float().argmax(dim=-1)


__all__ = [
    "MODES",
    "HAVE_TRITON",
    "KernelError",
    "use",
    "check_mode",
    "noise_update",
    "cross_attention",
    "argmax_head",
    "argmax_rows",
    "noise_update_ref",
    "cross_attention_ref",
    "argmax_head_ref",
    "noise_update_triton",
    "cross_attention_triton",
    "argmax_head_triton",
    "argmax_rows_triton",
]
