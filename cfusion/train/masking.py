"""Code-specific paragraph denoising (CPD): pre-training masks only identifiers and keywords of a snippet."""

from __future__ import annotations

import functools
import random

from cfusion import langs


def maskable_spans(code: str, lang: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the identifiers and keywords of `code` that CPD may mask."""
    return langs.get(lang).maskable_spans(code)


@functools.lru_cache(maxsize=1 << 18)
def _cached_spans(code: str, lang: str) -> tuple[tuple[int, int], ...]:
    # Pre-training masks the same snippets epoch after epoch: parse each once.
    return tuple(maskable_spans(code, lang))


def mask_code(code: str, lang: str, rate: float, generator: random.Random, mask: str) -> str:
    """Replace each maskable span by `mask` with probability `rate`, at least one when any exists."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    spans = _cached_spans(code, lang)
    if not spans:
        return code
    chosen = [generator.random() < rate for _ in spans]
    if not any(chosen):
        # A pre-training example with nothing masked teaches the denoiser nothing.
        chosen[generator.randrange(len(spans))] = True
    out, pos = [], 0
    for (start, end), hit in zip(spans, chosen):
        if hit:
            out += [code[pos:start], mask]
            pos = end
    out.append(code[pos:])
    return "".join(out)
