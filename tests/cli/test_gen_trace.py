"""`cfusion gen --trace` on the shipped Bash model: the same answers on stdout, and how each sample formed, step by
step, as a table on stderr or a "trace" field with --json."""

from __future__ import annotations

import json
import re

from conftest import cfusion

REQUEST = "show the last 100 lines of server.log"
ARGS = ("gen", REQUEST, "-k", "3", "--steps", "4", "--recall", "0", "--seed", "1")


def test_gen_json_trace_holds_a_read_per_step_ending_on_the_samples():
    plain = json.loads(cfusion(*ARGS, "--json", check=True).stdout)
    out = json.loads(cfusion(*ARGS, "--json", "--trace", check=True).stdout)
    assert "trace" not in plain
    assert out["candidates"] == plain["candidates"]  # tracing changes no answer
    trace = out["trace"]
    assert [r["step"] for r in trace] == [0, 1, 2, 3]
    ts = [r["t"] for r in trace]
    assert ts == sorted(ts, reverse=True) and ts[-1] == 0
    assert all(set(r) == {"step", "t", "samples"} and len(r["samples"]) == 3 for r in trace)
    # without recall, every answer shown is one of the samples as finally read
    assert out["candidates"] and all(c["code"] in trace[-1]["samples"] for c in out["candidates"])


def test_gen_trace_prints_a_table_on_stderr_and_only_the_answers_on_stdout(monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # one line per row for these short commands
    want = json.loads(cfusion(*ARGS, "--json", "--trace", check=True).stdout)
    proc = cfusion(*ARGS, "--trace", check=True)
    assert proc.stdout.splitlines() == [c["code"] for c in want["candidates"]]
    err = proc.stderr
    assert re.search(r"step\s*│\s*t\s*│\s*sample 1", err), err
    for r in want["trace"]:
        cells = r" │ ".join(re.escape(s or "(empty)") + r"\s*" for s in r["samples"])
        row = rf"^\s*{r['step']} │\s*{r['t']} │ {cells}"
        assert re.search(row, err, re.M), (row, err)
    for i in range(1, len(want["candidates"]) + 1):  # each answer's sample is marked with its rank
        assert f"= #{i}" in err
    assert "the final read" in err and "candidate(s) in" in err
