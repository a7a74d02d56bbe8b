"""Cross-attention from code positions to the encoded request, with each request's true key length."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from cfusion.kernels._triton import tl, triton  # None on a CPU-only machine: the reference below runs


def cross_attention_ref(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kv_len: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over the first kv_len[b] keys of each batch row.

    q: (B, H, n, d); k, v: (B, H, S, d); kv_len: (B,) int, 1 <= kv_len <= S. Returns (B, H, n, d).
    """
    S = k.shape[2]
    valid = torch.arange(S, device=k.device)[None, :] < kv_len[:, None]  # (B, S)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=valid[:, None, None, :])


if triton is not None:

    @triton.jit
    def _cross_attention_kernel(
        q_ptr, k_ptr, v_ptr, o_ptr, len_ptr, qk_scale,
        sqb, sqh, sqn, skb, skh, sks, svb, svh, svs, sob, soh, son,
        H, n, D,
        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_D: tl.constexpr, IEEE: tl.constexpr,
    ):  # fmt: skip
        # Grid: (cdiv(n, BLOCK_M), B * H). Online softmax (FlashAttention): each program keeps a running max m_i,
        # normaliser l_i and output acc for BLOCK_M queries and walks the keys BLOCK_N at a time, stopping at the
        # row's own length, so padding keys are never read and no mask tensor exists.
        pid_m = tl.program_id(0)
        bh = tl.program_id(1)
        b, h = bh // H, bh % H
        L = tl.load(len_ptr + b)
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, BLOCK_D)
        offs_n = tl.arange(0, BLOCK_N)
        dmask = offs_d < D
        q_ptrs = q_ptr + b * sqb + h * sqh + offs_m[:, None] * sqn + offs_d[None, :]
        q = tl.load(q_ptrs, mask=(offs_m < n)[:, None] & dmask[None, :], other=0.0)
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        for start in range(0, L, BLOCK_N):
            kn = start + offs_n
            kmask = kn < L
            k = tl.load(
                k_ptr + b * skb + h * skh + kn[None, :] * sks + offs_d[:, None],
                mask=kmask[None, :] & dmask[:, None],
                other=0.0,
            )  # (BLOCK_D, BLOCK_N)
            if IEEE:
                s = tl.dot(q, k, input_precision="ieee")
            else:
                s = tl.dot(q, k)
            s = tl.where(kmask[None, :], s * qk_scale, float("-inf"))  # qk_scale folds in log2(e) for exp2
            m_new = tl.maximum(m_i, tl.max(s, 1))
            p = tl.exp2(s - m_new[:, None])
            alpha = tl.exp2(m_i - m_new)
            l_i = l_i * alpha + tl.sum(p, 1)
            v = tl.load(
                v_ptr + b * svb + h * svh + kn[:, None] * svs + offs_d[None, :],
                mask=kmask[:, None] & dmask[None, :],
                other=0.0,
            )  # (BLOCK_N, BLOCK_D)
            if IEEE:
                acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision="ieee")
            else:
                acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
        out = acc / l_i[:, None]
        o_ptrs = o_ptr + b * sob + h * soh + offs_m[:, None] * son + offs_d[None, :]
        tl.store(o_ptrs, out.to(o_ptr.dtype.element_ty), mask=(offs_m < n)[:, None] & dmask[None, :])


def cross_attention_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kv_len: torch.Tensor) -> torch.Tensor:
    """The fused kernel; same contract as cross_attention_ref. The last dimension of q, k, v must be contiguous."""
    B, H, n, D = q.shape
    q, k, v = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
    o = torch.empty(B, H, n, D, device=q.device, dtype=q.dtype)
    BLOCK_D = max(16, triton.next_power_of_2(D))
    BLOCK_M = min(64, max(16, triton.next_power_of_2(n)))
    BLOCK_N = 64 if BLOCK_D <= 64 else 32
    grid = (triton.cdiv(n, BLOCK_M), B * H)
    _cross_attention_kernel[grid](
        q, k, v, o, kv_len.to(torch.int32).contiguous(), math.log2(math.e) / math.sqrt(D),
        *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
        H, n, D,
        BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_D=BLOCK_D, IEEE=q.dtype == torch.float32,
    )  # fmt: skip
    return o
