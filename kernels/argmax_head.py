"""Argmax head: the final linear layer and the argmax over the vocabulary, with the winner's log-probability."""

from __future__ import annotations

import functools

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
        h_ptr, w_ptr, b_ptr, ids_ptr, score_ptr, pmax_ptr, pidx_ptr, psum_ptr, count_ptr,
        M, V, D, shm, swv, v_per_split, n_splits,
        HAS_BIAS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr,
        SPLITS: tl.constexpr, SCORE: tl.constexpr, IEEE: tl.constexpr,
    ):  # fmt: skip
        # Grid: (cdiv(M, BLOCK_M), n_splits). Each program holds BLOCK_M rows of h and walks its slice of the
        # vocabulary BLOCK_V columns at a time: logits live only in registers. It keeps, per row, the running max,
        # its index (strictly greater wins, so ties keep the lowest index) and sum(exp(logit - max)) for the
        # log-normaliser (SCORE; the ids alone skip it).
        pid_m = tl.program_id(0)
        split = tl.program_id(1)
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rmask = offs_m < M
        offs_d = tl.arange(0, BLOCK_D)
        dmask = offs_d < D
        h = tl.load(h_ptr + offs_m[:, None] * shm + offs_d[None, :], mask=rmask[:, None] & dmask[None, :], other=0.0)
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
            if SCORE:
                total = total * tl.exp(best - new) + tl.sum(tl.exp(logits - new[:, None]), 1)
            best_i = tl.where(blk_max > best, v0 + blk_i, best_i)
            best = new
        if SPLITS == 1:  # the whole vocabulary in one program: score = max - logsumexp = -log(total)
            tl.store(ids_ptr + offs_m, best_i.to(tl.int64), mask=rmask)
            if SCORE:
                tl.store(score_ptr + offs_m, -tl.log(total), mask=rmask)
        else:
            # Split-K over the vocabulary: each slice leaves its partials, and the last program of the row block to
            # finish (counted by an atomic, which also orders the other slices' stores before its loads) merges them,
            # so one launch does it all. It resets the counter for the next call.
            mine = offs_m * n_splits + split
            tl.store(pmax_ptr + mine, best, mask=rmask)
            tl.store(pidx_ptr + mine, best_i, mask=rmask)
            if SCORE:
                tl.store(psum_ptr + mine, total, mask=rmask)
            arrived = tl.atomic_add(count_ptr + pid_m, 1, sem="acq_rel", scope="gpu")
            if arrived == n_splits - 1:
                offs_s = tl.arange(0, SPLITS)
                both = rmask[:, None] & (offs_s < n_splits)[None, :]
                at = offs_m[:, None] * n_splits + offs_s[None, :]
                pmax = tl.load(pmax_ptr + at, mask=both, other=float("-inf"), cache_modifier=".cg")
                # the first slice holding the maximum: the lowest index among ties
                top, which = tl.max(pmax, 1, return_indices=True, return_indices_tie_break_left=True)
                top = tl.where(rmask, top, 0.0)  # rows past M: keep their arithmetic finite (nothing is stored)
                ids = tl.load(pidx_ptr + offs_m * n_splits + which, mask=rmask, other=0, cache_modifier=".cg")
                tl.store(ids_ptr + offs_m, ids.to(tl.int64), mask=rmask)
                if SCORE:
                    psum = tl.load(psum_ptr + at, mask=both, other=0.0, cache_modifier=".cg")
                    merged = tl.where(rmask, tl.sum(psum * tl.exp(pmax - top[:, None]), 1), 1.0)
                    tl.store(score_ptr + offs_m, -tl.log(merged), mask=rmask)
                tl.atomic_xchg(count_ptr + pid_m, 0)


PROGRAMS = 256  # programs that fill an H100 (132 SMs) about twice: the vocabulary is split below this many row blocks
_counters: dict = {}


