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
from cfusion.core.tagger import labels, spans
from cfusion.core.tokenizer import RequestTokenizer
from cfusion.data.slots import copied_spans, form_ranges
from cfusion.errors import UsageError

IGNORE = -100  # [CLS], [SEP] and padding carry no tag


def _states(net: CodeFusion, tok: RequestTokenizer, texts: list[str], batch: int = 64) -> list[torch.Tensor]:
    """MiniLM's token states of each text, (S_i, width), with [CLS] and [SEP]."""
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch):
            ids, lens = pad(tok.encode_batch(texts[i : i + batch]))
            h = net.minilm.eval()(ids, lens)
            out += [h[j, : int(n)] for j, n in enumerate(lens)]
    return out


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
    tok = RequestTokenizer(net.cfg.max_request_len)
    texts = [nl for nl, _ in pairs]
    gold = [copied_spans(nl, code, lang) for nl, code in pairs]
    tags = [_targets(text, off, g) for text, off, g in zip(texts, tok.offsets(texts), gold)]
    states = _states(net, tok, texts)
    width = max(len(t) for t in tags)
    x = torch.zeros(len(texts), width, states[0].shape[-1])
    y = torch.full((len(texts), width), IGNORE)
    for i, (h, t) in enumerate(zip(states, tags)):
        x[i, : len(t)], y[i, : len(t)] = h, torch.tensor(t)
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
    tok = RequestTokenizer(net.cfg.max_request_len)
    with torch.no_grad():
        out = []
        for text, h, off in zip(texts, _states(net, tok, texts), tok.offsets(texts)):
            out.append(spans(text, off, net.tagger.tags(h, cut).tolist()))
    return out


def tag_scores(net: CodeFusion, pairs: list[tuple[str, str]], lang: str, cut: float = 0.5) -> dict:
    """Span precision, recall and F1 of the tagger against the words each pair's code copies (exact ranges)."""
    found = tag_requests(net, [nl for nl, _ in pairs], cut)
    gold = [copied_spans(nl, code, lang) for nl, code in pairs]
    # Values found by their form are slotted whatever the tagger says: score the rest.
    formed = [form_ranges(nl) for nl, _ in pairs]
    found, gold = (
        [[(s, e) for s, e in sp if not any(a < e and s < b for a, b in f)] for sp, f in zip(spans_, formed)]
        for spans_ in (found, gold)
    )
    hit = sum(len(set(f) & set(g)) for f, g in zip(found, gold))
    n_found, n_gold = sum(map(len, found)), sum(map(len, gold))
    p, r = hit / max(n_found, 1), hit / max(n_gold, 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-9), "gold": n_gold, "found": n_found}
