"""Recall: known (request, code) pairs kept beside a model and found by the meaning of a new request.

A request's vector is MiniLM's mean-pooled, unit-length output (the sentence embedding all-MiniLM-L6-v2 was trained
for), so the model's own encoder does the search. Generation ranks the recalled commands together with the sampled
ones (cfusion.pipeline). On the CodeFusion Bash test split the nearest known command alone scores 57 template match
@1 against 42 for the diffusion model alone (benchmarks/notebook/).

Stored in the model folder:
- `memory.safetensors`: the vectors in 4 bits per dimension (192 bytes a pair at width 384) with one scale per
  dimension; search quality is that of float32 within 0.1 point of template match;
- `memory.json.gz`: the requests, codes and languages, in the same order, which pairs are extra, and how many
  requests and codes hold each word (`holding`, what `shared` reads; counted when an older file lacks it).

Extra pairs (`build(..., extra=...)`) are recalled like the others, but the ranking trusts them less
(RankWeights.extra_penalty): the shipped Bash memory holds NL2Bash's pairs, and tldr-pages and cheatsheets
pairs as extra ones, which answer everyday requests that NL2Bash does not cover.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F

from cfusion.core.checkpoint import load_tensors, save_tensors, write_bytes_atomic
from cfusion.data.pairs import Pair
from cfusion.errors import CheckpointError

NAME = "memory"
LEVELS = 7  # 4-bit codes hold -7..7 (stored offset by 8 in a nibble)
RARE = 3.0  # a word is rare when log(pairs / (1 + known requests and commands holding it)) is above this


WORD = re.compile(r"[a-z0-9_]{2,}")  # a run of letters, digits and underscores, two characters or longer


@functools.lru_cache(maxsize=65536)  # a request meets ~30 commands, and a known command many requests
def literal_words(text: str) -> frozenset[str]:
    """The lowercased runs of letters, digits and underscores of a text, two characters or longer."""
    return frozenset(WORD.findall(text.lower()))


def holding(texts: list[str]) -> Counter:
    """word -> how many of `texts` hold it (literal_words), counted without filling literal_words' cache: 0.13 s
    for the Bash memory's 35,000 texts on a 2-core CPU, so it is stored with the memory rather than counted at a
    process's first request."""
    out: Counter = Counter()
    for text in texts:
        out.update(literal_words.__wrapped__(text))
    return out


def sentence_vectors(model, feat, texts: list[str], batch: int = 256) -> torch.Tensor:
    """Unit-length MiniLM sentence vectors (mean over the request's tokens) of `texts`, by the model's own MiniLM:
    (B, 384) float32."""
    if model.minilm is None or feat.req_tok is None:
        raise CheckpointError("recall needs a model with the MiniLM encoder")
    return encode_sentences(model.minilm, feat.req_tok, texts, batch)


def encode_sentences(minilm, req_tok, texts: list[str], batch: int = 256) -> torch.Tensor:
    """sentence_vectors by a given MiniLM and its request tokenizer: (B, width) float32 on the CPU."""
    from cfusion.core.features import pad

    dev = next(minilm.parameters()).device
    out = []
    for i in range(0, len(texts), batch):
        ids, lens = pad(req_tok.encode_batch(texts[i : i + batch]))
        ids, lens = ids.to(dev), lens.to(dev)
        with torch.no_grad():
            out.append(mean_pool(minilm(ids, lens), lens))
    return torch.cat(out)


