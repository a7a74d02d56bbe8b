"""The training step in CUDA graphs: bucketed request widths change no loss; on a GPU, replays train as the eager
step does, capturing changes no weight, and a killed graphed run resumes to the same weights."""

import copy
import json
import random

import pytest
import torch
from conftest import gpu_device, tiny_args, write_jsonl

from cfusion.core.config import preset
from cfusion.core.diffusion import Schedule
from cfusion.core.features import Featurizer
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import PAD_ID, CodeTokenizer
from cfusion.train.graphed import bucket, pad_requests

TEMPLATES = ["gzip -9 {}", "wc -l {}", "chmod 644 {}", "sort -u {}", "head -n 5 {}", "du -h {}", "cat {}"]


def pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.randrange(len(TEMPLATES))
        name = f"{rng.randrange(1000):03d}.{rng.choice(['txt', 'log', 'csv'])}"
        words = " ".join(rng.choice(["please", "now", "the", "file", "quickly"]) for _ in range(rng.randrange(1, 9)))
        out.append((f"{TEMPLATES[t].split()[0]} {words} {name}", TEMPLATES[t].format(name)))
    return out


def write_pairs(path, n=96):
    return write_jsonl(path, [{"nl": nl, "code": code, "lang": "bash"} for nl, code in pairs(n)])


def tiny_batch(n: int, **cfg) -> tuple:
    """A tiny model (code length 12) and one training batch of n toy pairs: model, schedule, batch."""
    torch.manual_seed(0)
    cfg = preset("tiny", max_code_len={"bash": 12}, **cfg)
    data = pairs(n)
    tok = CodeTokenizer.train([t for p in data for t in p] * 5, cfg.vocab_size)
    cfg.vocab_size = tok.vocab_size
    feat, sched = Featurizer(cfg, tok), Schedule(cfg.diffusion_steps, cfg.schedule_offset)
    batch = {
        "code_ids": feat.code([c for _, c in data], "bash"),
        **feat.requests([nl for nl, _ in data]),
        "t": torch.randint(0, sched.T, (n,)),
        "noise": torch.randn(n, 12, cfg.d_latent),
    }
    return CodeFusion(cfg), sched, batch


def test_bucket_widths():
    assert [bucket(w, 128) for w in (1, 16, 17, 33, 64, 65, 128)] == [16, 16, 32, 48, 64, 80, 128]
    assert bucket(45, 40) == 40  # never past the model's request length


@pytest.mark.parametrize("encoder", ["scratch", "minilm"])
def test_padding_requests_to_a_bucket_changes_no_loss(encoder):
    """The graphs' inputs are padded to a bucket width; every key past a row's length must stay unread."""
    extra = {"n_literal_layers": 1} if encoder == "minilm" else {}
    model, sched, batch = tiny_batch(8, encoder=encoder, **extra)
    cfg = model.eval().cfg
    padded = pad_requests(dict(batch), cfg.max_request_len)
    for key in ("enc_ids", "lit_ids"):
        if key in batch:
            w = batch[key].shape[1]
            assert padded[key].shape[1] == bucket(w, cfg.max_request_len) > w
            assert torch.equal(padded[key][:, :w], batch[key]) and (padded[key][:, w:] == PAD_ID).all()
    with torch.no_grad():
        want, got = model(batch, sched), model(padded, sched)
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6, msg=k)


# ---- on a GPU (TRITON_INTERPRET=0 pytest -m gpu) --------------------------------------------------------------
def _metrics(run) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _weights(run):
    from cfusion.core.checkpoint import load_tensors, read_latest

    return load_tensors(read_latest(run / "checkpoints"), "model")


