"""The square-root noise schedule, forward noising q(x_t | x_0) and the step table of the (strided) sampler."""

from __future__ import annotations

import numpy as np
import torch


def sqrt_alpha_bar(T: int, s: float = 1e-4) -> np.ndarray:
    """alpha_bar for t = 0..T-1 (float64), from the square-root schedule of Diffusion-LM used by CodeFusion.

    f(u) = 1 - sqrt(u + s); beta_t = min(1 - f((t+1)/T) / f(t/T), 0.999); alpha_bar_t = prod_{i<=t} (1 - beta_i).
    The product telescopes, so alpha_bar_t = f((t+1)/T) / f(0) until the 0.999 clip bites at the very end.
    """
    f = lambda u: 1.0 - np.sqrt(u + s)  # noqa: E731
    u = np.arange(T + 1, dtype=np.float64) / T
    betas = np.minimum(1.0 - f(u[1:]) / f(u[:-1]), 0.999)
    return np.cumprod(1.0 - betas)


class Schedule:
    """Holds alpha_bar on a device (float32) for training; builds the sampler's step table."""

    def __init__(self, T: int, s: float = 1e-4):
        self.T = T
        self.alpha_bar64 = sqrt_alpha_bar(T, s)
        self.alpha_bar = torch.tensor(self.alpha_bar64, dtype=torch.float32)

    def add_noise(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps (DDPM eq. 4). x0, noise: (B, n, d); t: (B,)."""
        if self.alpha_bar.device != x0.device:  # moved once, not copied from the host at every step
            self.alpha_bar = self.alpha_bar.to(x0.device)
        ab = self.alpha_bar[t][:, None, None]
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise

    def timesteps(self, steps: int) -> list[int]:
        """Descending timesteps for a sampler of `steps` steps: all T of them, or an evenly strided subset."""
        if not 1 <= steps <= self.T:
            raise ValueError(f"steps must be in 1..{self.T}, got {steps}")
        return sorted({int(round(x)) for x in np.linspace(self.T - 1, 0, steps)}, reverse=True)

    def step_table(self, steps: int, eta: float = 0.0) -> tuple[list[int], torch.Tensor]:
        """(timesteps, coefs) with coefs[i] = (c0, c1, sigma) taking x_{t_i} to x_{t_{i+1}} (DDIM, eq. 12 and 16).

        eta = 0 is deterministic DDIM; eta = 1 is DDPM's ancestral sampler. The last row maps to the clean sample.
        Computed in float64, stored in float32.
        """
        ts = self.timesteps(steps)
        rows = []
        for i, t in enumerate(ts):
            ab = self.alpha_bar64[t]
            ab_next = self.alpha_bar64[ts[i + 1]] if i + 1 < len(ts) else 1.0
            sigma = eta * np.sqrt((1 - ab_next) / (1 - ab) * (1 - ab / ab_next))
            c1 = np.sqrt(max(1 - ab_next - sigma**2, 0.0) / (1 - ab))
            c0 = np.sqrt(ab_next) - c1 * np.sqrt(ab)
            rows.append((c0, c1, sigma))
        return ts, torch.tensor(rows, dtype=torch.float64).float()
