"""Training the sketch (cfusion.recall.sketch) from a model's memory: the words of each known request and its stored
vector predict the template tokens of its command, by binary cross-entropy."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable

import torch
import torch.nn.functional as F

from cfusion import langs
from cfusion.recall.sketch import Sketch, SketchConfig, words


def train_sketch(
    memory, lang: str, cfg: SketchConfig | None = None, seed: int = 0, log: Callable | None = None
) -> tuple[Sketch, dict]:
    """Train a sketch on the memory's pairs of `lang` (main and extra): the words of each known request and its stored
    vector predict the template tokens of its command. Returns the net (eval mode) and a report of the loss."""
    cfg = cfg or SketchConfig()
    rows = [i for i, x in enumerate(memory.langs) if x == lang]
    if not rows:
        raise ValueError(f"the memory holds no {lang} pairs to train a sketch on")
    requests = [memory.requests[i] for i in rows]
    templates = [langs.get(lang).template_vector(memory.codes[i]) for i in rows]
    vectors = memory.vectors[rows].float()
    word_counts = Counter(w for text in requests for w in set(words(text)))
    token_counts = Counter(t for v in templates for t in v)
    vocab = [w for w, n in word_counts.items() if n >= cfg.min_word]
    tokens = [t for t, n in token_counts.items() if n >= cfg.min_token]
    if not vocab or not tokens:
        raise ValueError(f"too few pairs to train a sketch: {len(vocab)} words and {len(tokens)} tokens recur")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = Sketch(cfg, vocab, tokens)
    col = {t: j for j, t in enumerate(tokens)}
    target = torch.zeros(len(rows), len(tokens))  # (N, tokens): 1 where the command holds the token
    for i, v in enumerate(templates):
        for t in v:
            if t in col:
                target[i, col[t]] = 1.0
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=0.01)
    t0, losses, n = time.time(), [], len(rows)
    net.train()
    for epoch in range(cfg.epochs):
        for idx in torch.randperm(n, generator=gen).split(cfg.batch):
            logits = net(net.bags([requests[i] for i in idx.tolist()]), vectors[idx])
            loss = F.binary_cross_entropy_with_logits(logits, target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        if log is not None:
            epoch_losses = losses[-math.ceil(n / cfg.batch) :]
            log(epoch + 1, {"loss": sum(epoch_losses) / len(epoch_losses), "seconds": time.time() - t0})
    report = {"first_loss": losses[0], "last_loss": sum(losses[-10:]) / len(losses[-10:]), "pairs": n}
    report |= {"words": len(vocab), "tokens": len(tokens), "seconds": time.time() - t0}
    return net.eval(), report
