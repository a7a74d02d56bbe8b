"""The sample stage: k candidates per request from one batched denoising pass, cut at the first pad, deduplicated."""

from __future__ import annotations

from collections.abc import Callable

import torch

from cfusion.core.diffusion import Schedule
from cfusion.core.graphs import StepGraph
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import PAD_ID, CodeTokenizer
from cfusion.pipeline.candidate import Candidate


def sample(
    model: CodeFusion,
    schedule: Schedule,
    batch: dict,
    n: int,
    k: int,
    steps: int,
    seed: int,
    eta: float,
    clamp: bool,
    graphs: dict | None = None,
    key: tuple = (),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (B*k, n) and their log-probabilities by model.sample; with `graphs` (a cache kept by the caller),
    prepare and the steps are replayed from CUDA graphs when they can be (deterministic DDIM, more than one step).
    `key`: what else the captured graphs depend on (the kernels used)."""
    dev = model.embed.weight.device
    g = torch.Generator(dev).manual_seed(seed)
    if graphs is None or not (eta == 0 and steps > 1):
        return model.sample(batch, n, schedule, steps, eta, g, k, clamp)
    requests = next(iter(batch.values())).shape[0]
    ts, coefs = schedule.step_table(steps, eta)
    key = (requests, k, n, len(ts), clamp, *key, tuple(batch))
    if key not in graphs:
        graphs[key] = StepGraph(model, batch, k, n, len(ts), clamp)
    x = torch.randn(requests * k, n, model.cfg.d_latent, device=dev, generator=g, dtype=model.embed.weight.dtype)
    return graphs[key].run(x, batch, ts, coefs)


def cut(tok: CodeTokenizer, ids: torch.Tensor, scores: torch.Tensor) -> tuple[str, float]:
    """Decode up to the first pad; the score averages log-probs over the kept tokens and that pad."""
    pads = (ids == PAD_ID).nonzero()
    end = int(pads[0]) if len(pads) else len(ids)
    code = tok.decode(ids[:end].tolist()).strip()
    return code, float(scores[: end + 1].mean())


def candidates(
    tok: CodeTokenizer, ids: torch.Tensor, scores: torch.Tensor, rows: range, usable: Callable[[str], bool]
) -> dict[str, Candidate]:
    """One request's samples (its `rows` of ids and scores, on the CPU) as candidates by code: votes count the
    samples that gave a code, and its score is the best of theirs. Empty samples are dropped."""
    found: dict[str, Candidate] = {}
    for row in rows:
        code, score = cut(tok, ids[row], scores[row])
        if not code:
            continue
        c = found.get(code)
        if c is None:
            found[code] = Candidate(code, score, 1, usable(code))
        else:
            c.votes += 1
            c.score = max(c.score, score)
    return found
