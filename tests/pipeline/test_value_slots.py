"""A model with value slots learns where each of the request's values goes, and writes unseen values exactly."""

import random

from conftest import tiny_args, write_jsonl

from cfusion.core.bundle import load_model
from cfusion.errors import CheckpointError
from cfusion.pipeline.generator import Generator
from cfusion.train.diffusion import train

TEMPLATES = [
    ("highlight cells greater than {a}", "GreaterThan({a})"),
    ("color values between {a} and {b}", "Between({a},{b})"),
    ("style cells below {b} but above {a}", "AND(GreaterThan({a}),LessThan({b}))"),
]


def templated(templates: list[tuple[str, str]], n: int, seed: int, draw) -> list[dict]:
    """n CF rows, the templates in turn, each filled with the values `draw(rng)` gives."""
    r = random.Random(seed)
    out = []
    for i in range(n):
        values = draw(r)
        nl, code = templates[i % len(templates)]
        out.append({"nl": nl.format(**values), "code": code.format(**values), "lang": "cf"})
    return out


def rows(n: int, seed: int, digits: tuple[int, int]) -> list[dict]:
    def draw(r: random.Random) -> dict:
        a, b = sorted(r.sample(range(10 ** (digits[0] - 1), 10 ** digits[1]), 2))
        return {"a": a, "b": b}

    return templated(TEMPLATES, n, seed, draw)


def fit(tmp_path, train_rows: list[dict], steps: int, overrides: dict):
    """A tiny CF model trained on the rows (batch 32, on the CPU): (model, tokenizer)."""
    data = write_jsonl(tmp_path / "d.jsonl", train_rows)
    args = tiny_args(
        tmp_path, data, lang="cf", steps=steps, batch_size=32, warmup=20, ema_decay=0.99, ckpt_every=steps,
        log_every=100, overrides=overrides,
    )  # fmt: skip
    model, tok, _ = load_model(train(args, log=lambda m: None))
    return model, tok


def exact(model, tok, test: list[dict]) -> list[tuple[str, str]]:
    """(top answer, reference) of each test row, one sample at 20 steps."""
    answers = Generator(model, tok).generate([r["nl"] for r in test], "cf", k=1, steps=20)
    return [(a[0].code if a else "", r["code"]) for a, r in zip(answers, test)]


def test_slots_carry_unseen_long_numbers_exactly(tmp_path):
    model, tok = fit(tmp_path, rows(240, seed=0, digits=(1, 3)), 400, {"value_slots": True})  # 1 to 3 digits
    assert model.cfg.value_slots
    got = exact(model, tok, rows(9, seed=1, digits=(5, 7)))  # 5 to 7 digits: never seen, many BPE tokens each
    assert sum(code == ref for code, ref in got) >= 8, got


WORD_TEMPLATES = [
    ("highlight cells containing {w}", "TextContains({w})"),
    ("color values equal to {w} please", "TextEquals({w})"),
    ("mark the entries that start with {w} in the column", "TextStartsWith({w})"),
]


def word_rows(n: int, seed: int, letters: tuple[int, int]) -> list[dict]:
    """Requests naming a made-up word without quotes, which the rule copies."""

    def draw(r: random.Random) -> dict:
        w = "".join(r.choice("bdfgklmnprstvz") + r.choice("aeiou") for _ in range(r.randint(*letters) // 2))
        return {"w": w.capitalize() if r.random() < 0.5 else w}

    return templated(WORD_TEMPLATES, n, seed, draw)


def test_tagged_slots_copy_unseen_unquoted_words(tmp_path):
    """With tagged slots the tagger marks the unquoted word and the model writes its slot: unseen long words come
    back exactly. The same model reading the word as text (no tagger) cannot spell words it never saw."""
    from cfusion.train.tagger import tag_scores, train_tagger

    train_rows = word_rows(240, seed=0, letters=(4, 8))
    model, tok = fit(tmp_path, train_rows, 300, {"value_slots": True, "tagged_slots": True, "encoder": "minilm"})
    try:
        Generator(model, tok)
        raise AssertionError("an untrained tagger must be refused")
    except CheckpointError as e:
        assert "never trained" in str(e)
    train_tagger(model, [(r["nl"], r["code"]) for r in train_rows], "cf", epochs=10)
    test = word_rows(9, seed=1, letters=(10, 14))  # longer than any trained word
    assert tag_scores(model, [(r["nl"], r["code"]) for r in test], "cf")["f1"] >= 0.8
    got = exact(model, tok, test)
    assert sum(code == ref for code, ref in got) >= 8, got
    model.tagger = None  # the words read as text, not as slots
    untagged = exact(model, tok, test)
    assert sum(code == ref for code, ref in untagged if code) <= 2
