import numpy as np
import pytest
import torch

from cfusion.core.diffusion import Schedule, sqrt_alpha_bar
from cfusion.kernels import noise_update_ref


def test_schedule_matches_the_square_root_formula():
    T, s = 1200, 1e-4
    ab = sqrt_alpha_bar(T, s)
    t = np.arange(T - 1)  # the last step is where the 0.999 clip bites
    expected = (1 - np.sqrt((t + 1) / T + s)) / (1 - np.sqrt(s))
    np.testing.assert_allclose(ab[:-1], expected, rtol=1e-12)
    assert np.all(np.diff(ab) < 0) and 0 < ab[-1] < 1e-3 and ab[0] > 0.97


def test_add_noise_has_the_marginal_variance():
    sch = Schedule(1200)
    x0 = torch.zeros(4000, 1, 8)
    t = torch.full((4000,), 600)
    xt = sch.add_noise(x0, t, torch.randn(4000, 1, 8, generator=torch.Generator().manual_seed(0)))
    assert abs(xt.var().item() - (1 - sch.alpha_bar[600].item())) < 0.02


@pytest.mark.parametrize("steps", [1, 7, 50, 1200])
def test_timesteps_are_descending_and_end_at_zero(steps):
    ts = Schedule(1200).timesteps(steps)
    assert (
        ts[0] == 1199
        and ts[-1] == (0 if steps > 1 else 1199)
        and len(ts) == steps
        and all(a > b for a, b in zip(ts, ts[1:]))
    )


def test_timesteps_reject_out_of_range():
    with pytest.raises(ValueError, match="1..1200"):
        Schedule(1200).timesteps(0)


def test_ddim_step_with_the_true_x0_lands_on_the_next_marginal():
    """eta = 0 and a perfect x0 prediction: x_{t'} = sqrt(ab') x0 + sqrt(1 - ab') eps, with the same eps."""
    sch = Schedule(1200)
    ts, coefs = sch.step_table(10, eta=0.0)
    g = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(3, 5, 4, generator=g), torch.randn(3, 5, 4, generator=g)
    for i in range(len(ts) - 1):
        xt = sch.add_noise(x0, torch.full((3,), ts[i]), eps)
        nxt = noise_update_ref(xt, x0, torch.zeros_like(x0), coefs, torch.full((3,), i))
        ab = sch.alpha_bar[ts[i + 1]]
        torch.testing.assert_close(nxt, ab.sqrt() * x0 + (1 - ab).sqrt() * eps, rtol=1e-4, atol=1e-5)
    assert coefs[-1].tolist() == [1.0, 0.0, 0.0]


def test_eta_one_is_ddpm_posterior_variance():
    sch = Schedule(1200)
    ts, coefs = sch.step_table(1200, eta=1.0)
    ab = sch.alpha_bar64
    t = 500
    beta = 1 - ab[t] / ab[t - 1]
    posterior_var = (1 - ab[t - 1]) / (1 - ab[t]) * beta
    i = ts.index(t)
    assert coefs[i, 2].item() == pytest.approx(np.sqrt(posterior_var), rel=1e-5)


def test_noise_update_reads_each_samples_own_step():
    coefs = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    x, x0, z = torch.full((3, 2, 2), 1.0), torch.full((3, 2, 2), 2.0), torch.full((3, 2, 2), 3.0)
    out = noise_update_ref(x, x0, z, coefs, torch.tensor([0, 1, 2]))
    assert out[0].unique().item() == 2.0 and out[1].unique().item() == 1.0 and out[2].unique().item() == 3.0
