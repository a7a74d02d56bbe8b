"""Training the value tagger (cfusion.core.tagger) of a model with `tagged_slots`, on a CPU in seconds.

Its examples are the pairs' requests, each token tagged by the request words that the pair's code copies
(cfusion.data.slots.copied_spans): what fine-tuning slotted, so the tagger learns to mark, in a new request, what
the model learned to read as a slot. Pairs that copy nothing teach it what is not a value. MiniLM is frozen, so its
token states are computed once, and only the tagger's two small layers learn.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from cfusion.core.features import pad
from cfusion.core.model import CodeFusion
from cfusion.core.tagger import labels
from cfusion.core.tokenizer import RequestTokenizer
from cfusion.data.slots import copied_spans, form_ranges
from cfusion.errors import UsageError

IGNORE = -100  # [CLS], [SEP] and padding carry no tag


def _batches(net: CodeFusion, texts: list[str], batch: int = 64):
    """Per batch of texts: the texts, their tokens' offsets and MiniLM's states of them (B, S, width), padded."""
    tok = RequestTokenizer(net.cfg.max_request_len)
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            chunk = texts[i : i + batch]
            ids, offsets = tok.encode_offsets(chunk)
            ids, lens = pad(ids)
            yield chunk, offsets, net.minilm.eval()(ids, lens)


def _targets(text: str, offsets: list[tuple[int, int]], gold: list[tuple[int, int]]) -> list[int]:
    """Each token's tag, IGNORE where slots find values by their form (numbers, quoted text): the tagger learns the
    values that have no form to find them by."""
    form = form_ranges(text)
    return [
        IGNORE if s == e or any(a <= s < b for a, b in form) else t for (s, e), t in zip(offsets, labels(offsets, gold))
    ]


def train_tagger(
    net: CodeFusion,
    pairs: list[tuple[str, str]],
    lang: str,
    epochs: int = 30,
    lr: float = 2e-3,
    batch: int = 64,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Fits `net.tagger` to the (request, code) `pairs` in place and marks it trained; returns a report."""
    if net.tagger is None:
        raise UsageError("this model has no value tagger", hint="fine-tune it with --set tagged_slots=true")
    if not pairs:
        raise UsageError("no pairs to train the value tagger on")
    t0 = time.perf_counter()
    texts = [nl for nl, _ in pairs]
    gold = [copied_spans(nl, code, lang) for nl, code in pairs]
    batches = list(_batches(net, texts))
    offsets = [off for _, offs, _ in batches for off in offs]
    width = max(h.shape[1] for _, _, h in batches)
    x = torch.cat([F.pad(h, (0, 0, 0, width - h.shape[1])) for _, _, h in batches])  # (N, width, MiniLM's width)
    y = torch.full((len(texts), width), IGNORE)
    for i, (text, off, g) in enumerate(zip(texts, offsets, gold)):
        y[i, : len(off)] = torch.tensor(_targets(text, off, g))
    tagger = net.tagger.train().requires_grad_(True)
    opt = torch.optim.AdamW(tagger.parameters(), lr=lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(seed)
    loss = torch.zeros(())
    for _ in range(epochs):
        for idx in torch.randperm(len(texts), generator=g).split(batch):
            loss = F.cross_entropy(tagger(x[idx]).flatten(0, 1), y[idx].flatten(), ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if progress:
            progress(1)
    tagger.eval().requires_grad_(False)
    tagger.trained.fill_(1)
    return {
        "pairs": len(pairs),
        "copied": sum(len(s) for s in gold),
        "epochs": epochs,
        "last_loss": loss.item(),
        "seconds": time.perf_counter() - t0,
    }


def tag_requests(net: CodeFusion, texts: list[str], cut: float = 0.5) -> list[list[tuple[int, int]]]:
    """The char ranges that `net`'s tagger marks in each text (as generation reads them)."""
    with torch.no_grad():
        return [s for chunk, offsets, h in _batches(net, texts) for s in net.tagger.mark(chunk, offsets, h, cut)]


def tag_scores(net: CodeFusion, pairs: list[tuple[str, str]], lang: str, cut: float = 0.5) -> dict:
    """Span precision, recall and F1 of the tagger against the words each pair's code copies (exact ranges)."""

    def unformed(ranges: list[tuple[int, int]], request: str) -> set[tuple[int, int]]:
        """The ranges that no value found by its form overlaps: those are slotted whatever the tagger says."""
        form = form_ranges(request)
        return {(s, e) for s, e in ranges if not any(a < e and s < b for a, b in form)}

    requests = [nl for nl, _ in pairs]
    found = [unformed(f, nl) for f, nl in zip(tag_requests(net, requests, cut), requests)]
    gold = [unformed(copied_spans(nl, code, lang), nl) for nl, code in pairs]
    hit = sum(len(f & g) for f, g in zip(found, gold))
    n_found, n_gold = sum(map(len, found)), sum(map(len, gold))
    p, r = hit / max(n_found, 1), hit / max(n_gold, 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-9), "gold": n_gold, "found": n_found}
