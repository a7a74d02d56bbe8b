"""The fused noise-schedule update against its plain-torch reference."""

import pytest
import torch
from conftest import gpu_device, triton_device

from cfusion.core.diffusion import Schedule
from cfusion.kernels import noise_update_ref


def inputs(B, n, d, dtype, device, with_z, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, x0, z = (torch.randn(B, n, d, generator=g).to(device, dtype) for _ in range(3))
    _, coefs = Schedule(1200).step_table(20, eta=1.0 if with_z else 0.0)
    step = torch.randint(0, coefs.shape[0], (B,), generator=g)
    return x, x0, z if with_z else None, coefs.to(device), step.to(device)


@pytest.mark.parametrize("shape", [(3, 47, 33), (1, 1, 1), (5, 64, 128)])
@pytest.mark.parametrize("with_z", [False, True])
def test_kernel_equals_reference(shape, with_z):
    from cfusion.kernels import noise_update_triton

    dev = triton_device()
    args = inputs(*shape, torch.float32, dev, with_z)
    torch.testing.assert_close(noise_update_triton(*args), noise_update_ref(*args), rtol=1e-6, atol=1e-6)


def test_kernel_updates_in_place():
    from cfusion.kernels import noise_update_triton

    dev = triton_device()
    x, x0, z, coefs, step = inputs(2, 9, 7, torch.float32, dev, True)
    want = noise_update_ref(x, x0, z, coefs, step)
    out = noise_update_triton(x, x0, z, coefs, step, out=x)
    assert out.data_ptr() == x.data_ptr()
    torch.testing.assert_close(x, want, rtol=1e-6, atol=1e-6)


def test_reference_is_the_ddim_step():
    """Each row uses its own step's coefficients: row b equals c0 x0 + c1 x + sigma z with coefs[step[b]]."""
    x, x0, z, coefs, step = inputs(4, 3, 2, torch.float64, "cpu", True)
    out = noise_update_ref(x, x0, z, coefs, step)
    for b in range(4):
        c0, c1, s = coefs[step[b]].double()
        torch.testing.assert_close(out[b], c0 * x0[b] + c1 * x[b] + s * z[b])


@pytest.mark.gpu
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.float16, 1e-3), (torch.bfloat16, 8e-3)])
@pytest.mark.parametrize("shape", [(320, 64, 128), (3, 47, 33), (1280, 56, 128)])
def test_kernel_equals_reference_on_gpu(dtype, tol, shape):
    from cfusion.kernels import noise_update_triton

    dev = gpu_device()
    for with_z in (False, True):
        args = inputs(*shape, dtype, dev, with_z)
        torch.testing.assert_close(noise_update_triton(*args), noise_update_ref(*args), rtol=tol, atol=tol)
