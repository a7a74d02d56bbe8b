"""A retrieval-aware model's memory: the request and its recalled pairs, each row reading only its own."""

import pytest
import torch
from conftest import gpu_device, triton_device

from cfusion import kernels
from cfusion.core.config import preset
from cfusion.core.diffusion import Schedule
from cfusion.core.features import NEIGHBOUR_REQUEST, Featurizer
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import CodeTokenizer

PAIRS = [
    ("find all txt files", "find . -name '*.txt'"),
    ("count lines in notes.md", "wc -l notes.md"),
    ("show disk usage of /var", "du -sh /var"),
    ("compress report.csv", "gzip report.csv"),
]


def tiny(**kw):
    torch.manual_seed(0)
    cfg = preset("tiny", n_neighbours=3, max_code_len={"bash": 12}, **kw)
    tok = CodeTokenizer.train([t for p in PAIRS for t in p] * 5, cfg.vocab_size)
    cfg.vocab_size = tok.vocab_size
    return CodeFusion(cfg).eval(), Featurizer(cfg, tok)


def test_featurizer_lays_out_each_neighbour_request_then_command():
    model, feat = tiny()
    near = [[PAIRS[1], PAIRS[2]], [], [PAIRS[3]] * 5]
    nb = feat.neighbours(near, "bash")
    B, r, L = nb["nb_ids"].shape
    assert (B, r) == (3, 3) and L == min(model.cfg.max_request_len, NEIGHBOUR_REQUEST + 12)
    lens = nb["nb_len"]
    assert lens[0, 2] == 0 and (lens[1] == 0).all()
    assert (lens[2] == lens[2, 0]).all()  # a request with more pairs than the model reads keeps the nearest r
    q, c = (feat.code_tok.encode(t) for t in PAIRS[1])
    row = nb["nb_ids"][0, 0]
    assert nb["nb_split"][0, 0] == len(q) and nb["nb_len"][0, 0] == len(q) + len(c)
    assert row[: len(q)].tolist() == q and row[len(q) : len(q) + len(c)].tolist() == c
    assert (row[len(q) + len(c) :] == 0).all() and (nb["nb_ids"][1] == 0).all()


def test_an_empty_memory_answers_as_the_request_alone():
    """Absent neighbours (length 0) add no key: sampling gives the same tokens and scores as without their inputs."""
    model, feat = tiny()
    sched = Schedule(model.cfg.diffusion_steps, model.cfg.schedule_offset)
    batch = feat.requests([p[0] for p in PAIRS])
    alone = model.sample(batch, 12, sched, 4, 0.0, torch.Generator().manual_seed(1), k=2)
    empty = {**batch, **feat.neighbours([[] for _ in PAIRS], "bash")}
    got = model.sample(empty, 12, sched, 4, 0.0, torch.Generator().manual_seed(1), k=2)
    assert torch.equal(alone[0], got[0]) and torch.allclose(alone[1], got[1], atol=1e-5)


def test_each_row_reads_its_own_neighbours_whatever_its_batch():
    """Rows with ragged neighbour counts and lengths, batched, give each row the memory it gets alone."""
    model, feat = tiny()
    near = [[PAIRS[1], PAIRS[2], PAIRS[3]], [], [PAIRS[0]]]
    requests = ["count lines in todo.txt", "list files", "find all md files"]
    batch = {**feat.requests(requests), **feat.neighbours(near, "bash")}
    mem, lens = model.encode(batch)
    assert lens[1] < lens[2] < lens[0]
    for i in range(3):
        one = {**feat.requests(requests[i : i + 1]), **feat.neighbours(near[i : i + 1], "bash")}
        m1, l1 = model.encode(one)
        assert l1.item() == lens[i].item()
        torch.testing.assert_close(mem[i, : lens[i]], m1[0, : l1[0]], rtol=1e-5, atol=1e-5)
    with_nb = model.sample(batch, 12, Schedule(1200, 1e-4), 4, 0.0, torch.Generator().manual_seed(0))[0]
    without = model.sample(feat.requests(requests), 12, Schedule(1200, 1e-4), 4, 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(with_nb[1], without[0][1]) and not torch.equal(with_nb, without[0])


def test_the_fused_cross_attention_reads_the_longer_memory():
    """The Triton kernel over request-plus-neighbours keys, per-row lengths, equals the torch path."""
    dev = triton_device()
    model, feat = tiny()
    model.to(dev)
    near = [[PAIRS[1], PAIRS[2], PAIRS[3]], [PAIRS[0]]]
    inputs = {**feat.requests(["count words", "find md files"]), **feat.neighbours(near, "bash")}
    batch = {k: v.to(dev) for k, v in inputs.items()}
    sched = Schedule(model.cfg.diffusion_steps, model.cfg.schedule_offset)
    out = {}
    for mode in ("torch", "triton"):
        with kernels.use(mode):
            out[mode] = model.sample(batch, 12, sched, 3, 0.0, torch.Generator(dev).manual_seed(0), k=2)
    assert torch.equal(out["torch"][0], out["triton"][0])
    torch.testing.assert_close(out["torch"][1], out["triton"][1], rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
def test_cuda_graphs_replay_a_retrieval_aware_model_as_the_eager_loop_runs_it():
    from cfusion.data.pairs import Pair
    from cfusion.pipeline.generator import Generator
    from cfusion.recall.memory import Memory

    dev = gpu_device()
    outs = {}
    for graphs in (False, True):
        model, feat = tiny(encoder="minilm", n_literal_layers=1)
        memory = Memory.build(model, feat, [Pair(nl, c, "bash") for nl, c in PAIRS])
        gen = Generator(model.to(dev), feat.code_tok, kernels="torch", graphs=graphs, memory=memory)
        pools = gen.pools(["count lines in todo.txt", "find all md files"], "bash", k=3, steps=6, recall=4)
        outs[graphs] = [sorted(c.code for c in cands if c.votes) for cands, _ in pools]
    assert outs[True] == outs[False]
