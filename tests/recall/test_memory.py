"""Recall of known pairs: 4-bit vectors that keep their neighbours, files that round-trip and fail clearly, and
`cfusion data memory` + `cfusion gen` end to end on a model with the MiniLM encoder."""

import gzip
import json
import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from conftest import cfusion, write_jsonl

from cfusion import langs
from cfusion.core.bundle import load_model, model_state, save_model
from cfusion.core.config import preset
from cfusion.core.model import CodeFusion
from cfusion.errors import CheckpointError
from cfusion.pipeline import recall as R
from cfusion.recall.memory import Memory, dequantize, holding, literal_words, quantize


def unit(n, d, seed=0):
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize("d", [37, 384])
def test_four_bit_vectors_keep_their_direction_and_neighbours(d):
    v = unit(500, d)
    codes, scale = quantize(v)
    assert codes.dtype == torch.uint8 and codes.shape == (500, (d + 1) // 2)
    back = dequantize(codes, scale)
    assert back.shape == v.shape
    assert (back * v).sum(-1).min() > 0.9
    mem = Memory([str(i) for i in range(500)], [f"echo {i}" for i in range(500)], ["bash"] * 500, back)
    queries = F.normalize(v + 0.05 * unit(500, d, seed=1), dim=-1)
    sims, idx = mem.search(queries, 3, "bash")
    assert sims.shape == (500, 3) and (sims[:, :-1] >= sims[:, 1:]).all()
    assert (idx[:, 0] == torch.arange(500)).float().mean() > 0.98


def test_search_keeps_to_the_language_and_to_what_there_is():
    v = unit(6, 16)
    mem = Memory(list("abcdef"), list("ABCDEF"), ["bash", "python"] * 3, v)
    sims, idx = mem.search(v[:2], 5, "python")
    assert idx.shape == (2, 3) and set(idx.flatten().tolist()) <= {1, 3, 5}
    assert idx[1, 0] == 1 and sims[1, 0] == pytest.approx(1.0, abs=1e-5)


def test_shared_counts_the_rare_words_a_request_shares_with_a_main_pairs_command():
    # 61 pairs: every request says "files" and every command "find ... -name"; one command runs the script fixmbox,
    # and an extra pair's command names its argument in a word, as tldr's do.
    requests = [f"find the files of project {i}" for i in range(59)] + ["give the dirs to a script", "wait a while"]
    codes = [f"find proj{i} -name '*.c'" for i in range(59)] + ["find . -type d -exec ./fixmbox {} +", "sleep seconds"]
    mem = Memory(requests, codes, ["bash"] * 61, unit(61, 8), extra=[False] * 60 + [True])
    request = "find the files and give them to the script fixmbox"
    rare = math.log(61 / (1 + 1))  # fixmbox: one known text holds it
    assert mem.shared(request, 59) == pytest.approx(rare)
    assert mem.shared(request, 0) == 0.0  # find, files: in every pair; proj0 is not in the request
    assert mem.shared("files of proj7 and fixmbox", 7) == pytest.approx(rare)  # proj7: one text holds it too
    assert mem.shared("FIXMBOX, ./FixMbox", 59) == pytest.approx(rare)  # any case, counted once
    assert mem.shared("nothing in common", 59) == 0.0
    assert mem.shared("wait 30 seconds", 60) == 0.0  # an extra pair's words are placeholders
    assert literal_words("Run ./fixmbox -n 10 on a.txt") == {"run", "fixmbox", "10", "on", "txt"}


def test_holding_counts_the_texts_that_hold_each_word_once_per_text():
    texts = ["ls -la A_b", "Find . -name '*.LOG' find", "a b c", "grep ab_c x.log"]
    assert holding(texts) == {"ls": 1, "la": 1, "a_b": 1, "find": 1, "name": 1, "log": 2, "grep": 1, "ab_c": 1}
    assert holding(texts) == sum((Counter(literal_words(t)) for t in texts), Counter())


def test_memory_files_round_trip_and_fail_clearly(tmp_path):
    v = unit(9, 20)
    mem = Memory([f"request {i}" for i in range(9)], [f"ls -{i}" for i in range(9)], ["bash"] * 9, v)
    assert Memory.load(tmp_path) is None  # a model without a memory
    mem.save(tmp_path)
    got = Memory.load(tmp_path)
    assert got.requests == mem.requests and got.codes == mem.codes and got.langs == mem.langs
    assert torch.allclose(got.vectors, dequantize(*quantize(v)))
    assert got._holding == holding(mem.requests + mem.codes) and got._holding["request"] == 9  # stored, not counted
    stored = json.loads(gzip.decompress((tmp_path / "memory.json.gz").read_bytes()))
    for bad in ([["ls", 1]], {"ls": "1"}, {"ls": 1.5}):
        (tmp_path / "memory.json.gz").write_bytes(gzip.compress(json.dumps({**stored, "holding": bad}).encode()))
        with pytest.raises(CheckpointError, match="corrupt memory file.*holding must map words to counts"):
            Memory.load(tmp_path)
    del stored["holding"]  # an older file: counted at first use, to the same counts
    (tmp_path / "memory.json.gz").write_bytes(gzip.compress(json.dumps(stored).encode()))
    older = Memory.load(tmp_path)
    assert older._holding is None and older.holding == got.holding
    (tmp_path / "memory.json.gz").write_bytes(gzip.compress(b'{"requests": []}')[:-6])
    with pytest.raises(CheckpointError, match="corrupt memory file"):
        Memory.load(tmp_path)
    empty = {"requests": [], "codes": [], "langs": []}
    (tmp_path / "memory.json.gz").write_bytes(gzip.compress(json.dumps(empty).encode()))
    with pytest.raises(CheckpointError, match="disagree"):
        Memory.load(tmp_path)
    (tmp_path / "memory.json.gz").unlink()
    with pytest.raises(CheckpointError, match="is missing"):
        Memory.load(tmp_path)


def test_extra_flags_round_trip_and_an_older_file_has_none(tmp_path):
    v = unit(4, 12)
    Memory(list("abcd"), ["ls", "du", "df", "ps"], ["bash"] * 4, v, [False, True, False, True]).save(tmp_path)
    assert Memory.load(tmp_path).extra == [False, True, False, True]
    pairs = json.loads(gzip.decompress((tmp_path / "memory.json.gz").read_bytes()))
    del pairs["extra"]  # written before extra pairs existed
    (tmp_path / "memory.json.gz").write_bytes(gzip.compress(json.dumps(pairs).encode()))
    assert Memory.load(tmp_path).extra == [False] * 4
    with pytest.raises(ValueError, match="one row per pair"):
        Memory(list("ab"), ["ls", "du"], ["bash"] * 2, unit(2, 12), [True])


@pytest.fixture(scope="module")
def minilm_model(tiny_run, tmp_path_factory):
    """An untrained tiny denoiser over the real MiniLM encoder: recall needs only the encoder."""
    _, tok, _ = load_model(tiny_run[0])
    cfg = preset("tiny", encoder="minilm", vocab_size=tok.vocab_size, max_code_len={"bash": 32})
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("minilm_model")
    save_model(folder, cfg, tok, model_state(CodeFusion(cfg)))
    return folder


def test_gen_recalls_known_pairs_through_the_cli(minilm_model, tiny_run, tmp_path):
    pairs = tiny_run[1]
    known = write_jsonl(tmp_path / "known.jsonl", pairs)
    cfusion("data", "memory", str(known), "--model", str(minilm_model), check=True)
    assert (minilm_model / "memory.safetensors").is_file() and (minilm_model / "memory.json.gz").is_file()

    p = pairs[5]
    out = json.loads(cfusion("gen", p["nl"], "--model", str(minilm_model), "-k", "3", "--json", check=True).stdout)
    top = out["candidates"][0]
    # The same request is known: its code answers, with where it came from.
    assert top["code"] == p["code"] and top["source"] in ("memory", "both")
    assert top["known"] == p["nl"] and top["similarity"] > 0.95
    assert out["recall"] == 30 and len(out["candidates"]) <= 3

    alone = json.loads(
        cfusion("gen", p["nl"], "--model", str(minilm_model), "--recall", "0", "--json", check=True).stdout
    )
    assert alone["recall"] == 0 and all(c["source"] == "model" for c in alone["candidates"])

    proc = cfusion("gen", p["nl"], "--model", str(minilm_model), "--recall", "65")
    assert proc.returncode == 2 and "--recall must be in 0..64" in proc.stderr


def test_extra_pairs_are_marked_and_a_pair_given_twice_is_a_main_one(minilm_model, tiny_run, tmp_path):
    import shutil

    folder = shutil.copytree(minilm_model, tmp_path / "model")
    main, more = tiny_run[1][:4], tiny_run[1][3:7]  # pair 3 in both
    known = write_jsonl(tmp_path / "main.jsonl", main)
    extra = write_jsonl(tmp_path / "extra.jsonl", more)
    proc = cfusion("data", "memory", str(known), "--extra", str(extra), "--model", str(folder), check=True)
    assert "7 known pairs (3 extra)" in proc.stderr
    mem = Memory.load(folder)
    flags = dict(zip(mem.requests, mem.extra))
    assert [flags[p["nl"]] for p in tiny_run[1][:7]] == [False] * 4 + [True] * 3
    out = json.loads(cfusion("gen", more[2]["nl"], "--model", str(folder), "--json", check=True).stdout)
    top = out["candidates"][0]  # the same request, known as an extra pair, still answers as it stands
    assert top["code"] == more[2]["code"] and top["extra"] is True


def test_gen_carries_the_request_literals_into_recalled_commands(minilm_model, tmp_path):
    import shutil

    folder = shutil.copytree(minilm_model, tmp_path / "model")
    known = [
        {"nl": "Show the first 10 lines of file.txt", "code": "head -n 10 file.txt", "lang": "bash"},
        {"nl": "count the lines of a file", "code": "wc -l myfile.txt", "lang": "bash"},
        {"nl": "list all running docker containers", "code": "docker ps", "lang": "bash"},
        {"nl": 'search for "hello" in notes.txt', "code": "grep hello notes.txt", "lang": "bash"},
    ]
    cfusion("data", "memory", str(write_jsonl(tmp_path / "k.jsonl", known)), "--model", str(folder), check=True)

    def recalled(request: str, *flags: str) -> dict:
        out = json.loads(cfusion("gen", request, "--model", str(folder), "--json", *flags, check=True).stdout)
        return {c["known"]: c for c in out["candidates"] if c["source"] != "model"}

    out = json.loads(cfusion("gen", "show the first 20 lines of data.csv", "--model", str(folder), "--json").stdout)
    assert out["candidates"][0]["code"] == "head -n 20 data.csv"  # a known request of its shape answers first
    mine = recalled("show the first 20 lines of data.csv")
    assert mine[known[0]["nl"]]["code"] == "head -n 20 data.csv"
    assert mine[known[0]["nl"]]["adapted_from"] == "head -n 10 file.txt"
    assert mine[known[1]["nl"]]["code"] == "wc -l data.csv"  # a placeholder file takes the request's
    assert mine[known[2]["nl"]]["code"] == "docker ps" and "adapted_from" not in mine[known[2]["nl"]]
    other = recalled("display the first 20 lines of data.csv")  # another shape: the consensus ranks
    assert other[known[0]["nl"]]["fits"] == 1.0 and "fits" not in other[known[2]["nl"]]  # the ranking's evidence
    plain = recalled("show the first 20 lines of data.csv", "--no-literals")
    assert plain[known[0]["nl"]]["code"] == "head -n 10 file.txt" and "adapted_from" not in plain[known[0]["nl"]]
    assert not any("fits" in c for c in plain.values())
    # a literal that is not a plain word reaches the command as one quoted argument, never as code
    evil = recalled('search for "$(reboot)" in notes.txt')
    assert evil[known[3]["nl"]]["code"] == "grep '$(reboot)' notes.txt"


def test_a_memory_needs_the_minilm_encoder_and_the_models_language(tiny_run, minilm_model, tmp_path):
    known = write_jsonl(tmp_path / "k.jsonl", [{"nl": "print hello", "code": "print('hello')", "lang": "python"}])
    proc = cfusion("data", "memory", str(known), "--model", str(minilm_model))
    assert proc.returncode == 2 and "does not generate python" in proc.stderr
    bash = write_jsonl(tmp_path / "b.jsonl", tiny_run[1][:3])
    proc = cfusion("data", "memory", str(bash), "--model", str(tiny_run[0]))
    assert proc.returncode == 1 and "needs a model with the MiniLM encoder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_cli_default_recall_is_the_librarys():
    import inspect

    from cfusion.cli.eval import evaluate
    from cfusion.cli.gen import gen
    from cfusion.pipeline import DEFAULT_RECALL

    for command in (gen, evaluate):
        assert inspect.signature(command).parameters["recall"].default.default == DEFAULT_RECALL


def test_bench_times_generation_with_recall(minilm_model):
    proc = cfusion(
        "bench", "--what", "e2e", "--model", str(minilm_model), "--reps", "2", "--batch", "4", "--steps", "3",
        "--json", "--device", "cpu", check=True,
    )  # fmt: skip
    rows = {r["impl"]: r for r in json.loads(proc.stdout)["end_to_end"]}
    assert rows["torch eager + recall"]["k5_p50_ms"] > 0 and rows["torch eager"]["k5_p50_ms"] > 0


def test_a_memory_of_another_width_is_refused(minilm_model, tiny_run):
    from cfusion.pipeline.generator import Generator

    odd = Memory(["a"], ["ls"], ["bash"], unit(1, 16))
    for folder in (minilm_model, tiny_run[0]):  # MiniLM gives 384-wide vectors; the scratch encoder none
        net, tok, _ = load_model(folder)
        with pytest.raises(CheckpointError, match="16-wide vectors"):
            Generator(net, tok, memory=odd)


def test_a_quoted_request_searches_with_its_skeleton_too(minilm_model):
    """Recall's query of a request that quotes text is the normalised sum of its vector and its skeleton's; the
    search then lands nearer the skeleton (what is asked), and a request without quotes keeps its own vector."""
    from cfusion.pipeline.generator import Generator
    from cfusion.recall.memory import sentence_vectors

    net, tok, _ = load_model(minilm_model)
    g = Generator(net, tok)
    requests = ['set alias "gs" for command "git status"', "list the files in /tmp"]
    own = sentence_vectors(net, g.feat, requests)
    shape = sentence_vectors(net, g.feat, ['set alias "x" for command "x"'])[0]
    with torch.no_grad():
        q = R.queries(requests, own, langs.get("bash"), lambda texts: sentence_vectors(net, g.feat, texts))
    assert torch.allclose(q[0], F.normalize(own[0] + shape, dim=-1), atol=1e-5)
    assert q[0] @ shape > own[0] @ shape + 0.05 and torch.equal(q[1], own[1])


def test_gen_never_answers_first_with_what_cannot_be_undone_unasked(minilm_model, tmp_path):
    from cfusion.core.tokenizer import PAD_ID

    # A denoiser whose head reads the pad everywhere writes nothing: the candidates are the two recalled commands.
    net, tok, _ = load_model(minilm_model)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(-1.0)[PAD_ID] = 1.0
    folder = tmp_path / "model"
    save_model(folder, net.cfg, tok, model_state(net))
    known = [
        {"nl": "list the doc files", "code": "find . -name '*.doc' -exec rm {} \\;", "lang": "bash"},
        {"nl": "show the doc files", "code": "ls *.doc", "lang": "bash"},
    ]
    cfusion("data", "memory", str(write_jsonl(tmp_path / "k.jsonl", known)), "--model", str(folder), check=True)
    out = json.loads(cfusion("gen", "list the doc files", "--model", str(folder), "--json", check=True).stdout)
    cands = out["candidates"]
    assert [c["code"] for c in cands] == ["ls *.doc", known[0]["code"]]  # not the known request's own command
    flagged = [c for c in cands if c["code"] == known[0]["code"]]
    assert flagged and flagged[0]["unasked"] == ["deletes or overwrites data"] and cands[-1] is flagged[0]
    (finding,) = flagged[0]["findings"]
    assert (finding["category"], finding["part"], finding["asked"]) == ("deletes", "rm {}", False)
