"""The sampling trace behind `gen --trace`: what the decoder reads from each denoising estimate, recorded without
changing what sampling produces, its last entry the samples themselves."""

from __future__ import annotations

import pytest
import torch

from cfusion.core.bundle import installed_model, load_model
from cfusion.core.tokenizer import PAD_ID
from cfusion.pipeline import sample as S
from cfusion.pipeline.generator import Generator

REQUESTS = ["show the last 100 lines of server.log", "delete empty directories under /tmp"]


@pytest.fixture(scope="module")
def shipped() -> Generator:
    model, tok, _ = load_model(installed_model("bash"))
    return Generator(model, tok)


def draw(g: Generator, clamp: bool, k: int, steps: int, trace: list | None = None):
    batch = g.feat.requests(REQUESTS)
    n = g.cfg.max_code_len["bash"]
    return S.sample(g.model, g.schedule, batch, n, k, steps, 7, 0.0, clamp, trace=trace)


@pytest.mark.parametrize("clamp", [True, False])
def test_tracing_leaves_the_samples_as_they_were(shipped, clamp):
    ids, scores = draw(shipped, clamp, k=3, steps=4)
    trace = []
    traced_ids, traced_scores = draw(shipped, clamp, k=3, steps=4, trace=trace)
    assert torch.equal(ids, traced_ids) and torch.equal(scores, traced_scores)
    ts = shipped.schedule.timesteps(4)
    assert [t for t, _ in trace] == ts and len(ts) == 4  # one read per estimate: 3 steps, then the final read
    assert all(r.shape == ids.shape for _, r in trace)
    assert torch.equal(trace[-1][1], ids)


def test_a_clamped_trace_differs_from_a_plain_one_before_its_end(shipped):
    """Clamped steps move toward what the decoder reads, so the reads change with clamping: the trace reads each
    step's estimate, not one estimate repeated."""
    clamped, plain = [], []
    draw(shipped, True, k=3, steps=6, trace=clamped)
    draw(shipped, False, k=3, steps=6, trace=plain)
    assert torch.equal(clamped[0][1], plain[0][1])  # the same first estimate, from the same noise
    assert any(not torch.equal(a, b) for (_, a), (_, b) in zip(clamped[1:], plain[1:]))


def test_the_generator_traces_each_request_and_ends_on_its_candidates(shipped):
    k, steps = 3, 4
    found = shipped.pools(REQUESTS, "bash", k=k, steps=steps, seed=2, recall=0)
    trace = []
    traced = shipped.pools(REQUESTS, "bash", k=k, steps=steps, seed=2, recall=0, trace=trace)
    assert [[(c.code, c.score, c.votes) for c in cs] for cs, _ in traced] == [
        [(c.code, c.score, c.votes) for c in cs] for cs, _ in found
    ]
    assert len(trace) == len(REQUESTS)
    for reads, (cands, _) in zip(trace, traced):
        assert [r.step for r in reads] == list(range(steps))
        assert [r.t for r in reads] == shipped.schedule.timesteps(steps)
        assert all(len(r.texts) == len(r.tokens) == k for r in reads)
        # without recall the candidates are the samples, deduplicated, the empty ones dropped
        assert sorted({code for code in reads[-1].texts if code}) == sorted(c.code for c in cands)
        assert [r.to_json() for r in reads][-1] == {"step": steps - 1, "t": 0, "samples": reads[-1].texts}


def test_reads_decode_each_sample_to_its_first_pad_and_mark_the_tokens_that_changed(shipped):
    tok = shipped.tok
    a, b, c = (tok.encode(w)[0] for w in ("find", " .", " xargs"))
    trace = [
        (9, torch.tensor([[a, b, PAD_ID, c], [c, PAD_ID, PAD_ID, PAD_ID]])),
        (4, torch.tensor([[a, c, b, PAD_ID], [PAD_ID, c, c, c]])),
    ]
    first, second = S.reads(tok, trace, range(0, 2))
    assert (first.step, first.t, second.step, second.t) == (0, 9, 1, 4)
    assert first.texts == ["find .", "xargs"] and second.texts == ["find xargs .", ""]
    assert first.tokens == [[("find", True), (" .", True)], [(" xargs", True)]]
    assert second.tokens == [[("find", False), (" xargs", True), (" .", True)], []]
    # a request's rows only
    (one,) = S.reads(tok, trace[:1], range(1, 2))
    assert one.texts == ["xargs"]
