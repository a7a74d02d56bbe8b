"""The value tagger: which words of a request are values that the code copies (`contain FB`, `equal to On Hold`).

Value slots (cfusion.data.slots) find numbers and quoted text by their form. Text that the request names without
quotes (`cells containing FB`) has no form to find it by, so a model with `tagged_slots` learns where it is: a small
head over MiniLM's token states gives each token a tag, O (not a value), B (a value begins) or I (it goes on), and
the tagged words become slots like the others. It is trained on the pairs whose code copies words of the request
(cfusion.train.tagger); it never reads the code at run time.
"""

from __future__ import annotations

import torch
import torch.nn as nn

O, B, I = 0, 1, 2  # noqa: E741 - the tags' usual names


class ValueTagger(nn.Module):
    """Token states (B, S, width) -> tag logits (B, S, 3). `trained` is 1 once `cfusion data tagger` has fit it: a
    model whose tagger never learned must not slot words at random."""

    def __init__(self, width: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, 3))
        self.register_buffer("trained", torch.zeros((), dtype=torch.uint8))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.net(states)

    def tags(self, states: torch.Tensor, cut: float = 0.5) -> torch.Tensor:
        """Each token's tag (..., S): B or I, the likelier of the two, where their probability passes `cut`."""
        p = self.net(states).float().softmax(-1)
        return torch.where(p[..., O] < 1 - cut, 1 + (p[..., I] > p[..., B]).long(), O)

    def mark(
        self, texts: list[str], offsets: list[list[tuple[int, int]]], states: torch.Tensor, cut: float = 0.5
    ) -> list[list[tuple[int, int]]]:
        """The char ranges of each text that the tagger marks, from MiniLM's states of the texts (B, S, width), padded,
        and their tokens' offsets (RequestTokenizer.encode_offsets)."""
        return [spans(t, off, tags) for t, off, tags in zip(texts, offsets, self.tags(states, cut).tolist())]


def labels(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """Each token's tag for the value `spans` (char ranges) of its text: B on a span's first token, I on the rest."""
    tags, begun = [], set()
    for s, e in offsets:
        span = next(((a, b) for a, b in spans if s < e and a <= s and e <= b), None)
        tags.append(O if span is None else I if span in begun else B)
        if span is not None:
            begun.add(span)
    return tags


def spans(text: str, offsets: list[tuple[int, int]], tags: list[int]) -> list[tuple[int, int]]:
    """The char ranges of `text` that `tags` mark, each widened to whole words (a tagged piece of a word tags the
    word) and merged where they touch."""
    out: list[list[int]] = []
    for (s, e), tag in zip(offsets, tags):
        if s == e or tag == O:
            continue
        if tag == I and out and text[out[-1][1] : s].strip() == "":
            out[-1][1] = e
        else:
            out.append([s, e])
    widened: list[list[int]] = []
    for s, e in out:
        while s > 0 and text[s - 1].isalnum():
            s -= 1
        while e < len(text) and text[e].isalnum():
            e += 1
        if widened and s <= widened[-1][1]:
            widened[-1][1] = max(widened[-1][1], e)
        else:
            widened.append([s, e])
    return [(s, e) for s, e in widened]