def mean_pool(hidden: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """MiniLM's output (B, S, d) -> unit-length sentence vectors (B, d), float32 on the CPU: the mean over each
    request's own tokens."""
    keep = (torch.arange(hidden.shape[1], device=hidden.device)[None] < lens[:, None]).float()[..., None]
    return F.normalize((hidden.float() * keep).sum(1) / lens[:, None], dim=-1).cpu()


def quantize(vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, d) float -> 4-bit codes packed two to a byte (N, d/2) uint8 and a per-dimension scale (d,)."""
    scale = vectors.abs().amax(0).clamp_min(1e-8) / LEVELS
    q = (vectors / scale).round().clamp(-LEVELS, LEVELS).to(torch.int16) + 8  # 1..15
    if q.shape[1] % 2:
        q = F.pad(q, (0, 1), value=8)
    return (q[:, 0::2] | (q[:, 1::2] << 4)).to(torch.uint8), scale.float()


def dequantize(codes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Inverse of quantize, renormalised to unit length: (N, d) float32."""
    c = codes.to(torch.int16)
    q = torch.stack([c & 15, c >> 4], dim=-1).reshape(c.shape[0], -1)[:, : scale.shape[0]] - 8
    return F.normalize(q.float() * scale, dim=-1)


class Memory:
    """Known pairs and their unit vectors; `search` gives the nearest by cosine similarity."""

    def __init__(
        self,
        requests: list[str],
        codes: list[str],
        langs: list[str],
        vectors: torch.Tensor,
        extra: list[bool] | None = None,
        holding: Counter | None = None,
    ):
        extra = [False] * len(codes) if extra is None else extra
        if not (len(requests) == len(codes) == len(langs) == len(extra) == vectors.shape[0]):
            raise ValueError("requests, codes, langs, extra and vectors must have one row per pair")
        self.requests, self.codes, self.langs, self.vectors, self.extra = requests, codes, langs, vectors, extra
        self._masks: dict[str, torch.Tensor] = {}
        self._holding = holding  # word -> known requests and commands that hold it (None: counted at first use)

    def __len__(self) -> int:
        return len(self.codes)

    @classmethod
    def build(cls, model, feat, pairs: list[Pair], extra: list[Pair] = ()) -> Memory:
        """A memory of `pairs`, then the `extra` pairs (a (request, code) pair is kept once, as a main pair if it is
        one), vectors quantised as stored."""
        kept = dict.fromkeys((p.nl, p.code, p.lang) for p in pairs)
        main = len(kept)
        kept.update(dict.fromkeys((p.nl, p.code, p.lang) for p in extra))
        keys = list(kept)
        vectors = sentence_vectors(model, feat, [nl for nl, _, _ in keys])
        vectors = dequantize(*quantize(vectors))  # what search will see after save and load
        requests, codes, langs = ([key[i] for key in keys] for i in range(3))
        return cls(requests, codes, langs, vectors, [i >= main for i in range(len(keys))])

    def main(self) -> Memory:
        """The main pairs alone (what the reranker learns from), in their order."""
        rows = [i for i, x in enumerate(self.extra) if not x]
        requests, codes, langs = ([xs[i] for i in rows] for xs in (self.requests, self.codes, self.langs))
        return Memory(requests, codes, langs, self.vectors[rows])

    def search(self, queries: torch.Tensor, r: int, lang: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The r nearest pairs of `lang` to each unit query vector: similarities and indices, (B, r') each, best
        first; r' = min(r, pairs of that language)."""
        if lang not in self._masks:
            self._masks[lang] = torch.tensor([x != lang for x in self.langs])
        mask = self._masks[lang]
        sims = (queries.float() @ self.vectors.T).masked_fill(mask, float("-inf"))
        return sims.topk(min(r, int((~mask).sum())), dim=1)

    def shared(self, request: str, j: int) -> float:
        """How rare the words are that a request shares with the command of pair j: the sum of their rarities,
        log(pairs / (1 + the known requests and commands that hold the word)), over those rarer than RARE; 0 for an
        extra pair, whose command names its arguments in words (tldr's `sleep seconds`, `cal month year`). A request
        that names the file, pattern or script of a known command (`... give them to the script fixmbox` and `find .
        -name 'm?' -exec ./fixmbox {} +`) is likely a rewording of its request; common words (`files`) count nothing."""
        if self.extra[j]:
            return 0.0
        n = len(self.codes)
        rarity = (math.log(n / (1 + self.holding[w])) for w in literal_words(request) & literal_words(self.codes[j]))
        return sum(r for r in rarity if r > RARE)

    @property
    def holding(self) -> Counter:
        """word -> the known requests and commands that hold it (as stored, or counted at first use)."""
        if self._holding is None:
            self._holding = holding(self.requests + self.codes)
        return self._holding

    def save(self, folder: Path) -> None:
        codes, scale = quantize(self.vectors)
        save_tensors({"codes": codes, "scale": scale}, folder, NAME)
        pairs = {"requests": self.requests, "codes": self.codes, "langs": self.langs, "extra": self.extra}
        pairs["holding"] = dict(sorted(self.holding.items()))
        text = json.dumps(pairs, ensure_ascii=False)
        write_bytes_atomic(Path(folder) / f"{NAME}.json.gz", gzip.compress(text.encode(), mtime=0))

    @classmethod
    def load(cls, folder: Path) -> Memory | None:
        """The memory saved in a model folder, or None when it has none."""
        folder = Path(folder)
        if not (folder / f"{NAME}.safetensors").exists():
            return None
        t = load_tensors(folder, NAME)
        path = folder / f"{NAME}.json.gz"
        try:
            pairs = json.loads(gzip.decompress(path.read_bytes()))
            requests, codes, langs = pairs["requests"], pairs["codes"], pairs["langs"]
            extra = [bool(x) for x in pairs.get("extra", [False] * len(codes))]  # no "extra": an older file
            held = pairs.get("holding")  # none: an older file, counted at first use
            if held is not None and not (
                isinstance(held, dict) and all(isinstance(w, str) and type(n) is int for w, n in held.items())
            ):
                raise ValueError("holding must map words to counts")
        except FileNotFoundError:
            raise CheckpointError(f"memory vectors without their pairs: {path} is missing") from None
        except (OSError, EOFError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"corrupt memory file {path}: {e}") from None
        rows = t["codes"].shape[0] if "codes" in t and "scale" in t else -1
        if not rows == len(codes) == len(requests) == len(langs) == len(extra):
            raise CheckpointError(f"memory vectors and pairs disagree in {folder}")
        counts = Counter(held) if held is not None else None
        return cls(requests, codes, langs, dequantize(t["codes"], t["scale"]), extra, counts)
