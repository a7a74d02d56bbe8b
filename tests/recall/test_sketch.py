"""The sketch (cfusion.recall.sketch): a tiny one learns which template tokens a request's answer holds, its files
round-trip and fail clearly, its cosine ranks commands by the tokens it expects, it tips the consensus, and
`cfusion data sketch` + `gen` run end to end."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import cfusion, write_jsonl

from cfusion import langs
from cfusion.core.bundle import model_state, save_model
from cfusion.core.config import preset
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import CodeTokenizer
from cfusion.errors import CheckpointError
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.rank import rank
from cfusion.recall.memory import Memory
from cfusion.recall.sketch import Sketch, SketchConfig, agreement, words
from cfusion.train.sketch import train_sketch

VERBS = {
    "count the lines of": "wc -l",
    "show the first lines of": "head -n 5",
    "list the details of": "ls -l",
    "find the text files under": "find {} -name '*.txt'",
    "delete": "rm -f",
}
FILES = ["notes", "data", "logs", "src", "tmp", "out"]


DIRECTIONS = F.normalize(torch.randn(len(VERBS), 16, generator=torch.Generator().manual_seed(0)), dim=-1)


def vectors(verbs: list[int], seed: int) -> torch.Tensor:
    """Stand-ins for sentence vectors: the verb's direction plus noise (a file name moves a request's vector a bit)."""
    noise = torch.randn(len(verbs), 16, generator=torch.Generator().manual_seed(seed))
    return F.normalize(DIRECTIONS[verbs] + 0.3 * noise, dim=-1)


def memory(n_files: int = 5) -> Memory:
    """Known pairs of five verbs over a few files."""
    verbs = [i for i in range(len(VERBS)) for _ in FILES[:n_files]]
    pairs = [
        (f"{v} {f}", (c.format(f) if "{}" in c else f"{c} {f}")) for v, c in VERBS.items() for f in FILES[:n_files]
    ]
    return Memory([r for r, _ in pairs], [c for _, c in pairs], ["bash"] * len(pairs), vectors(verbs, 0))


TINY = SketchConfig(hidden=16, min_word=2, min_token=2, epochs=40, lr=1e-2, batch=8, width=16)


def test_words_are_lowercased_words_and_their_pairs():
    assert words("Find *.TXT files") == ["find", "*", ".", "txt", "files", "find *", "* .", ". txt", "txt files"]


def test_a_tiny_sketch_learns_the_tokens_of_each_verb():
    mem = memory()
    net, report = train_sketch(mem, "bash", cfg=TINY)
    assert report["last_loss"] < 0.2 * report["first_loss"], report
    # A file name never seen, with new noise on the vectors.
    count, find = net.predict(["count the lines of readme", "find the text files under readme"], vectors([0, 3], 1))
    assert count["wc"] > 0.8 and count["-l"] > 0.8 and count.get("find", 0.0) < 0.2, count
    assert find["find"] > 0.8 and find["-name"] > 0.8 and find.get("wc", 0.0) < 0.2, find


def test_a_sketch_needs_pairs_of_its_language():
    mem = memory()
    with pytest.raises(ValueError, match="no python pairs"):
        train_sketch(mem, "python", cfg=TINY)
    with pytest.raises(ValueError, match="too few pairs"):
        # no word recurs that often
        train_sketch(memory(), "bash", cfg=SketchConfig(**{**TINY.__dict__, "min_word": 100}))


def test_sketch_files_round_trip_and_fail_clearly(tmp_path):
    net, _ = train_sketch(memory(), "bash", cfg=SketchConfig(**{**TINY.__dict__, "epochs": 2}))
    assert Sketch.load(tmp_path) is None
    net.save(tmp_path)
    back = Sketch.load(tmp_path)
    vec = F.normalize(torch.randn(3, 16), dim=-1)
    reqs = ["delete logs", "list the details of src", "something else"]
    for a, b in zip(net.predict(reqs, vec), back.predict(reqs, vec)):  # fp16 weights
        assert max(abs(a.get(t, 0.0) - b.get(t, 0.0)) for t in a.keys() | b.keys()) < 5e-3
    (tmp_path / "sketch.json.gz").write_bytes(b"not gzip")
    with pytest.raises(CheckpointError, match="bad sketch"):
        Sketch.load(tmp_path)
    net.save(tmp_path)
    other, _ = train_sketch(memory(), "bash", cfg=SketchConfig(**{**TINY.__dict__, "epochs": 1, "hidden": 8}))
    other.save(tmp_path / "other")
    (tmp_path / "sketch.safetensors").write_bytes((tmp_path / "other" / "sketch.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="do not match"):
        Sketch.load(tmp_path)


def test_agreement_is_the_cosine_with_the_expected_template():
    sketch = {"find": 0.9, "-name": 0.8, "-type": 0.1}
    got = agreement(["find . -name a", "find . -type f", "ls -l", ""], sketch, langs.get("bash"))
    norm = np.sqrt(0.81 + 0.64 + 0.01)
    assert got == pytest.approx([(0.9 + 0.8) / (np.sqrt(2) * norm), (0.9 + 0.1) / (np.sqrt(2) * norm), 0.0, 0.0])
    assert agreement(["ls"], {}, langs.get("bash")).tolist() == [0.0]


def test_the_sketch_tips_a_close_call_in_the_consensus():
    def recalled(code):
        return Candidate(code, None, 0, True, similarity=0.7, known="k", rerank=0.0)

    cands = [recalled("find . -type f"), recalled("find . -type f -exec ls -l {} \\;")]
    assert rank(cands, "bash")[0].code == "find . -type f"  # a tie goes to the first
    sketch = {"find": 0.95, "-type": 0.9, "-exec": 0.7, "ls": 0.7, "-l": 0.7, "{}": 0.7, "\\;": 0.7}
    assert rank(cands, "bash", sketch=sketch)[0].code == "find . -type f -exec ls -l {} \\;"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An untrained tiny denoiser over the real MiniLM encoder (the memory's vectors are MiniLM's)."""
    tok = CodeTokenizer.train(["wc -l notes", "ls -l src", "find . -name '*.txt'"] * 5, 300)
    cfg = preset("tiny", encoder="minilm", vocab_size=tok.vocab_size, max_code_len={"bash": 32})
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sketched")
    save_model(path, cfg, tok, model_state(CodeFusion(cfg)))
    return path


def test_data_sketch_trains_and_gen_uses_it(folder, tmp_path):
    proc = cfusion("data", "sketch", "--model", str(folder))
    assert proc.returncode == 2 and "has no memory" in proc.stderr and "Traceback" not in proc.stderr
    pairs = [{"nl": r, "code": c, "lang": "bash"} for r, c in zip(memory().requests, memory().codes)]
    cfusion("data", "memory", str(write_jsonl(tmp_path / "known.jsonl", pairs)), "--model", str(folder), check=True)
    proc = cfusion("data", "sketch", "--model", str(folder), "--epochs", "0")
    assert proc.returncode == 2 and "--epochs must be positive" in proc.stderr
    proc = cfusion("data", "sketch", "--model", str(folder), "--epochs", "30", check=True)
    assert "sketch ->" in proc.stderr and (folder / "sketch.safetensors").is_file()
    got = Sketch.load(folder)
    assert got.cfg.width == 384 and "wc" in got.tokens
    out = json.loads(cfusion("gen", "count the lines of readme", "--model", str(folder), "--json", check=True).stdout)
    assert out["candidates"][0]["code"].startswith("wc -l")
