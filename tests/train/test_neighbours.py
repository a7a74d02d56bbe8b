"""Retrieval-aware training: leave-one-out neighbours, and a tiny model that learns to copy from them."""

import json
import random

import pytest
import torch

from cfusion.train.neighbours import drop, leave_one_out

# A toy language in which only a neighbour says which command a request wants: each group of requests shares a
# made-up phrase that stands for a random template, and the groups asked about at test time never occur in training.
TEMPLATES = ["gzip -9 {}", "wc -l {}", "chmod 644 {}", "sort -u {}", "head -n 5 {}", "du -h {}"]


def toy(groups: int, per: int, test_groups: int, seed: int = 0):
    """Training pairs (`groups` groups of `per`), and per test group two pairs: a known one and the one asked."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    def group(n: int) -> list[tuple[str, str]]:
        phrase, template = f"{word()} {word()} {word()}", rng.choice(TEMPLATES)
        names = [f"{rng.randrange(10_000):04d}.{rng.choice(['txt', 'log', 'csv'])}" for _ in range(n)]
        return [(f"{phrase} the file {name}", template.format(name)) for name in names]

    train = [p for _ in range(groups) for p in group(per)]
    return train, [group(2) for _ in range(test_groups)]


def test_leave_one_out_never_retrieves_the_pair_itself():
    g = torch.Generator().manual_seed(0)
    v = torch.nn.functional.normalize(torch.randn(50, 8, generator=g), dim=-1)
    v[7] = v[3]  # a duplicate vector is another pair and may be retrieved; the query's own row never is
    own = list(range(50))
    near = leave_one_out(v, own, 5, chunk=16)
    assert all(i not in js and len(js) == 5 for i, js in zip(own, near))
    assert near[3][0] == 7 and near[7][0] == 3
    brute = [(v[i] @ v.T).topk(6).indices.tolist() for i in own]
    same = {7: 3}  # rows 3 and 7 are equally near every query: either may come first
    for i, js, b in zip(own, near, brute):
        assert [same.get(j, j) for j in js] == [same.get(j, j) for j in b if j != i][:5]


def test_recall_neighbours_drops_the_pair_itself_but_finds_its_rewordings():
    from cfusion.core.config import preset
    from cfusion.core.model import CodeFusion
    from cfusion.train.neighbours import recall_neighbours

    examples = [("list all files", "ls -a"), ("count lines in a.txt", "wc -l a.txt"), ("show all files", "ls -a")]
    extra = [("count the lines of b.txt", "wc -l b.txt"), ("list all files", "ls -a")]  # a copy of an example
    cfg = preset("tiny", encoder="minilm", n_neighbours=2, max_code_len={"bash": 8})
    model = CodeFusion(cfg)
    near = recall_neighbours(model, examples, extra, 2)
    for ex, mine in zip(examples, near):
        assert ex not in mine and len(mine) == 2
    assert near[0][0] == ("show all files", "ls -a")
    assert near[1][0] == ("count the lines of b.txt", "wc -l b.txt")


def test_drop_keeps_the_nearest_and_sometimes_none():
    rng = random.Random(0)
    seen = [len(drop(list("abcd"), rng, 4)) for _ in range(400)]
    assert set(seen) == {0, 1, 2, 3, 4} and 150 < seen.count(4) < 250
    assert drop(list("abcd"), random.Random(1), 4) == list("abcd")[: len(drop(list("abcd"), random.Random(1), 4))]


@pytest.mark.slow
def test_a_tiny_retrieval_aware_model_copies_a_file_name_into_a_neighbours_command(tmp_path):
    """Only the neighbour says which command a test request's phrase means, and only the request says which file.
    Trained with neighbours recalled leave-one-out, a tiny model answers many of them exactly; the same model with
    an empty memory can only guess the template (1 in 6)."""
    from conftest import tiny_args

    from cfusion.core.bundle import load_model
    from cfusion.core.diffusion import Schedule
    from cfusion.core.features import Featurizer
    from cfusion.pipeline.sample import cut
    from cfusion.train.diffusion import train

    train_pairs, test = toy(groups=400, per=3, test_groups=40)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"nl": nl, "code": c, "lang": "bash"}) + "\n" for nl, c in train_pairs))
    args = tiny_args(
        tmp_path,
        data,
        steps=800,
        batch_size=32,
        warmup=20,
        ema_decay=0.95,
        ckpt_every=800,
        log_every=100,
        overrides={"n_neighbours": 2},
    )
    model, tok, _ = load_model(train(args, log=lambda m: None))
    feat, schedule = Featurizer(model.cfg, tok), Schedule(model.cfg.diffusion_steps, model.cfg.schedule_offset)

    def solved(neighbours: bool) -> float:
        batch = feat.requests([asked[0] for _, asked in test])
        batch.update(feat.neighbours([[known] if neighbours else [] for known, _ in test], "bash"))
        n = model.cfg.max_code_len["bash"]
        ids, scores = model.sample(batch, n, schedule, 10, 0.0, torch.Generator().manual_seed(0))
        answers = [cut(tok, i, s)[0] for i, s in zip(ids, scores)]
        return sum(a == asked[1] for a, (_, asked) in zip(answers, test)) / len(test)

    with_neighbour, alone = solved(True), solved(False)
    assert with_neighbour >= 0.4 and with_neighbour >= alone + 0.25, (with_neighbour, alone)


def test_memory_without_a_retrieval_aware_model_is_refused(tmp_path):
    from conftest import cfusion

    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"nl": "list files", "code": "ls", "lang": "bash"}) + "\n")
    args = ["train", "--stage", "finetune", "--data", str(data), "--out", str(tmp_path / "run"), "--preset", "tiny"]
    out = cfusion(*args, "--steps", "2", "--device", "cpu", "--memory", str(data))
    assert out.returncode == 2 and "--memory is for fine-tuning a retrieval-aware model" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "run" / "checkpoints").exists()
    out = cfusion(*args, "--steps", "2", "--device", "cpu", "--set", "n_neighbours=2", "--memory", str(tmp_path / "no"))
    assert out.returncode != 0 and "Traceback" not in out.stderr and str(tmp_path / "no") in out.stderr
