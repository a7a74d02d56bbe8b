"""Noise-schedule update of the denoising loop: x_next = c0 * x0_hat + c1 * x_t + sigma * z."""

from __future__ import annotations

import torch

from cfusion.kernels._triton import tl, triton  # None on a CPU-only machine: the reference below runs


def noise_update_ref(
    x_t: torch.Tensor, x0_hat: torch.Tensor, z: torch.Tensor | None, coefs: torch.Tensor, step: torch.Tensor
) -> torch.Tensor:
    """One DDIM step (Song et al. 2021, eq. 12) written in x0-prediction form.

    x_t, x0_hat, z: (B, n, d) (z may be None when sigma is 0); coefs: (S, 3) float32 table of (c0, c1, sigma) per
    sampling step, on the device; step: (B,) int index into the table, so each sample may sit at its own step and no
    host round trip is needed. With eps_hat = (x_t - sqrt(ab_t) x0_hat) / sqrt(1 - ab_t):
        x_next = sqrt(ab_next) x0_hat + sqrt(1 - ab_next - sigma^2) eps_hat + sigma z
               = c0 x0_hat + c1 x_t + sigma z.
    Computed in float32, returned in x_t's dtype.
    """
    c = coefs.index_select(0, step)[:, None, None, :]  # (B, 1, 1, 3)
    out = c[..., 0] * x0_hat.float() + c[..., 1] * x_t.float()
    if z is not None:
        out = out + c[..., 2] * z.float()
    return out.to(x_t.dtype)


if triton is not None:

    @triton.jit
    def _noise_update_kernel(x_ptr, x0_ptr, z_ptr, out_ptr, coefs_ptr, step_ptr, per_row, BLOCK: tl.constexpr,
                             HAS_Z: tl.constexpr):  # fmt: skip
        # Grid: (B, cdiv(n * d, BLOCK)). Each program reads its row's three coefficients once, then streams BLOCK
        # elements of x_t, x0_hat (and z): 3 loads and 1 store per element, the minimum traffic.
        row = tl.program_id(0)
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < per_row
        s = tl.load(step_ptr + row)
        c0 = tl.load(coefs_ptr + 3 * s)
        c1 = tl.load(coefs_ptr + 3 * s + 1)
        base = row.to(tl.int64) * per_row + offs
        x = tl.load(x_ptr + base, mask=mask).to(tl.float32)
        x0 = tl.load(x0_ptr + base, mask=mask).to(tl.float32)
        y = c0 * x0 + c1 * x
        if HAS_Z:
            sigma = tl.load(coefs_ptr + 3 * s + 2)
            y += sigma * tl.load(z_ptr + base, mask=mask).to(tl.float32)
        tl.store(out_ptr + base, y.to(out_ptr.dtype.element_ty), mask=mask)


def noise_update_triton(
    x_t: torch.Tensor,
    x0_hat: torch.Tensor,
    z: torch.Tensor | None,
    coefs: torch.Tensor,
    step: torch.Tensor,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """The fused kernel; same contract as noise_update_ref. `out` may be x_t itself (the update is in place)."""
    B = x_t.shape[0]
    x_t, x0_hat = x_t.contiguous(), x0_hat.contiguous()
    z = z.contiguous() if z is not None else None
    out = torch.empty_like(x_t) if out is None else out
    per_row = x_t.numel() // B
    BLOCK = min(4096, triton.next_power_of_2(per_row))
    grid = (B, triton.cdiv(per_row, BLOCK))
    _noise_update_kernel[grid](
        x_t, x0_hat, z if z is not None else x_t, out, coefs.float().contiguous(), step.contiguous(), per_row,
        BLOCK=BLOCK, HAS_Z=z is not None,
    )  # fmt: skip
    return out
