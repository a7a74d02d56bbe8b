"""Literals in the request come back verbatim, with their case, through the literal stream beside uncased MiniLM."""

import random

from conftest import tiny_args, write_jsonl

from cfusion.core.bundle import load_model
from cfusion.core.tokenizer import RequestTokenizer
from cfusion.pipeline.generator import Generator
from cfusion.train.diffusion import train

TEMPLATES = [("show the file {}", "cat {}"), ("delete the file {}", "rm -f {}"), ("count lines in {}", "wc -l {}")]


def file_names(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [
        "".join(r.choice(letters) for _ in range(r.randint(3, 7))) + r.choice([".PDF", ".txt", ".Log", "", ".SH"])
        for _ in range(n)
    ]


def pairs(names: list[str]) -> list[dict]:
    rows = []
    for i, name in enumerate(names):
        nl, code = TEMPLATES[i % 3]
        rows.append({"nl": nl.format(name), "code": code.format(name), "lang": "bash"})
    return rows


def test_unseen_mixed_case_file_names_are_copied_verbatim(tmp_path):
    train_rows, test_rows = pairs(file_names(300, seed=0)), pairs(file_names(9, seed=1))
    assert not {r["nl"] for r in test_rows} & {r["nl"] for r in train_rows}
    data = write_jsonl(tmp_path / "d.jsonl", train_rows)
    args = tiny_args(
        tmp_path, data, steps=1500, batch_size=32, warmup=20, ema_decay=0.99, ckpt_every=1500, log_every=100,
        overrides={"encoder": "minilm", "n_literal_layers": 1},
    )  # fmt: skip
    model, tok, _ = load_model(train(args, log=lambda m: None))
    # MiniLM alone cannot tell the case of a name: the same ids for "LMO.SH" and "lmo.sh".
    req = RequestTokenizer(64)
    assert req.encode_batch([test_rows[0]["nl"]]) == req.encode_batch([test_rows[0]["nl"].lower()])
    answers = Generator(model, tok).generate([r["nl"] for r in test_rows], "bash", k=1, steps=20)
    got = [(a[0].code if a else "", r["code"]) for a, r in zip(answers, test_rows)]
    # Every answer keeps the name's first three characters with their case; most keep the whole name.
    assert all(
        code[: len(ref) - len(ref.split()[-1]) + 3] == ref[: len(ref) - len(ref.split()[-1]) + 3] for code, ref in got
    ), got
    assert sum(code == ref for code, ref in got) >= 5, got
