"""Turns requests and code into the padded id tensors the model reads."""

from __future__ import annotations

import numpy as np
import torch

from cfusion.core.config import ModelConfig
from cfusion.core.tokenizer import PAD_ID, CodeTokenizer, RequestTokenizer

NEIGHBOUR_REQUEST = 24  # code tokens kept of a neighbour's request: it says what the command does


def pad(seqs: list[list[int]], width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad with PAD_ID to `width` (default: the longest). Returns ids (B, width) and lengths (B,)."""
    width = width or max(1, max(len(s) for s in seqs))
    ids = np.full((len(seqs), width), PAD_ID, dtype=np.int64)  # a row at a time: 5x faster in numpy than in torch
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s[:width]
    return torch.from_numpy(ids), torch.tensor([max(1, min(len(s), width)) for s in seqs], dtype=torch.long)


class Featurizer:
    def __init__(self, cfg: ModelConfig, code_tok: CodeTokenizer):
        self.cfg, self.code_tok = cfg, code_tok
        self.req_tok = RequestTokenizer(cfg.max_request_len) if cfg.encoder == "minilm" else None

    def requests(self, texts: list[str], literal_texts: list[str] | None = None) -> dict[str, torch.Tensor]:
        """Encoder inputs for a batch of requests. `literal_texts` lets CPD mask each stream with its own token."""
        out = {}
        if self.req_tok is not None:
            out["enc_ids"], out["enc_len"] = pad(self.req_tok.encode_batch(texts))
        if self.cfg.encoder == "scratch" or self.cfg.n_literal_layers:
            lit = self.code_tok.encode_batch(literal_texts if literal_texts is not None else texts)
            out["lit_ids"], out["lit_len"] = pad([s[: self.cfg.max_request_len] for s in lit])
        return out

    def neighbours(self, pairs: list[list[tuple[str, str]]], lang: str) -> dict[str, torch.Tensor]:
        """A retrieval-aware model's neighbour inputs: per request, up to n_neighbours (request, code) pairs, nearest
        first. Each is its request's code tokens (at most NEIGHBOUR_REQUEST) then its command's (at most the language's
        code length), in a row of fixed width, so CUDA graphs see one shape. nb_ids (B, r, L); nb_len (B, r), 0 where
        a request has fewer pairs; nb_split (B, r), where each command starts."""
        r, n = self.cfg.n_neighbours, self.cfg.max_code_len[lang]
        width = min(self.cfg.max_request_len, NEIGHBOUR_REQUEST + n)
        ids = np.full((len(pairs), r, width), PAD_ID, dtype=np.int64)
        lens = np.zeros((len(pairs), r), dtype=np.int64)
        split = np.zeros((len(pairs), r), dtype=np.int64)
        flat = [(b, i, nl, code) for b, mine in enumerate(pairs) for i, (nl, code) in enumerate(mine[:r])]
        if flat:
            nls = self.code_tok.encode_batch([f[2] for f in flat])
            codes = self.code_tok.encode_batch([f[3] for f in flat])
            for (b, i, _, _), q, c in zip(flat, nls, codes):
                q = q[: max(0, width - n)]
                row = (q + c[: n - 1])[:width]  # n - 1: a command is cut as training cuts its targets
                ids[b, i, : len(row)] = row
                lens[b, i], split[b, i] = len(row), len(q)
        return {"nb_ids": torch.from_numpy(ids), "nb_len": torch.from_numpy(lens), "nb_split": torch.from_numpy(split)}

    def too_long(self, text: str) -> bool:
        """Whether a request exceeds what the encoder reads (it is then truncated)."""
        n = len(self.code_tok.encode(text))
        if self.req_tok is not None:
            n = max(n, self.req_tok.length(text))
        return n > self.cfg.max_request_len

    def code(self, codes: list[str], lang: str) -> torch.Tensor:
        """Target ids (B, n) for the language's fixed length n; the tail is PAD, which the model learns to emit."""
        n = self.cfg.max_code_len[lang]
        ids, _ = pad([s[: n - 1] for s in self.code_tok.encode_batch(codes)], n)
        return ids