@functools.lru_cache(maxsize=256)
def plan(M: int, V: int, D: int, block_m: int = 64, block_v: int = 0, programs: int = PROGRAMS, warps: int = 4):
    """(BLOCK_M, BLOCK_V, BLOCK_D, row blocks, vocabulary slices, columns per slice, warps) for an (M, D) x (D, V)
    head. block_v 0: 128 columns, or 64 when D > 128. The defaults are the fastest tiling of the grid that
    `benchmarks/argmax_head_configs.py --grid` times on an H100 (benchmarks/RESULTS.md)."""
    BLOCK_D = max(16, triton.next_power_of_2(D))
    BLOCK_M = min(block_m, max(16, triton.next_power_of_2(M)))
    BLOCK_V = block_v or (128 if BLOCK_D <= 128 else 64)
    m_blocks = triton.cdiv(M, BLOCK_M)
    # Enough programs to fill the GPU: split the vocabulary when there are few row blocks (one request, k = 5).
    n_splits = max(1, min(triton.cdiv(V, BLOCK_V), triton.cdiv(programs, m_blocks)))
    v_per_split = triton.cdiv(triton.cdiv(V, n_splits), BLOCK_V) * BLOCK_V
    n_splits = triton.cdiv(V, v_per_split)
    return BLOCK_M, BLOCK_V, BLOCK_D, m_blocks, n_splits, v_per_split, warps


def _counter(device: torch.device, m_blocks: int) -> torch.Tensor:
    """Per-row-block arrival counters, zero between calls (the kernel resets them). One set per device and stream,
    as kernels on one stream never overlap. Inside a CUDA-graph capture a fresh set is made, zeroed by the graph."""
    if device.type == "cuda" and torch.cuda.is_current_stream_capturing():
        return torch.zeros(m_blocks, device=device, dtype=torch.int32)
    stream = torch.cuda.current_stream(device).cuda_stream if device.type == "cuda" else 0
    key = (str(device), stream)
    if key not in _counters or _counters[key].numel() < m_blocks:
        _counters[key] = torch.zeros(max(m_blocks, PROGRAMS), device=device, dtype=torch.int32)
    return _counters[key]


def argmax_head_triton(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, config: dict | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fused kernel, one launch; same contract as argmax_head_ref. The logits are never written to memory.
    config: plan()'s keywords, to compare tilings (benchmarks/argmax_head_configs.py)."""
    return _launch(h, weight, bias, config, score=True)


def argmax_rows_triton(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, config: dict | None = None
) -> torch.Tensor:
    """The ids of argmax_head_triton alone, without the log-normaliser's exponentials: a clamped denoising step's
    read of each position."""
    return _launch(h, weight, bias, config, score=False)[0]


def _launch(h, weight, bias, config, score: bool):
    shape, D = h.shape[:-1], h.shape[-1]
    V = weight.shape[0]
    h2 = h.reshape(-1, D)
    h2 = h2 if h2.stride(-1) == 1 else h2.contiguous()
    weight = weight if weight.stride(-1) == 1 else weight.contiguous()
    M = h2.shape[0]
    BLOCK_M, BLOCK_V, BLOCK_D, m_blocks, n_splits, v_per_split, warps = plan(M, V, D, **(config or {}))
    ids = torch.empty(M, device=h.device, dtype=torch.int64)
    out = torch.empty(M, device=h.device, dtype=torch.float32) if score else ids
    if n_splits > 1:
        part = torch.empty(3 if score else 2, M, n_splits, device=h.device, dtype=torch.float32)
        pmax, pidx, count = part[0], part[1].view(torch.int32), _counter(h.device, m_blocks)
        psum = part[2] if score else pmax
    else:
        pmax = pidx = psum = count = out  # not read
    _argmax_head_kernel[(m_blocks, n_splits)](
        h2, weight, bias if bias is not None else weight, ids, out, pmax, pidx, psum, count,
        M, V, D, h2.stride(0), weight.stride(0), v_per_split, n_splits,
        HAS_BIAS=bias is not None, BLOCK_M=BLOCK_M, BLOCK_V=BLOCK_V, BLOCK_D=BLOCK_D,
        SPLITS=triton.next_power_of_2(n_splits), SCORE=score, IEEE=h.dtype == torch.float32, num_warps=warps,
    )  # fmt: skip
    return ids.reshape(shape), (out.reshape(shape) if score else None)
