"""The sketch: which template tokens (utilities, flags, `|`, `-exec` ...) the answer to a request holds, predicted
from the request alone; one more voter in the Bash consensus.

Recall, the reranker and the samples all vote with whole known commands, so the consensus leans to the template that
many neighbours share (`find . -type f`) even when the request asks for more ("display a long listing" wants
`-exec ls -l` or `-ls`, "do not search in sub directories" wants `-maxdepth 1`). The sketch reads the request's own
words and gives each template token the probability that the answer holds it; the ranking (cfusion.pipeline.rank) adds
RankWeights.sketch x the cosine of each candidate's template to those probabilities, the benchmark's metric against an
expected template.

It is a linear model, trained from the model's memory (its requests, commands and stored MiniLM vectors) on a CPU in
under a minute: the request's lowercased words and word pairs (a bag) plus its MiniLM sentence vector, through a
`hidden`-wide bottleneck, to one logit per template token, by binary cross-entropy. At run time it costs a sparse sum
and two small matmuls, no model pass: the sentence vector is the one recall already computed. Saved in the model
folder as `sketch.json.gz` (config, words, tokens) and `sketch.safetensors` (fp16). On the CodeFusion Bash test split it
lifts template match @1 from 65.71 to 66.23 (benchmarks/notebook/).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from cfusion.core.checkpoint import load_tensors, no_init, save_tensors, write_bytes_atomic
from cfusion.errors import CheckpointError
from cfusion.langs import Language

NAME = "sketch"
VECTOR_SCALE = 5.0  # unit sentence vectors scaled to about the size of a bag's sum, so one learning rate fits both


@dataclass
class SketchConfig:
    hidden: int = 256  # width of the bottleneck between the inputs and the token logits
    min_word: int = 3  # a word or word pair is a feature when this many known requests hold it
    min_token: int = 3  # a template token is predicted when this many known commands hold it
    epochs: int = 8
    lr: float = 2e-3
    batch: int = 128
    width: int = 384  # the sentence vectors' width (MiniLM's), checked when loading

    def __post_init__(self):
        for name in ("hidden", "min_word", "min_token", "epochs", "batch", "width"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SketchConfig.{name} must be positive, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"SketchConfig.lr must be positive, got {self.lr!r}")


def words(text: str) -> list[str]:
    """A request's features: its lowercased words and punctuation marks, then each adjacent pair of them."""
    w = re.findall(r"[a-z0-9]+|[^\sa-z0-9]", text.lower())
    return w + [f"{a} {b}" for a, b in zip(w, w[1:])]


class Sketch(nn.Module):
    """forward(bags, vectors) -> (B, tokens) logits; `bags` is (word indices, offsets) as nn.EmbeddingBag reads."""

    def __init__(self, cfg: SketchConfig, vocab: list[str], tokens: list[str]):
        super().__init__()
        self.cfg, self.vocab, self.tokens = cfg, vocab, tokens
        self.index = {w: i for i, w in enumerate(vocab)}
        self.bag = nn.EmbeddingBag(len(vocab), cfg.hidden, mode="sum")
        nn.init.normal_(self.bag.weight, std=0.01)
        self.vec = nn.Linear(cfg.width, cfg.hidden)
        self.out = nn.Linear(cfg.hidden, len(tokens))

    def bags(self, requests: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, offsets = [], []
        for text in requests:
            offsets.append(len(ids))
            ids += sorted({self.index[w] for w in words(text) if w in self.index})
        return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)

    def forward(self, bags: tuple[torch.Tensor, torch.Tensor], vectors: torch.Tensor) -> torch.Tensor:
        return self.out(self.bag(*bags) + self.vec(vectors.float() * VECTOR_SCALE))

    @torch.no_grad()
    def predict(self, requests: list[str], vectors: torch.Tensor) -> list[dict[str, float]]:
        """Per request, each template token's probability of being in the answer (tokens under 0.01 left out)."""
        p = torch.sigmoid(self(self.bags(requests), vectors.cpu())).numpy()  # (B, tokens)
        return [{self.tokens[j]: float(row[j]) for j in np.flatnonzero(row >= 0.01)} for row in p]

    def save(self, folder: Path) -> None:
        save_tensors({k: v.detach().half() for k, v in self.state_dict().items()}, folder, NAME)
        meta = {"config": dataclasses.asdict(self.cfg), "vocab": self.vocab, "tokens": self.tokens}
        write_bytes_atomic(Path(folder) / f"{NAME}.json.gz", gzip.compress(json.dumps(meta).encode(), mtime=0))

    @classmethod
    def load(cls, folder: Path) -> Sketch | None:
        """The sketch saved in a model folder, or None when the folder has none."""
        path = Path(folder) / f"{NAME}.json.gz"
        if not path.exists():
            return None
        try:
            meta = json.loads(gzip.decompress(path.read_bytes()))
            with no_init():  # every weight is loaded below
                net = cls(SketchConfig(**meta["config"]), meta["vocab"], meta["tokens"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"bad sketch in {path}: {e}") from None
        state = load_tensors(folder, NAME)
        want = net.state_dict()
        if set(state) != set(want) or any(state[k].shape != want[k].shape for k in want):
            raise CheckpointError(f"sketch weights in {folder} do not match {path.name}")
        net.load_state_dict({k: v.float() for k, v in state.items()})
        return net.eval()


def agreement(codes: list[str], sketch: dict[str, float], lang: Language) -> np.ndarray:
    """The cosine of each command's template-token counts (Language.template_vector) with the sketch's probabilities
    (0 for an empty one)."""
    norm = math.sqrt(sum(p * p for p in sketch.values()))
    out = np.zeros(len(codes))
    for i, code in enumerate(codes):
        v = lang.template_vector(code)
        size = math.sqrt(sum(n * n for n in v.values()))
        if size and norm:
            out[i] = sum(n * sketch.get(t, 0.0) for t, n in v.items()) / (size * norm)
    return out
