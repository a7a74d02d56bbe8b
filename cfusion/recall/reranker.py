"""The reranker: MiniLM read as a cross-encoder over (new request, known request and its command), with low-rank
adapters.

Recall compares sentence vectors computed apart, so "delete empty directories" and "delete empty files" look alike.
The reranker reads the new request beside a recalled pair, token against token ([CLS] new [SEP] known [SEP] command
[SEP]), and gives one score: how well the known request's command answers the new request. It is trained on the
main pairs of the model's own memory (not its extra pairs), leave-one-out: each known request ranks its nearest
*other* known requests, with the template match of their commands to its own command as the soft target, plus a
bonus of 1 when the command equals its own (arguments included), by a listwise softmax loss. On the CodeFusion Bash
test split it lifts template match @1 by 3.7 points over the consensus without it, and reading the command with the
bonus lifts exact match @1 from 11.1 to 13.2 (benchmarks/notebook/).

MiniLM itself stays frozen and is not stored again: each of its linear layers gains a trainable low-rank update
(W + alpha / r * B A, LoRA), and a linear head reads the [CLS] state. The adapters and the head are saved in the
model folder as `rerank.json` (config) and `rerank.safetensors` (fp16, under 1 MB at rank 8). For generation the
updates are folded into a copy of MiniLM's weights, so scoring costs one plain MiniLM pass over the pairs.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from cfusion.core.checkpoint import load_tensors, no_init, read_json, save_tensors, write_text_atomic
from cfusion.core.features import pad
from cfusion.errors import CheckpointError

NAME = "rerank"
LINEARS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")
LINEARS += ("intermediate.dense", "output.dense")  # every linear layer of a MiniLM block


@dataclass
class RerankConfig:
    rank: int = 8  # of each low-rank update
    alpha: float = 16.0  # the updates are scaled by alpha / rank
    max_len: int = 96  # tokens of a pair, special tokens included; the longer side is cut first
    width: int = 384  # MiniLM's width, checked when loading
    code: bool = True  # the known side also holds the known request's command: "known [SEP] command"

    def __post_init__(self):
        for name in ("rank", "max_len", "width"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RerankConfig.{name} must be positive, got {getattr(self, name)!r}")
        if self.max_len < 8:
            raise ValueError(f"RerankConfig.max_len must be at least 8, got {self.max_len}")


class LowRank(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update: base(x) + scale * x A^T B^T (B starts at zero)."""

    def __init__(self, base: nn.Linear, rank: int, scale: float):
        super().__init__()
        self.base, self.scale = base, scale
        self.a = nn.Parameter(torch.empty(rank, base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * (x @ self.a.t().to(x.dtype)) @ self.b.t().to(x.dtype)

    def merged(self) -> nn.Linear:
        """The base layer with the update folded into its weight, in place: this module is spent afterwards."""
        self.base.weight.data += self.scale * (self.b @ self.a).to(self.base.weight.dtype)
        return self.base


def _get(module: nn.Module, path: str) -> nn.Module:
    for name in path.split("."):
        module = getattr(module, name)
    return module


def _set(module: nn.Module, path: str, value: nn.Module) -> None:
    *parents, last = path.split(".")
    setattr(_get(module, ".".join(parents)) if parents else module, last, value)


class Reranker(nn.Module):
    """forward(ids, types, lens) -> one score per pair. `minilm` is copied; the copy's own weights stay frozen."""

    def __init__(self, cfg: RerankConfig, minilm: nn.Module):
        super().__init__()
        if minilm.width != cfg.width:
            raise CheckpointError(f"the reranker adapts a {cfg.width}-wide MiniLM, this one is {minilm.width} wide")
        self.cfg = cfg
        self.enc = copy.deepcopy(minilm).float()
        self.enc.requires_grad_(False)
        for layer in self.enc.encoder.layer:
            for path in LINEARS:
                _set(layer, path, LowRank(_get(layer, path), cfg.rank, cfg.alpha / cfg.rank))
        self.head = nn.Linear(cfg.width, 1)
        self.to(next(minilm.parameters()).device)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(ids, lens, types)[:, 0]).squeeze(-1)

    def trained(self) -> dict[str, torch.Tensor]:
        """What training changes, and all that is saved: the updates' factors and the head."""
        return {k: v for k, v in self.state_dict().items() if k.endswith((".a", ".b")) or k.startswith("head.")}

    def merge(self) -> Reranker:
        """Fold every update into its layer (same scores, one plain matmul per layer); for inference only."""
        for layer in self.enc.encoder.layer:
            for path in LINEARS:
                m = _get(layer, path)
                if isinstance(m, LowRank):
                    _set(layer, path, m.merged())
        return self.eval()

    def save(self, folder: Path) -> None:
        save_tensors({k: v.detach().half().cpu() for k, v in self.trained().items()}, folder, NAME)
        write_text_atomic(Path(folder) / f"{NAME}.json", json.dumps(dataclasses.asdict(self.cfg), indent=2))

    @classmethod
    def load(cls, folder: Path, minilm: nn.Module) -> Reranker | None:
        """The reranker saved in a model folder, merged for inference, or None when the folder has none."""
        folder = Path(folder)
        if not (folder / f"{NAME}.json").exists():
            return None
        try:
            cfg = RerankConfig(**{"code": False, **read_json(folder / f"{NAME}.json")})  # no "code": an older file
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"bad reranker config in {folder / f'{NAME}.json'}: {e}") from None
        with no_init():  # the updates and the head are loaded below, as the check makes sure
            net = cls(cfg, minilm)
        state = load_tensors(folder, NAME)
        want = net.trained()
        if set(state) != set(want) or any(state[k].shape != want[k].shape for k in want):
            raise CheckpointError(f"reranker weights in {folder} do not match rerank.json")
        net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        return net.merge()


