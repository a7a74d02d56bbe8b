"""The fused linear + argmax head against its plain-torch reference: indices, ties and winning scores."""

import pytest
import torch
from conftest import gpu_device, triton_device

from cfusion.kernels import argmax_head_ref


def inputs(M, D, V, dtype, device, bias=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(M, D, generator=g)
    w = torch.randn(V, D, generator=g) / D**0.5
    b = torch.randn(V, generator=g) if bias else None
    return h.to(device, dtype), w.to(device, dtype), b.to(device, dtype) if bias else None


@pytest.mark.parametrize("shape", [(47, 33, 301), (1, 16, 1), (130, 128, 1000)])
@pytest.mark.parametrize("bias", [True, False])
def test_kernel_equals_reference(shape, bias):
    from cfusion.kernels import argmax_head_triton

    dev = triton_device()
    h, w, b = inputs(*shape, torch.float32, dev, bias)
    ids, score = argmax_head_triton(h, w, b)
    want_ids, want_score = argmax_head_ref(h, w, b)
    assert ids.dtype == torch.int64 and ids.shape == want_ids.shape
    assert torch.equal(ids, want_ids)
    torch.testing.assert_close(score, want_score, rtol=1e-5, atol=1e-5)


def test_leading_dimensions_are_kept():
    from cfusion.kernels import argmax_head_triton

    dev = triton_device()
    h = torch.randn(3, 5, 24, device=dev)
    w = torch.randn(77, 24, device=dev)
    ids, score = argmax_head_triton(h, w, None)
    assert ids.shape == score.shape == (3, 5)
    assert torch.equal(ids, argmax_head_ref(h, w, None)[0])


def test_ties_go_to_the_lowest_index():
    """Small integers make every dot product exact, so equal rows of W tie exactly; the first copy must win, across
    vocabulary slices too."""
    from cfusion.kernels import argmax_head_triton

    dev = triton_device()
    g = torch.Generator().manual_seed(0)
    h = torch.randint(-3, 4, (9, 16), generator=g).float().to(dev)
    w = torch.randint(-3, 4, (700, 16), generator=g).float().to(dev)
    w[690:699] = w[argmax_head_ref(h, w, None)[0]]  # a later copy of each row's winner, in the last slice
    first = argmax_head_ref(h, w, None)[0]
    w[3] = w[first[0]]  # an earlier copy of row 0's winner: it must now win for row 0
    ids, _ = argmax_head_triton(h, w, None)
    assert torch.equal(ids, argmax_head_ref(h, w, None)[0])
    assert ids[0] == 3 and all(ids[1:] < 690)


def test_argmax_rows_gives_the_heads_ids_on_both_paths():
    """The clamping step's argmax without the score: torch's path skips the logsumexp, and must still pick the head's
    index, ties included."""
    from cfusion import kernels

    g = torch.Generator().manual_seed(1)
    h = torch.randint(-3, 4, (3, 7, 16), generator=g).float()
    w = torch.randint(-3, 4, (301, 16), generator=g).float()
    w[290:] = w[argmax_head_ref(h, w, None)[0].flatten()[:11]]  # later copies of winners tie with them
    b = torch.randint(-2, 3, (301,), generator=g).float()  # the decoder's head has a bias
    for bias in (None, b):
        want = argmax_head_ref(h, w, bias)[0]
        with kernels.use("torch"):
            assert torch.equal(kernels.argmax_rows(h, w, bias), want)
        dev = triton_device()
        with kernels.use("triton"):
            on = None if bias is None else bias.to(dev)
            assert torch.equal(kernels.argmax_rows(h.to(dev), w.to(dev), on).cpu(), want)
    assert not torch.equal(argmax_head_ref(h, w, b)[0], argmax_head_ref(h, w, None)[0])  # the bias mattered


@pytest.mark.gpu
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float16, 2e-2), (torch.bfloat16, 6e-2)])
@pytest.mark.parametrize("shape", [(320, 128, 8000), (16384, 128, 8000), (47, 33, 301)])
def test_kernel_equals_reference_on_gpu(dtype, tol, shape):
    """The kernel accumulates the logits in fp32, while the reference rounds them to the input dtype first (many
    bf16 ties). So: winners' scores within tolerance of the reference, and indices equal to the exact (float64)
    argmax wherever the top two logits are apart by more than fp32 rounding."""
    from cfusion.kernels import argmax_head_triton, argmax_rows_triton

    dev = gpu_device()
    h, w, b = inputs(*shape, dtype, dev)
    ids, score = argmax_head_triton(h, w, b)
    assert torch.equal(argmax_rows_triton(h, w, b), ids)
    _, want_score = argmax_head_ref(h, w, b)
    torch.testing.assert_close(score, want_score, rtol=tol, atol=tol)
    exact = torch.nn.functional.linear(h.double(), w.double(), b.double())
    top2 = exact.topk(2, dim=-1)
    clear = (top2.values[:, 0] - top2.values[:, 1]) > 1e-3
    assert clear.float().mean() > 0.9
    assert torch.equal(ids[clear], top2.indices[clear, 0])


@pytest.mark.parametrize("shape", [(5, 16, 300), (64 * 256 + 3, 20, 130)])
def test_both_paths_over_repeated_calls(shape):
    """Few rows split the vocabulary and merge in the launch's last program per row block, which resets its counter;
    many rows (over 256 row blocks) take the whole vocabulary in each program. Three calls in a row on new inputs
    must each equal the reference: a counter left set would skip the next call's merge. The ids-only variant (no
    log-normaliser) shares the counters."""
    from cfusion.kernels import argmax_head_triton, argmax_rows_triton

    dev = triton_device()
    for seed in range(3):
        h, w, b = inputs(*shape, torch.float32, dev, seed=seed)
        ids, score = argmax_head_triton(h, w, b)
        want_ids, want_score = argmax_head_ref(h, w, b)
        assert torch.equal(ids, want_ids) and torch.equal(argmax_rows_triton(h, w, b), want_ids)
        torch.testing.assert_close(score, want_score, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_kernel_in_a_cuda_graph():
    """Inside a CUDA graph (the sampling loop's) the kernel's counters belong to the graph: replays on new inputs
    equal the reference, and eager calls between them are unaffected."""
    from cfusion.core.graphs import capture
    from cfusion.kernels import argmax_head_triton

    dev = gpu_device()
    h, w, b = inputs(320, 128, 8000, torch.float32, dev)
    graph, out = capture(lambda: argmax_head_triton(h, w, b), torch.device(dev))
    for seed in range(1, 4):
        h2, _, _ = inputs(320, 128, 8000, torch.float32, dev, seed=seed)
        h.copy_(h2)
        graph.replay()
        eager = argmax_head_triton(h2, w, b)
        torch.cuda.synchronize()
        want_ids, want_score = argmax_head_ref(h2, w, b)
        for ids, score in (out, eager):
            assert torch.equal(ids, want_ids)
            torch.testing.assert_close(score, want_score, rtol=1e-4, atol=1e-4)
