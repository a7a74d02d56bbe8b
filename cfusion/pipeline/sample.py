"""The sample stage: k candidates per request from one batched denoising pass, cut at the first pad, deduplicated;
on request, a trace of what the decoder read from each denoising estimate along the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from cfusion.core.diffusion import Schedule
from cfusion.core.graphs import StepGraph
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import PAD_ID, CodeTokenizer
from cfusion.data.slots import fill, unfilled
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
    trace: list | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (B*k, n) and their log-probabilities by model.sample; with `graphs` (a cache kept by the caller),
    prepare and the steps are replayed from CUDA graphs when they can be (deterministic DDIM, more than one step).
    `key`: what else the captured graphs depend on (the kernels used). trace: filled as model.sample fills it, by the
    eager loop (a replayed step keeps nothing of what it read)."""
    dev = model.embed.weight.device
    g = torch.Generator(dev).manual_seed(seed)
    if graphs is None or trace is not None or not (eta == 0 and steps > 1):
        return model.sample(batch, n, schedule, steps, eta, g, k, clamp, trace)
    requests = next(iter(batch.values())).shape[0]
    ts, coefs = schedule.step_table(steps, eta)
    key = (requests, k, n, len(ts), clamp, *key, tuple(batch))
    if key not in graphs:
        graphs[key] = StepGraph(model, batch, k, n, len(ts), clamp)
    x = torch.randn(requests * k, n, model.cfg.d_latent, device=dev, generator=g, dtype=model.embed.weight.dtype)
    return graphs[key].run(x, batch, ts, coefs)


def first_pad(ids: torch.Tensor) -> int:
    """Where a sample's code ends: its first pad, or its length."""
    pads = (ids == PAD_ID).nonzero()
    return int(pads[0]) if len(pads) else len(ids)


def code(tok: CodeTokenizer, ids: torch.Tensor, end: int) -> str:
    return tok.decode(ids[:end].tolist()).strip()


def cut(tok: CodeTokenizer, ids: torch.Tensor, scores: torch.Tensor) -> tuple[str, float]:
    """Decode up to the first pad; the score averages log-probs over the kept tokens and that pad."""
    end = first_pad(ids)
    return code(tok, ids, end), float(scores[: end + 1].mean())


@dataclass
class Read:
    """What D and H read from one denoising estimate x0_hat of a request's k samples: the step's index and timestep,
    each sample's code (cut at the first pad, as `cut` cuts it) and its tokens, each with whether it differs from the
    token read at its position one step before (every token of the first step does)."""

    step: int
    t: int
    texts: list[str]
    tokens: list[list[tuple[str, bool]]]

    def to_json(self) -> dict:
        return {"step": self.step, "t": self.t, "samples": self.texts}


def reads(tok: CodeTokenizer, trace: list[tuple[int, torch.Tensor]], rows: range) -> list[Read]:
    """One request's `rows` of a model.sample trace, decoded: a Read per estimate, the final read last."""
    out, prev = [], None
    for step, (t, ids) in enumerate(trace):
        ids = ids[rows.start : rows.stop].cpu()
        changed = torch.ones_like(ids, dtype=torch.bool) if prev is None else ids != prev
        texts, tokens = [], []
        for row, new in zip(ids, changed):
            end = first_pad(row)
            texts.append(code(tok, row, end))
            tokens.append([(tok.decode([i]), bool(c)) for i, c in zip(row[:end].tolist(), new[:end].tolist())])
        out.append(Read(step, int(t), texts, tokens))
        prev = ids
    return out


def candidates(
    tok: CodeTokenizer,
    ids: torch.Tensor,
    scores: torch.Tensor,
    rows: range,
    usable: Callable[[str], bool],
    values: list[str] | None = None,
) -> dict[str, Candidate]:
    """One request's samples (its `rows` of ids and scores, on the CPU) as candidates by code: votes count the
    samples that gave a code, and its score is the best of theirs. Empty samples are dropped. `values`: the
    request's values, filled into the slots of a model with value slots (cfusion.data.slots); a sample naming a slot
    that the request has no value for is not valid, so it ranks after every valid candidate."""
    found: dict[str, Candidate] = {}
    for row in rows:
        code, score = cut(tok, ids[row], scores[row])
        gap = values is not None and unfilled(code, values)  # a slot the request has no value for
        if values is not None:
            code = fill(code, values)
        if not code:
            continue
        c = found.get(code)
        if c is None:
            found[code] = Candidate(code, score, 1, usable(code) and not gap)
        else:
            c.votes += 1
            c.score = max(c.score, score)
    return found
