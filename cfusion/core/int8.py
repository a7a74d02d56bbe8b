"""Int8 matrix products for CPU inference: each nn.Linear becomes an Int8Linear that multiplies int8 activations
(one scale per row, taken from the row's absolute maximum) by int8 weights (one scale per output feature) with
torch._int_mm, which uses the CPU's VNNI instructions: about 4x an fp32 product on AVX-512 cores. A CPU without
int8 dot-product instructions (AVX2 alone) runs the same product about 50x slower than fp32, so int8 is used only where
`fast()` finds them.

The shipped weights are already stored this way (bundle.quantize_state), so only the activations lose precision.
What that costs in answers is measured in benchmarks/cpu_latency.py; the GPU path never uses it."""

from __future__ import annotations

import torch
from torch import nn


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row of a matrix as int8 at its own symmetric scale (absmax / 127): (q (M, K) int8, scale (M,) float32),
    with x ~ q * scale[:, None]. The shipped weights (bundle.quantize_state), the weights of an Int8Linear and its
    activations are all rounded this one way."""
    x = x.float()
    scale = x.abs().amax(1).clamp_min(1e-12) / 127
    # |x| / scale <= 127 up to float rounding, so no clamp is needed; rounding in place saves a copy (CPU: per call
    # overhead is most of the cost at a request's small shapes).
    return (x / scale[:, None]).round_().to(torch.int8), scale


class Int8Linear(nn.Module):
    """y = (q(x) W_q^T) * s_x s_w + b, with q(x) the rows of x rounded to int8 at scale s_x = absmax / 127."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        q, scale = quantize_rows(linear.weight.detach())  # (N, K), (N,)
        self.register_buffer("weight_t", q.t().contiguous())
        self.register_buffer("scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        xq, sx = quantize_rows(x.reshape(-1, shape[-1]))  # (M, K), (M,)
        y = torch._int_mm(xq, self.weight_t).float().mul_(sx[:, None]).mul_(self.scale)
        if self.bias is not None:
            y.add_(self.bias)
        return y.reshape(*shape[:-1], self.out_features)


def quantize_linears(module: nn.Module) -> int:
    """Replaces every nn.Linear inside `module` (in place) by an Int8Linear; returns how many were replaced."""
    n = 0
    for name, child in list(module.named_children()):
        if type(child) is nn.Linear:
            setattr(module, name, Int8Linear(child))
            n += 1
        else:
            n += quantize_linears(child)
    return n


VNNI = ("avx512_vnni", "avx_vnni", "amx_int8")  # /proc/cpuinfo flags of int8 dot products that torch._int_mm uses


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them; empty elsewhere, or when they cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def fast(flags: set[str] | None = None) -> bool:
    """Whether int8 products beat float32 here: torch multiplies int8 on the CPU and the CPU has int8 dot-product
    instructions (VNNI or AMX; `flags`: the CPU's, by default read from /proc/cpuinfo). Where the flags cannot be read
    (not Linux), float32 is kept: it is never the slow choice."""
    flags = cpu_flags() if flags is None else flags
    return bool(flags & set(VNNI)) and supported()


def supported() -> bool:
    """Whether this build of torch multiplies int8 matrices on the CPU."""
    try:
        a = torch.ones(32, 8, dtype=torch.int8)
        return bool((torch._int_mm(a, a.t().contiguous()) == 8).all())
    except (RuntimeError, AttributeError):
        return False
