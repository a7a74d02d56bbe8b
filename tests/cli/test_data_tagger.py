"""`cfusion data tagger` as a user runs it: it trains a tagged-slot model's value tagger in place, after which `gen`
works, and it refuses models and options it cannot use with one line."""

import json

from conftest import cfusion, write_jsonl
from test_cli import one_line_error

from cfusion.core.bundle import load_model
from cfusion.core.checkpoint import load_tensors

ROWS = [
    {"nl": f"highlight cells containing {w}", "code": f"TextContains({w})", "lang": "cf"}
    for w in ("Zorb", "Plenk", "vask", "Tromo", "gilda", "Mupsy", "Frell", "dozo")
]


def test_tagger_trains_in_place_and_gen_answers(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    run = tmp_path / "run"
    cfusion(
        "train", "--stage", "finetune", "--lang", "cf", "--data", str(data), "--out", str(run), "--preset", "tiny",
        "--steps", "4", "--batch-size", "8", "--device", "cpu", "--set", "encoder=minilm", "--set", "value_slots=true",
        "--set", "tagged_slots=true", check=True,
    )  # fmt: skip
    model = run / "model"
    one_line_error(cfusion("gen", "--lang", "cf", "--model", str(model), "cells containing Wump"), 1, "never trained")
    cfusion("data", "quantize", "--model", str(model), check=True)
    before = load_tensors(model, "model")
    proc = cfusion("data", "tagger", "--model", str(model), "--data", str(data), "--lang", "cf", "--dev", str(data))
    assert proc.returncode == 0, proc.stderr
    assert "8 pairs, 8 copied values" in proc.stderr and "F1" in proc.stderr
    after = load_tensors(model, "model")
    assert after.keys() == before.keys()
    assert all(after[k].equal(v) for k, v in before.items() if not k.startswith("tagger."))  # the rest as stored
    assert after["tagger.net.0.weight"].dtype == before["tagger.net.0.weight"].dtype  # int8 stays int8
    assert int(load_model(model)[0].tagger.trained) == 1
    out = cfusion("gen", "--lang", "cf", "--model", str(model), "--json", "-k", "2", "cells containing Wump")
    assert out.returncode == 0 and "candidates" in json.loads(out.stdout), out.stderr


def test_tagger_refuses_a_model_without_tagged_slots(tiny_run, tmp_path):
    model, _ = tiny_run
    data = write_jsonl(tmp_path / "pairs.jsonl", ROWS)
    tagger = ("data", "tagger", "--model", str(model), "--lang", "cf")
    one_line_error(cfusion(*tagger, "--data", str(data)), 2, "reads no tagged slots")
    one_line_error(cfusion(*tagger, "--data", str(data), "--epochs", "0"), 2, "--epochs")
    one_line_error(cfusion(*tagger, "--data", str(tmp_path / "nope.jsonl")), 1, "nope")
