"""JSONL pairs and snippet files: reading, writing, and errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from cfusion.data.pairs import Pair, read_pairs, read_snippets
from cfusion.errors import DataError

BASH_SNIPPETS = SHARED_DATA / "codefusion" / "BashSnippets.txt"
MASK = "<M>"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- read_pairs ---

GOOD = [
    json.dumps({"nl": "list files\n", "code": "ls -l\n", "lang": "bash", "id": 7}),
    "",
    json.dumps({"nl": "add one", "code": "x + 1", "lang": "python", "id": "p1", "refs": ["x+1", "1+x"]}),
    json.dumps({"nl": "big values", "code": "GreaterThan(10)", "lang": "cf"}),
]


def test_read_pairs_happy_path(tmp_path):
    pairs = read_pairs(_write(tmp_path / "train.jsonl", GOOD))
    assert pairs == [
        Pair(nl="list files", code="ls -l", lang="bash", id="7"),
        Pair(nl="add one", code="x + 1", lang="python", id="p1", refs=("x+1", "1+x")),
        Pair(nl="big values", code="GreaterThan(10)", lang="cf", id=None, refs=()),
    ]


def test_read_pairs_filters_by_lang(tmp_path):
    path = _write(tmp_path / "train.jsonl", GOOD)
    assert [p.code for p in read_pairs(str(path), lang="python")] == ["x + 1"]


def test_read_pairs_no_pairs_for_lang(tmp_path):
    path = _write(tmp_path / "bash_only.jsonl", GOOD[:1])
    with pytest.raises(DataError, match="bash_only.jsonl") as err:
        read_pairs(path, lang="cf")
    assert '"cf"' in str(err.value)


def test_read_pairs_missing_file(tmp_path):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(DataError) as err:
        read_pairs(path)
    assert str(err.value) == f"no such data file: {path}"


def test_read_pairs_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty.jsonl"):
        read_pairs(path)


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"nl": "a" "code": "b", "lang": "bash"}', "invalid JSON (Expecting ',' delimiter)"),
        (json.dumps({"nl": "a", "lang": "bash"}), 'missing field "code"'),
        (json.dumps({"code": "a", "lang": "bash"}), 'missing field "nl"'),
        (json.dumps({"nl": "a", "code": "b", "lang": "zsh"}), '"lang" must be one of bash, python, cf, got "zsh"'),
        (json.dumps({"nl": "\n", "code": "ls", "lang": "bash"}), '"nl" is empty'),
        (json.dumps({"nl": "a", "code": "", "lang": "bash"}), '"code" is empty'),
        (json.dumps({"nl": "a", "code": 3, "lang": "bash"}), '"code" must be a string, got int'),
        (json.dumps(["nl", "code"]), "expected a JSON object, got list"),
        (json.dumps({"nl": "a", "code": "b", "lang": "bash", "id": 1.5}), '"id" must be a string or integer'),
        (json.dumps({"nl": "a", "code": "b", "lang": "bash", "refs": "ls"}), '"refs" must be a list of strings'),
    ],
)
def test_read_pairs_errors_name_file_and_line(tmp_path, bad_line, expected):
    # Line 2 is blank, so the bad line is line 4: blank lines must still count.
    path = _write(tmp_path / "broken.jsonl", [GOOD[0], "", GOOD[2], bad_line, GOOD[3]])
    with pytest.raises(DataError) as err:
        read_pairs(path)
    message = str(err.value)
    assert message.startswith(f"{path}:4: "), message
    assert expected in message


# --- read_snippets ---


def test_read_snippets_strips_drops_blanks_and_dedups(tmp_path):
    path = _write(tmp_path / "snips.txt", ["ls -l", "", "  pwd  ", "ls -l", "\t", "echo hi", "pwd"])
    assert read_snippets(path) == ["ls -l", "pwd", "echo hi"]


def test_read_snippets_missing_and_empty(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        read_snippets(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="blank.txt"):
        read_snippets(_write(tmp_path / "blank.txt", ["", "   "]))


@pytest.fixture(scope="module")
def real_bash_snippets() -> list[str]:
    if not BASH_SNIPPETS.is_file():
        pytest.skip(f"{BASH_SNIPPETS} not present")
    return read_snippets(BASH_SNIPPETS)


def test_read_snippets_real_file_head(tmp_path, real_bash_snippets):
    head = BASH_SNIPPETS.read_text(encoding="utf-8").splitlines()[:300]
    snippets = read_snippets(_write(tmp_path / "head.txt", head))
    expected = list(dict.fromkeys(line.strip() for line in head if line.strip()))
    assert snippets == expected
    assert snippets[:2] == ["ps -aef", "sudo apt-get install libproc-processtable-perl"]
    # The full file has repeats (88,528 lines, 61,921 unique), all of which must go.
    assert len(real_bash_snippets) == len(set(real_bash_snippets))
    assert real_bash_snippets[: len(snippets)] == snippets
