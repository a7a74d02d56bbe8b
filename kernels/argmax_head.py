"""Argmax head: the final linear layer and the argmax over the vocabulary, with the winner's log-probability."""

from __future__ import annotations

import torch


def argmax_head_ref(
    h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """ids = argmax_v (h W^T + b)_v (ties to the lowest index); score = logit[ids] - logsumexp(logits).

    h: (..., d); weight: (V, d); bias: (V,) or None. Returns ids (...,) int64 and score (...,) float32.
    """
    logits = torch.nn.functional.linear(h, weight, bias).float()
    top, ids = logits.max(dim=-1)  # torch.max returns the first maximal index
    return ids, top - torch.logsumexp(logits, dim=-1)