@pytest.mark.gpu
@pytest.mark.parametrize("stage", ["finetune", "pretrain"])
def test_graphed_training_follows_the_eager_loss_curve(tmp_path, stage):
    """Pre-training mixes two tasks (two graphs per width); fine-tuning reads MiniLM and the literal stream."""
    from cfusion.train.diffusion import train

    gpu_device()
    if stage == "pretrain":
        data = tmp_path / "snippets.txt"
        data.write_text("".join(code + "\n" for _, code in pairs(96)))
        kw = dict(stage="pretrain")
    else:
        data = write_pairs(tmp_path / "pairs.jsonl")
        kw = dict(overrides={"encoder": "minilm", "n_literal_layers": 1})
    curves = {}
    for graphs in (False, True):
        args = tiny_args(tmp_path / str(graphs), data, device="cuda", graphs=graphs, steps=80, ckpt_every=80, **kw)
        train(args, log=lambda _: None)
        curves[graphs] = [r["loss"] for r in _metrics(tmp_path / str(graphs) / "run")]
        if graphs:
            assert all(r["capture_s"] > 0 for r in _metrics(tmp_path / str(graphs) / "run"))
    eager, graphed = torch.tensor(curves[False]), torch.tensor(curves[True])
    assert len(eager) == len(graphed) == 80 and eager[-10:].mean() < 0.5 * eager[:10].mean()  # it learns
    assert ((graphed - eager).abs() / eager).mean() < 0.03


@pytest.mark.gpu
def test_capturing_changes_no_weight(tmp_path):
    """Warm-up steps run before a capture; the parameters and AdamW's state go back, so the first replayed step
    equals one eager step from the same start."""
    from cfusion.train.graphed import GraphedStep, train_step

    dev = torch.device(gpu_device())
    model0, sched, batch = tiny_batch(16)
    batch = pad_requests(batch, model0.cfg.max_request_len)
    after = []
    for graphed in (False, True):
        model = copy.deepcopy(model0).to(dev).train()
        params = list(model.parameters())
        start = [p.detach().clone() for p in params]
        lr = torch.tensor(1e-3, device=dev) if graphed else 1e-3
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, fused=True, capturable=graphed)
        if graphed:
            GraphedStep(model, sched, opt, params, 1.0)(batch)
        else:
            train_step(model, sched, opt, params, 1.0, {k: v.to(dev) for k, v in batch.items()})
        after.append([p.detach().clone() for p in params])
    for a, b in zip(*after):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-4)
    assert all((a - p).abs().max() > 1e-5 for a, p in zip(after[0], start))  # every parameter took the step


class Killed(Exception):
    pass


def _kill(run):
    raise Killed  # at the first checkpoint: the run stops as a killed one does, its checkpoint written


@pytest.mark.gpu
def test_a_killed_graphed_run_resumes_to_the_same_weights(tmp_path):
    """A run stopped at a checkpoint and resumed (capturing again) ends where the uninterrupted run ends."""
    from cfusion.train.diffusion import train

    gpu_device()
    data = write_pairs(tmp_path / "pairs.jsonl")
    whole = tiny_args(tmp_path / "whole", data, device="cuda", steps=40, ckpt_every=20)
    train(whole, log=lambda _: None)
    part = tiny_args(tmp_path / "part", data, device="cuda", steps=40, ckpt_every=20)
    with pytest.raises(Killed):
        train(part, log=lambda _: None, on_save=_kill)
    assert not (tmp_path / "part" / "run" / "model").exists()
    train(part, log=lambda _: None)
    a, b = _weights(tmp_path / "whole" / "run"), _weights(tmp_path / "part" / "run")
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-4, msg=k)


def test_warm_up_steps_are_taken_back():
    """What capturing relies on, on the CPU: after a snapshot, steps that change the weights and make AdamW state
    for more parameters are undone, and state made after the snapshot returns to AdamW's initial zeros."""
    from cfusion.train.graphed import GraphedStep

    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)
    params = [*a.parameters(), *b.parameters()]
    opt = torch.optim.AdamW(params, lr=0.1, weight_decay=0.0)
    x = torch.randn(5, 4)
    a(x).sum().backward()  # b gets no gradient: AdamW makes no state for it
    opt.step()
    before = [p.detach().clone() for p in params]
    state_a = {k: v.clone() for k, v in opt.state[a.weight].items()}
    g = GraphedStep(None, None, opt, params, 1.0)
    saved = g._snapshot()
    for _ in range(2):
        opt.zero_grad()
        b(a(x)).sum().backward()
        opt.step()
    assert b.weight in opt.state and not torch.equal(a.weight, before[0])
    g._restore(saved)
    assert all(torch.equal(p, q) for p, q in zip(params, before))
    assert all(torch.equal(opt.state[a.weight][k], v) for k, v in state_a.items())
    assert all(not v.any() for v in opt.state[b.weight].values())
