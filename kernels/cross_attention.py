"""Cross-attention from code positions to the encoded request, with each request's true key length."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_attention_ref(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kv_len: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over the first kv_len[b] keys of each batch row.

    q: (B, H, n, d); k, v: (B, H, S, d); kv_len: (B,) int, 1 <= kv_len <= S. Returns (B, H, n, d).
    """
    S = k.shape[2]
    valid = torch.arange(S, device=k.device)[None, :] < kv_len[:, None]  # (B, S)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=valid[:, None, None, :])
