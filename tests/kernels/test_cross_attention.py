"""Length-aware flash-style cross-attention against its plain-torch reference (SDPA with a padding mask)."""

import pytest
import torch
from conftest import gpu_device, triton_device

from cfusion.kernels import cross_attention_ref


def inputs(B, H, n, S, D, dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, n, D, generator=g)
    k = torch.randn(B, H, S, D, generator=g)
    v = torch.randn(B, H, S, D, generator=g)
    lens = torch.randint(1, S + 1, (B,), generator=g)
    lens[0] = S  # one full row, one of length 1
    lens[-1] = 1
    return *(t.to(device, dtype) for t in (q, k, v)), lens.to(device)


# The last: 48 code positions over a request and four recalled pairs (a retrieval-aware model's memory).
@pytest.mark.parametrize("shape", [(3, 2, 47, 33, 24), (2, 1, 5, 130, 16), (4, 3, 64, 70, 64), (2, 2, 48, 333, 32)])
def test_kernel_equals_reference(shape):
    from cfusion.kernels import cross_attention_triton

    dev = triton_device()
    args = inputs(*shape, torch.float32, dev)
    torch.testing.assert_close(cross_attention_triton(*args), cross_attention_ref(*args), rtol=1e-4, atol=1e-5)


def test_padding_keys_are_never_read():
    """Garbage (even NaN) past each row's length must not change the output."""
    from cfusion.kernels import cross_attention_triton

    dev = triton_device()
    q, k, v, lens = inputs(3, 2, 9, 40, 16, torch.float32, dev)
    want = cross_attention_triton(q, k, v, lens)
    for b in range(3):
        k[b, :, lens[b] :] = float("nan")
        v[b, :, lens[b] :] = float("nan")
    torch.testing.assert_close(cross_attention_triton(q, k, v, lens), want)


def test_kernel_reads_strided_views():
    """q, k, v as the model makes them: permuted views of one projection, not contiguous copies."""
    from cfusion.kernels import cross_attention_triton

    dev = triton_device()
    B, S, H, D = 3, 21, 2, 16
    kv = torch.randn(B, S, 2, H, D).permute(2, 0, 3, 1, 4).to(dev)  # (2, B, H, S, D), strided
    q = torch.randn(B, 11, H, D).transpose(1, 2).to(dev)
    lens = torch.tensor([21, 7, 1], device=dev)
    torch.testing.assert_close(
        cross_attention_triton(q, kv[0], kv[1], lens), cross_attention_ref(q, kv[0], kv[1], lens), rtol=1e-4, atol=1e-5
    )


@pytest.mark.gpu
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float16, 2e-3), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("shape", [(5, 6, 64, 256, 64), (256, 8, 64, 256, 64), (3, 2, 47, 33, 24), (1, 6, 1, 1, 64)])
def test_kernel_equals_reference_on_gpu(dtype, tol, shape):
    from cfusion.kernels import cross_attention_triton

    dev = gpu_device()
    args = inputs(*shape, dtype, dev)
    torch.testing.assert_close(cross_attention_triton(*args), cross_attention_ref(*args), rtol=tol, atol=tol)
