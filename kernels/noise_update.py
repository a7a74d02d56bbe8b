"""Noise-schedule update of the denoising loop: x_next = c0 * x0_hat + c1 * x_t + sigma * z."""

from __future__ import annotations

import torch


def noise_update_ref(
    x_t: torch.Tensor, x0_hat: torch.Tensor, z: torch.Tensor, coefs: torch.Tensor, step: torch.Tensor
) -> torch.Tensor:
    """One DDIM step (Song et al. 2021, eq. 12) written in x0-prediction form.

    x_t, x0_hat, z: (B, n, d); coefs: (S, 3) table of (c0, c1, sigma) per sampling step, on the device;
    step: (B,) int index into the table, so each sample may sit at its own step and no host round trip is needed.
    With eps_hat = (x_t - sqrt(ab_t) x0_hat) / sqrt(1 - ab_t):
        x_next = sqrt(ab_next) x0_hat + sqrt(1 - ab_next - sigma^2) eps_hat + sigma z
               = c0 x0_hat + c1 x_t + sigma z.
    """
    c = coefs.index_select(0, step).to(x_t.dtype)[:, None, None, :]  # (B, 1, 1, 3)
    return c[..., 0] * x0_hat + c[..., 1] * x_t + c[..., 2] * z
