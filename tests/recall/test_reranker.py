"""The reranker (cfusion.recall.reranker, trained by cfusion.train.reranker): pairs tokenised as BERT does, folded
adapters that score as the unfolded ones, its listwise loss against a per-request reference, a tiny reranker that
learns which known request answers a new one, files that round-trip and fail clearly, and `cfusion data rerank` +
`gen` end to end."""

import copy
import json

import pytest
import torch
import torch.nn.functional as F
from conftest import cfusion, write_jsonl

from cfusion.core.bundle import load_model, model_state, save_model
from cfusion.core.config import preset
from cfusion.core.features import Featurizer
from cfusion.core.minilm import load_minilm
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import CodeTokenizer, RequestTokenizer
from cfusion.data.pairs import Pair
from cfusion.errors import CheckpointError
from cfusion.recall.memory import Memory
from cfusion.recall.reranker import (
    LowRank,
    RerankConfig,
    Reranker,
    known_side,
    pair_batch,
    rerank_scores,
    score_pairs,
)
from cfusion.train.reranker import leave_one_out_lists, listwise_loss, train_reranker

VERBS = {
    "count the lines of": "wc -l",
    "show the first lines of": "head -n 5",
    "show the last lines of": "tail -n 5",
    "sort the lines of": "sort -u",
    "print": "cat",
    "delete": "rm -f",
}
FILES = ["notes.txt", "data.json"]  # each known request has one other of its verb: the one to find
PAIRS = [{"nl": f"{v} {f}", "code": f"{c} {f}", "lang": "bash"} for v, c in VERBS.items() for f in FILES]


@pytest.fixture(scope="module")
def minilm():
    return load_minilm().eval()


