"""Argmax head: the final linear layer and the argmax over the vocabulary, with the winner's log-probability."""

from __future__ import annotations

import torch

from cfusion.kernels._triton import tl, triton  # None on a CPU-only machine: the reference below runs


def argmax_head_ref(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """ids = argmax_v (h W^T + b)_v (ties to the lowest index); score = logit[ids] - logsumexp(logits).

    h: (..., d); weight: (V, d); bias: (V,) or None. Returns ids (...,) int64 and score (...,) float32.
    """
    logits = torch.nn.functional.linear(h, weight, bias).float()
    top, ids = logits.max(dim=-1)  # torch.max returns the first maximal index
    return ids, top - torch.logsumexp(logits, dim=-1)


if triton is not None:

    @triton.jit
    def _argmax_head_kernel(
        h_ptr, w_ptr, b_ptr, pmax_ptr, pidx_ptr, psum_ptr,
        M, V, D, shm, swv, v_per_split, n_splits,
        HAS_BIAS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr,
        IEEE: tl.constexpr,
    ):  # fmt: skip
        # Grid: (cdiv(M, BLOCK_M), n_splits). Each program holds BLOCK_M rows of h and walks its slice of the
        # vocabulary BLOCK_V columns at a time: logits live only in registers. It keeps, per row, the running max,
        # its index (strictly greater wins, so ties keep the lowest index) and sum(exp(logit - max)) for the
        # log-normaliser. The slices are combined afterwards (argmax_head_triton).
        pid_m = tl.program_id(0)
        split = tl.program_id(1)
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        dmask = offs_d < D
        h = tl.load(
            h_ptr + offs_m[:, None] * shm + offs_d[None, :], mask=(offs_m < M)[:, None] & dmask[None, :], other=0.0
        )
        best = tl.full([BLOCK_M], float("-inf"), tl.float32)
        best_i = tl.zeros([BLOCK_M], tl.int32)
        total = tl.zeros([BLOCK_M], tl.float32)
        v_lo = split * v_per_split
        v_hi = tl.minimum(v_lo + v_per_split, V)
        for v0 in range(v_lo, v_hi, BLOCK_V):
            offs_v = v0 + tl.arange(0, BLOCK_V)
            vmask = offs_v < v_hi
            w = tl.load(
                w_ptr + offs_v[None, :] * swv + offs_d[:, None], mask=vmask[None, :] & dmask[:, None], other=0.0
            )
            if IEEE:
                logits = tl.dot(h, w, input_precision="ieee")  # (BLOCK_M, BLOCK_V) float32
            else:
                logits = tl.dot(h, w)
            if HAS_BIAS:
                logits += tl.load(b_ptr + offs_v, mask=vmask, other=0.0).to(tl.float32)[None, :]
            logits = tl.where(vmask[None, :], logits, float("-inf"))
            blk_max, blk_i = tl.max(logits, 1, return_indices=True, return_indices_tie_break_left=True)
            new = tl.maximum(best, blk_max)
            total = total * tl.exp(best - new) + tl.sum(tl.exp(logits - new[:, None]), 1)
            best_i = tl.where(blk_max > best, v0 + blk_i, best_i)
            best = new
        out = offs_m * n_splits + split
        rmask = offs_m < M
        tl.store(pmax_ptr + out, best, mask=rmask)
        tl.store(pidx_ptr + out, best_i, mask=rmask)
        tl.store(psum_ptr + out, total, mask=rmask)


def argmax_head_triton(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fused kernel; same contract as argmax_head_ref. The logits are never written to memory."""
    shape, D = h.shape[:-1], h.shape[-1]
    V = weight.shape[0]
    h2 = h.reshape(-1, D)
    h2 = h2 if h2.stride(-1) == 1 else h2.contiguous()
    weight = weight if weight.stride(-1) == 1 else weight.contiguous()
    M = h2.shape[0]
    BLOCK_D = max(16, triton.next_power_of_2(D))
    BLOCK_M = min(64, max(16, triton.next_power_of_2(M)))
    BLOCK_V = 128 if BLOCK_D <= 128 else 64
    m_blocks = triton.cdiv(M, BLOCK_M)
    # Enough programs to fill the GPU: split the vocabulary when there are few row blocks (one request, k = 5).
    n_splits = max(1, min(triton.cdiv(V, BLOCK_V), triton.cdiv(256, m_blocks)))
    v_per_split = triton.cdiv(triton.cdiv(V, n_splits), BLOCK_V) * BLOCK_V
    n_splits = triton.cdiv(V, v_per_split)
    part = torch.empty(3, M, n_splits, device=h.device, dtype=torch.float32)
    pidx = torch.empty(M, n_splits, device=h.device, dtype=torch.int32)
    _argmax_head_kernel[(m_blocks, n_splits)](
        h2, weight, bias if bias is not None else weight, part[0], pidx, part[1],
        M, V, D, h2.stride(0), weight.stride(0), v_per_split, n_splits,
        HAS_BIAS=bias is not None, BLOCK_M=BLOCK_M, BLOCK_V=BLOCK_V, BLOCK_D=BLOCK_D,
        IEEE=h.dtype == torch.float32,
    )  # fmt: skip
    pmax, psum = part[0], part[1]
    top, which = pmax.max(dim=1)  # the first split holding the maximum: the lowest index among ties
    ids = pidx.gather(1, which[:, None]).squeeze(1).long()
    score = -torch.log((psum * torch.exp(pmax - top[:, None])).sum(1))  # top - logsumexp
    return ids.reshape(shape), score.reshape(shape)