def pair_batch(req_tok, firsts: list[list[int]], seconds: list[list[int]], max_len: int, device, rows: int = 0):
    """Token pieces of requests (RequestTokenizer.pieces) -> padded ids, segment ids and lengths of the pairs.
    rows: pad to that many pairs of max_len tokens, for a CUDA graph's fixed shape (filler pairs are one pad long)."""
    pairs = [req_tok.pair(a, b, max_len) for a, b in zip(firsts, seconds)]
    pairs += [([], [])] * (rows - len(pairs))
    ids, lens = pad([p[0] for p in pairs], max_len if rows else None)
    types, _ = pad([p[1] for p in pairs], max_len if rows else None)
    return ids.to(device), types.to(device), lens.to(device)


@torch.no_grad()
def score_pairs(net: Reranker, req_tok, requests: list[str], knowns: list[str], batch: int = 0) -> torch.Tensor:
    """The reranker's scores (N,) of N (request, known side) pairs (see known_side), left on its device (not waited
    for). The pairs are sorted by length and scored `batch` a pass: by default 512 on a GPU, and 8 on a CPU, where
    padding costs more than a pass (30 recalled pairs: 0.19 s instead of 0.26 s in one pass)."""
    dev = net.head.weight.device
    batch = batch or (8 if dev.type == "cpu" else 512)
    pieces = req_tok.pieces(requests + knowns)
    n = len(requests)
    order = sorted(range(n), key=lambda i: len(pieces[i]) + len(pieces[n + i]))
    out = torch.zeros(n, device=dev)
    for i in range(0, n, batch):
        rows = order[i : i + batch]
        pairs = pair_batch(req_tok, [pieces[r] for r in rows], [pieces[n + r] for r in rows], net.cfg.max_len, dev)
        out[torch.tensor(rows, device=dev)] = net(*pairs).float()
    return out


def known_side(cfg: RerankConfig, known: str, code: str) -> str:
    """The second text of a pair: the known request, and with cfg.code its command after a [SEP]."""
    return f"{known} [SEP] {code}" if cfg.code else known


def rerank_scores(net: Reranker, req_tok, requests: list[str], knowns: list[list[str]]) -> list[list[float]]:
    """The reranker's score of each request against each of its known sides (see known_side)."""
    firsts = [r for r, ks in zip(requests, knowns) for _ in ks]
    s = score_pairs(net, req_tok, firsts, [k for ks in knowns for k in ks]).tolist()
    out, i = [], 0
    for ks in knowns:
        out.append(s[i : i + len(ks)])
        i += len(ks)
    return out
