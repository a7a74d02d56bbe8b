"""The judge (cfusion.judge): its listwise loss against a per-request reference, a tiny judge that learns which
command answers a request, files that round-trip and fail clearly, and `cfusion data judge` + `gen` end to end."""

import json

import pytest
import torch
import torch.nn.functional as F
from conftest import cfusion, write_jsonl

from cfusion.bundle import load_model, model_state, save_model
from cfusion.config import preset
from cfusion.data import Pair
from cfusion.errors import CheckpointError
from cfusion.features import Featurizer
from cfusion.judge import (
    Judge,
    JudgeConfig,
    judge_scores,
    leave_one_out_lists,
    listwise_loss,
    train_judge,
)
from cfusion.memory import Memory, request_states
from cfusion.model import CodeFusion
from cfusion.tokenizer import CodeTokenizer, RequestTokenizer

VERBS = {
    "count the lines of": "wc -l",
    "show the first lines of": "head -n 5",
    "show the last lines of": "tail -n 5",
    "sort the lines of": "sort -u",
}
FILES = ["notes.txt", "log.md", "a.csv", "data.json", "todo.txt", "b.csv", "index.html", "main.py"]
PAIRS = [{"nl": f"{v} {f}", "code": f"{c} {f}", "lang": "bash"} for v, c in VERBS.items() for f in FILES]


def test_listwise_loss_equals_a_per_request_reference():
    g = torch.Generator().manual_seed(0)
    sizes = [1, 5, 3, 7, 2]
    owner = torch.cat([torch.full((n,), i) for i, n in enumerate(sizes)])
    s, t = torch.randn(len(owner), generator=g), torch.rand(len(owner), generator=g)
    ref, i = [], 0
    for n in sizes:
        ref.append(-(F.softmax(t[i : i + n] / 0.1, 0) * F.log_softmax(s[i : i + n], 0)).sum())
        i += n
    assert torch.allclose(listwise_loss(s, t, owner, 0.1), torch.stack(ref).mean(), atol=1e-6)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An untrained tiny denoiser over the real MiniLM encoder (the judge reads MiniLM and the code embedding)."""
    tok = CodeTokenizer.train([p["code"] for p in PAIRS] * 5, 300)
    cfg = preset("tiny", encoder="minilm", vocab_size=tok.vocab_size)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("judged")
    save_model(path, cfg, tok, model_state(CodeFusion(cfg)))
    return path


def test_a_tiny_judge_learns_which_command_answers(folder):
    net, tok, _ = load_model(folder)
    mem = Memory.build(net, Featurizer(net.cfg, tok), [Pair(**p) for p in PAIRS])
    lists = leave_one_out_lists(mem, 8)
    assert all(len(near) == len(set(mem.codes[j] for j in near)) and i not in near for i, (near, _) in enumerate(lists))

    def top1(judge):
        h, lens = request_states(net, RequestTokenizer(net.cfg.max_request_len), mem.requests)
        scores = judge_scores(judge, net, tok, h, lens, [[mem.codes[j] for j in near] for near, _ in lists])
        return sum(ts[max(range(len(ts)), key=s.__getitem__)] for (_, ts), s in zip(lists, scores)) / len(lists)

    torch.manual_seed(1)
    cfg = JudgeConfig(d_model=32, n_heads=2, d_ff=64, n_layers=1, dropout=0.0, d_latent=net.cfg.d_latent)
    before = top1(Judge(cfg).eval())
    judge, report = train_judge(net, tok, mem, cfg, steps=150, batch=16, neighbours=8, lr=3e-3, holdout=0.0)
    assert report["last_loss"] < report["first_loss"] - 0.5, report
    after = top1(judge)
    # Every list holds a command of the right verb (another file): the judge must learn verb -> utility.
    assert after > 0.95 and after > before + 0.2, (before, after)


def test_judge_files_round_trip_and_fail_clearly(tmp_path):
    cfg = JudgeConfig(d_model=32, n_heads=2, d_ff=64, n_layers=1, d_latent=16, width=24)
    judge = Judge(cfg).eval()
    assert Judge.load(tmp_path) is None  # a model without a judge
    judge.save(tmp_path)
    got = Judge.load(tmp_path)
    h, emb = torch.randn(2, 7, 24), torch.randn(5, 9, 16)
    args = (torch.tensor([7, 3]), emb, torch.tensor([9, 4, 1, 9, 2]), torch.tensor([0, 0, 1, 1, 1]))
    assert torch.allclose(got(h, args[0], *args[1:]), judge.half().float()(h, args[0], *args[1:]), atol=1e-3)
    (tmp_path / "judge.json").write_text(json.dumps({"d_model": 30, "n_heads": 4}))
    with pytest.raises(CheckpointError, match="bad judge config"):
        Judge.load(tmp_path)
    (tmp_path / "judge.json").write_text(json.dumps({**cfg.__dict__, "d_ff": 32}))
    with pytest.raises(CheckpointError, match="do not match"):
        Judge.load(tmp_path)


def test_a_judge_of_another_shape_is_refused(folder):
    from cfusion.generate import Generator

    net, tok, _ = load_model(folder)
    mem = Memory(["a"], ["ls"], ["bash"], F.normalize(torch.randn(1, net.minilm.width), dim=-1))
    odd = Judge(JudgeConfig(d_model=32, n_heads=2, d_ff=64, n_layers=1, d_latent=net.cfg.d_latent + 1))
    with pytest.raises(CheckpointError, match="the judge reads"):
        Generator(net, tok, memory=mem, judge=odd)


def test_data_judge_trains_and_gen_uses_it(folder, tmp_path):
    proc = cfusion("data", "judge", "--model", str(folder), "--steps", "5", "--device", "cpu")
    assert proc.returncode == 2 and "has no memory" in proc.stderr and "Traceback" not in proc.stderr
    known = write_jsonl(tmp_path / "known.jsonl", PAIRS)
    cfusion("data", "memory", str(known), "--model", str(folder), check=True)
    proc = cfusion("data", "judge", "--model", str(folder), "--steps", "20", "--device", "cpu", check=True)
    assert "judge ->" in proc.stderr and (folder / "judge.safetensors").is_file()
    out = json.loads(cfusion("gen", "sort the lines of x.txt", "--model", str(folder), "--json", check=True).stdout)
    assert out["candidates"] and all("judge" in c for c in out["candidates"])
    alone = json.loads(
        cfusion("gen", "sort the lines of x.txt", "--model", str(folder), "--recall", "0", "--json", check=True).stdout
    )
    assert all("judge" not in c for c in alone["candidates"])  # the judge works with recall
