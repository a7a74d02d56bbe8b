"""`cfusion eval` end to end on the tiny model: files written, metrics consistent with the predictions."""

import json

from conftest import cfusion, write_jsonl


def test_eval_writes_predictions_and_metrics(tiny_run, tmp_path):
    run, pairs = tiny_run
    rows = [dict(p, id=str(i)) for i, p in enumerate(pairs)]
    rows[0]["refs"] = ["echo another correct answer"]
    data = write_jsonl(tmp_path / "test.jsonl", rows)
    out = tmp_path / "eval"
    proc = cfusion(
        "eval",
        "--model",
        str(run),
        "--data",
        str(data),
        "-k",
        "3",
        "--limit",
        "20",
        "--steps",
        "30",
        "--seed",
        "7",
        "--out",
        str(out),
        "--json",
        check=True,
    )
    metrics = json.loads(proc.stdout)
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert (metrics["n"], metrics["k"], metrics["steps"], metrics["seed"]) == (20, 3, 30, 7)
    assert metrics["model"].startswith(str(run))
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 20 and preds[0]["refs"] == [rows[0]["code"], "echo another correct answer"]
    top1 = sum(bool(p["candidates"]) and p["candidates"][0]["code"] in p["refs"] for p in preds)
    m = metrics["metrics"]
    assert abs(m["exact@1"] - 100 * top1 / 20) < 1e-6
    assert m["exact@1"] >= 80  # the tiny model memorised these pairs
    assert m["exact@1"] <= m["exact@3"] and m["template_match@1"] >= m["exact@1"] - 1e-6
    assert 0 <= m["valid@1"] <= 100


def test_eval_table_and_bad_input(tiny_run, tmp_path):
    run, pairs = tiny_run
    data = write_jsonl(tmp_path / "t.jsonl", pairs[:4])
    out = str(tmp_path / "e")
    proc = cfusion("eval", "--model", str(run), "--data", str(data), "-k", "1", "--out", out, check=True)
    assert "exact@1" in proc.stdout and "template_match@1" in proc.stdout
    mixed = write_jsonl(tmp_path / "m.jsonl", [pairs[0], {"nl": "x", "code": "print(1)", "lang": "python"}])
    proc = cfusion("eval", "--model", str(run), "--data", str(mixed))
    assert proc.returncode == 2 and "mixes languages" in proc.stderr and "Traceback" not in proc.stderr
    proc = cfusion("eval", "--model", str(run), "--data", str(data), "--limit", "0")
    assert proc.returncode == 2 and "--limit" in proc.stderr