def randomised(net: Reranker, seed: int) -> Reranker:
    """Nonzero updates and head, so that a test can tell adapters that work from adapters that do nothing."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, LowRank):
            m.b.data = 0.05 * torch.randn(m.b.shape, generator=g)
    net.head.weight.data = torch.randn(net.head.weight.shape, generator=g)
    return net.eval()


def test_pairs_are_tokenised_as_bert_pairs_and_cut_longest_first():
    tok = RequestTokenizer(64)
    a, b = "Find all TXT files under /tmp", "list files"
    want = tok.tok.encode(a, b)
    ids, types = tok.pair(*tok.pieces([a, b]), 64)
    assert ids == want.ids and types == want.type_ids
    long, short = tok.pieces(["word " * 40, "two words"])
    ids, types = tok.pair(long, short, 16)
    assert len(ids) == 16 and types.count(1) == len(short) + 1  # only the longer side was cut
    assert ids[-len(short) - 1 : -1] == short
    texts = ["list files", "a b", "list files", "find . -name x", "du -sh"]
    plain = [e.ids for e in tok.tok.encode_batch(texts, add_special_tokens=False)]
    assert tok.pieces(texts) == plain and tok.pieces(texts[::-1]) == plain[::-1]  # remembered pieces
    tok.PIECES_KEPT = 3
    assert tok.pieces(texts) == plain and tok.pieces(["x"] + texts) == [[1060]] + plain  # forgotten when full


def test_folded_adapters_score_as_unfolded(minilm):
    torch.manual_seed(0)
    net = randomised(Reranker(RerankConfig(rank=3, alpha=5.0, max_len=24), minilm), 1)
    tok = RequestTokenizer(24)
    reqs = ["find all txt files", "delete empty directories under /tmp", "x"]
    knowns = [["Find all .txt files under the current directory", "count lines", "a"], [], ["remove empty folders"]]
    before = rerank_scores(net, tok, reqs, knowns)
    bare = copy.deepcopy(net)
    for m in bare.modules():
        if isinstance(m, LowRank):
            m.b.data.zero_()
    plain = rerank_scores(bare, tok, reqs, knowns)
    after = rerank_scores(net.merge(), tok, reqs, knowns)
    assert [len(s) for s in after] == [3, 0, 1]
    assert not any(isinstance(m, LowRank) for m in net.modules())
    flat = lambda xs: torch.tensor([x for s in xs for x in s])  # noqa: E731
    assert torch.allclose(flat(before), flat(after), atol=1e-4)
    assert not torch.allclose(flat(before), flat(plain), atol=1e-2)  # the adapters change the scores
    pairs = ([reqs[0]] * 3 + [reqs[2]], knowns[0] + knowns[2])
    assert torch.allclose(score_pairs(net, tok, *pairs, batch=3), flat(after), atol=1e-5)  # passes of 3 pairs
    pieces = tok.pieces(pairs[0] + pairs[1])
    in_order = net(*pair_batch(tok, pieces[:4], pieces[4:], 24, "cpu"))  # one pass, unsorted
    assert torch.allclose(score_pairs(net, tok, *pairs, batch=1), in_order, atol=1e-5)  # sorted, then put back


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
    """An untrained tiny denoiser over the real MiniLM encoder (the memory and the reranker read MiniLM)."""
    tok = CodeTokenizer.train([p["code"] for p in PAIRS] * 5, 300)
    cfg = preset("tiny", encoder="minilm", vocab_size=tok.vocab_size, max_code_len={"bash": 32})
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("reranked")
    save_model(path, cfg, tok, model_state(CodeFusion(cfg)))
    return path


def test_a_tiny_reranker_learns_which_known_request_answers(folder):
    net, tok, _ = load_model(folder)
    mem = Memory.build(net, Featurizer(net.cfg, tok), [Pair(**p) for p in PAIRS])
    lists = leave_one_out_lists(mem, 6)
    assert all(len(near) == len(set(mem.codes[j] for j in near)) and i not in near for i, (near, _) in enumerate(lists))
    assert all(sum(t > 0.99 for t in ts) == 1 for _, ts in lists)  # one command of the right verb, another file
    cfg = RerankConfig(rank=4, max_len=48)  # the known side holds the command too
    req_tok = RequestTokenizer(cfg.max_len)

    def top1(rr):
        knowns = [[known_side(cfg, mem.requests[j], mem.codes[j]) for j in near] for near, _ in lists]
        scores = rerank_scores(rr, req_tok, mem.requests, knowns)
        return sum(ts[max(range(len(ts)), key=s.__getitem__)] for (_, ts), s in zip(lists, scores)) / len(lists)

    torch.manual_seed(1)
    before = top1(randomised(Reranker(cfg, net.minilm), 2))
    rr, report = train_reranker(net.minilm, mem, cfg, steps=30, batch=6, neighbours=6, lr=5e-3, holdout=0.0)
    assert report["last_loss"] < report["first_loss"] - 0.5, report
    after = top1(rr.merge())
    assert after > 0.95 and after > before + 0.2, (before, after)


def test_an_equal_command_earns_the_exact_bonus(folder):
    net, tok, _ = load_model(folder)
    twice = PAIRS + [{**p, "nl": f"please {p['nl']} now"} for p in PAIRS]  # each command under two requests
    mem = Memory.build(net, Featurizer(net.cfg, tok), [Pair(**p) for p in twice])
    for (_, plain), (_, bonus) in zip(leave_one_out_lists(mem, 8), leave_one_out_lists(mem, 8, exact=1.0)):
        assert plain == [min(t, 1.0) for t in bonus]  # the bonus comes on top of a full template match
        assert bonus.count(2.0) == 1  # the other request of the same command, and no other
    cfg = RerankConfig(code=True)
    assert known_side(cfg, "list files", "ls") == "list files [SEP] ls"
    assert known_side(RerankConfig(code=False), "list files", "ls") == "list files"
    ids, types = RequestTokenizer(32).pair(*RequestTokenizer(32).pieces(["x", known_side(cfg, "list files", "ls")]), 32)
    assert ids.count(102) == 3 and types.count(1) == len(ids) - types.count(0)  # [SEP] splits request from command


def test_the_reranker_learns_from_the_main_pairs_alone(folder):
    net, tok, _ = load_model(folder)
    extra = [Pair(f"please {p['nl']} now", f"{p['code']} -v", "bash") for p in PAIRS[:5]] + [Pair(**PAIRS[0])]
    mem = Memory.build(net, Featurizer(net.cfg, tok), [Pair(**p) for p in PAIRS], extra)
    assert mem.extra == [False] * len(PAIRS) + [True] * 5  # main pairs first; one given twice stays a main one
    main = mem.main()
    assert main.requests == [p["nl"] for p in PAIRS] and torch.equal(main.vectors, mem.vectors[: len(PAIRS)])
    _, report = train_reranker(net.minilm, mem, RerankConfig(rank=2, max_len=32), steps=2, batch=4, neighbours=4)
    assert report["known"] == len(PAIRS)


def test_reranker_files_round_trip_and_fail_clearly(tmp_path, minilm):
    cfg = RerankConfig(rank=2, max_len=16)
    net = randomised(Reranker(cfg, minilm), 3)
    assert Reranker.load(tmp_path, minilm) is None  # a model without a reranker
    net.save(tmp_path)
    got = Reranker.load(tmp_path, minilm)
    tok = RequestTokenizer(16)
    args = (tok, ["list files", "show disk usage"], [["ls -l please", "print files"], ["du"]])
    for name, p in net.named_parameters():
        if name in net.trained():
            p.data = p.data.half().float()  # what the file holds
    want = rerank_scores(net.merge(), *args)
    assert torch.allclose(torch.tensor(sum(rerank_scores(got, *args), [])), torch.tensor(sum(want, [])), atol=1e-3)
    older = {k: v for k, v in cfg.__dict__.items() if k != "code"}
    (tmp_path / "rerank.json").write_text(json.dumps(older))  # written before the known side held the command
    assert Reranker.load(tmp_path, minilm).cfg.code is False
    (tmp_path / "rerank.json").write_text(json.dumps({"rank": 0}))
    with pytest.raises(CheckpointError, match="bad reranker config"):
        Reranker.load(tmp_path, minilm)
    (tmp_path / "rerank.json").write_text(json.dumps({**cfg.__dict__, "rank": 4}))
    with pytest.raises(CheckpointError, match="do not match"):
        Reranker.load(tmp_path, minilm)
    (tmp_path / "rerank.json").write_text(json.dumps({**cfg.__dict__, "width": 256}))
    with pytest.raises(CheckpointError, match="adapts a 256-wide MiniLM"):
        Reranker.load(tmp_path, minilm)


def test_data_rerank_trains_and_gen_uses_it(folder, tmp_path):
    proc = cfusion("data", "rerank", "--model", str(folder), "--steps", "5", "--device", "cpu")
    assert proc.returncode == 2 and "has no memory" in proc.stderr and "Traceback" not in proc.stderr
    known = write_jsonl(tmp_path / "known.jsonl", PAIRS)
    cfusion("data", "memory", str(known), "--model", str(folder), check=True)
    proc = cfusion("data", "rerank", "--model", str(folder), "--steps", "3", "--device", "cpu", check=True)
    assert "reranker ->" in proc.stderr and (folder / "rerank.safetensors").is_file()
    out = json.loads(cfusion("gen", "sort the lines of x.txt", "--model", str(folder), "--json", check=True).stdout)
    recalled = [c for c in out["candidates"] if "known" in c]
    assert recalled and all("rerank" in c for c in recalled)
    assert all("rerank" not in c for c in out["candidates"] if "known" not in c)  # only recalled pairs are reranked
    alone = json.loads(
        cfusion("gen", "sort the lines of x.txt", "--model", str(folder), "--recall", "0", "--json", check=True).stdout
    )
    assert all("rerank" not in c for c in alone["candidates"])  # the reranker works with recall


@pytest.mark.gpu
def test_graph_replays_equal_the_eager_passes_on_gpu():
    """On CUDA, Generator replays MiniLM on padded requests and the reranker on padded pairs from CUDA graphs; the
    requests' own states and the pairs' scores must equal the eager passes."""
    from conftest import gpu_device

    from cfusion.core.graphs import Replay
    from cfusion.eval.bench import REQUEST, load_generator
    from cfusion.pipeline import recall as R
    from cfusion.recall.reranker import score_pairs

    gpu_device()
    torch.set_grad_enabled(False)
    g = load_generator(None, "small", "cuda", "triton", True, recall=True, lang="bash")
    b = {k: v.cuda() for k, v in g.feat.requests([REQUEST, "list files"]).items()}
    ids, lens = b["enc_ids"], b["enc_len"]
    keep = (torch.arange(ids.shape[1], device="cuda")[None] < lens[:, None])[..., None]
    padded = F.pad(ids, (0, g.cfg.max_request_len - ids.shape[1]))
    graphed, eager = Replay(g.model.minilm)(padded, lens)[:, : ids.shape[1]], g.model.minilm(ids, lens)
    assert torch.equal(graphed * keep, eager * keep)
    recalled = [{f"ls dir{i}": R.Known(0.5, f"request {i}", False, i) for i in range(23)}]
    knowns = [known_side(g.reranker.cfg, f"request {i}", f"ls dir{i}") for i in range(23)]
    want = score_pairs(g.reranker, g.feat.req_tok, [REQUEST] * 23, knowns)
    got = R.rerank(g.reranker, g.feat.req_tok, [REQUEST], recalled, Replay(g.reranker), 30)
    assert torch.allclose(got, want, atol=1e-5)
    assert len(g.generate([REQUEST], "bash", k=5)[0]) == 5
