"""Execution match: commands that do the same to the fixture match, whatever their spelling; the rest do not."""

import json

import pytest
from conftest import cfusion, write_jsonl

from cfusion import langs
from cfusion.eval import sandbox
from cfusion.eval.execution import Runner, same, score

pytestmark = pytest.mark.skipif(sandbox.unavailable() is not None, reason=f"no sandbox: {sandbox.unavailable()}")
BASH = langs.get("bash").interpreter


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("find . -name '*.txt'", 'find -name "*.txt"', True),
        ("find . -name '*.txt' | sort", "find . -name '*.txt'", True),  # lines in any order
        ("ls", "ls -a", False),
        ("rm a.txt", "rm -f ./a.txt", True),
        ("rm a.txt", "rm b.txt", False),
        ("chmod 755 run.sh", "chmod +x run.sh", True),
        ("chmod 700 run.sh", "chmod +x run.sh", False),
        ("cat missing.txt", "ls", False),
        ("wc -l < file.txt", "cat file.txt | wc -l", True),
        ("diff a.txt b.txt", "diff a.txt b.txt | cat", False),  # exit 1 against 0
        ("tar -czf d.tar.gz docs", "tar czf d.tar.gz docs/", True),
        ("tar -czf d.tar.gz docs", "tar cf - docs | gzip > d.tar.gz", True),  # archives compare by their members
        ("tar -czf d.tar.gz docs", "tar -czf d.tar.gz src", False),
    ],
)
def test_same(a, b, expected):
    assert same(sandbox.run(a, BASH), sandbox.run(b, BASH)) is expected


def test_runnable_references():
    ok = Runner(BASH).runnable(["ls docs", "date +%N", "cat missing.txt", "true", "comm -12 no1.txt no2.txt | wc -l"])
    # prints the same twice; the clock; fails; does nothing; complains on stderr about files the fixture lacks
    assert ok == {"ls docs": True, "date +%N": False, "cat missing.txt": False, "true": False,
                  "comm -12 no1.txt no2.txt | wc -l": False}  # fmt: skip


def test_score_counts_runnable_requests_only():
    candidates = [
        ["ls -a", "ls"],  # right at 2
        ["head -n 3 data.csv"],  # right at 1
        ["rm b.txt", "rm a.txt"],  # wrong at 1, right at 2
        ["echo never scored"],  # its reference does not run: left out
    ]
    references = [["ls"], ["head -3 data.csv", "sed -n 1,3p data.csv"], ["rm -f a.txt"], ["cat missing.txt"]]
    result = score(candidates, references, Runner(BASH), ks=(1, 2))
    assert result == {"exec@1": pytest.approx(100 / 3), "exec@2": 100.0, "exec_n": 3}


def test_eval_exec_and_data_runnable_end_to_end(tmp_path):
    rows = [
        {"nl": "list the files in the current directory", "code": "ls", "lang": "bash"},
        {"nl": "count the lines in file.txt", "code": "wc -l file.txt", "lang": "bash"},
        {"nl": "print the current time in nanoseconds", "code": "date +%N", "lang": "bash"},
    ]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    kept = tmp_path / "run.jsonl"
    cfusion("data", "runnable", str(data), "--out", str(kept), check=True)
    assert [json.loads(line)["code"] for line in kept.read_text().splitlines()] == ["ls", "wc -l file.txt"]
    out = tmp_path / "eval"
    proc = cfusion("eval", "--exec", "--data", str(data), "--device", "cpu", "--out", str(out), "--json", check=True)
    metrics = json.loads(proc.stdout)
    assert metrics["exec_n"] == 2 and metrics["metrics"]["exec@5"] > 0  # `wc -l file.txt` is among the five
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    again = score([[c["code"] for c in p["candidates"]] for p in preds], [p["refs"] for p in preds], Runner(BASH))
    assert {k: round(v, 2) for k, v in again.items() if k != "exec_n"} == {
        k: v for k, v in metrics["metrics"].items() if k.startswith("exec@")
    }
    assert not (tmp_path / "file.txt").exists()  # candidates ran in the sandbox, not here
    bad = cfusion("eval", "--exec", "--data", str(write_jsonl(tmp_path / "p.jsonl", [
        {"nl": "add one", "code": "x + 1", "lang": "python"}])))  # fmt: skip
    assert bad.returncode == 2 and "--exec runs shell commands" in bad.stderr and "Traceback" not in bad.stderr
