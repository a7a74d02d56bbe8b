"""Tests for cfusion.data: JSONL pairs, snippet files, CPD maskable spans and masking."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest

from cfusion.data import Pair, mask_code, maskable_spans, read_pairs, read_snippets
from cfusion.errors import DataError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BASH_SNIPPETS = SHARED_DATA / "codefusion" / "BashSnippets.txt"
MASK = "<M>"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _words(code: str, lang: str) -> list[str]:
    return [code[s:e] for s, e in maskable_spans(code, lang)]


def _assert_only_spans_changed(code: str, masked: str, spans: list[tuple[int, int]]) -> None:
    # Each span is either kept or replaced by MASK; every character between spans must survive verbatim.
    parts, pos = [], 0
    for s, e in spans:
        parts += [re.escape(code[pos:s]), f"(?:{re.escape(code[s:e])}|{re.escape(MASK)})"]
        pos = e
    parts.append(re.escape(code[pos:]))
    assert re.fullmatch("".join(parts), masked), (code, masked)


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


# --- maskable_spans ---


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('find . -name "*.txt" | xargs grep -l foo', ["find", "xargs", "grep"]),
        ('for f in *.log; do gzip "$f"; done', ["for", "f", "in", "do", "gzip", "f", "done"]),
        ("find /tmp -type f -exec rm {} \\;", ["find", "rm"]),
        ("if [ -z $X ]; then echo ${HOME}; fi", ["if", "X", "then", "echo", "HOME", "fi"]),
        ("while true; do sleep 1; done", ["while", "true", "do", "sleep", "done"]),
        ("sudo -u root apt-get install vim", ["sudo", "apt-get"]),
        ("ls | xargs -0 -n 1 rm -f", ["ls", "xargs", "rm"]),
        ("env LC_ALL=C sort -u names.txt", ["env", "sort"]),
        ("sudo nohup ./run.sh &", ["sudo", "nohup", "./run.sh"]),
        ('echo "$1" $(whoami)', ["echo", "whoami"]),
        ("export PATH=$PATH:/opt/bin", ["export", "PATH", "PATH"]),
        ("-bash: foo: command not found", []),
    ],
)
def test_bash_spans(code, expected):
    assert _words(code, "bash") == expected


def test_bash_spans_are_char_offsets_with_non_ascii():
    code = 'echo "héllo" | wc -c'
    assert maskable_spans(code, "bash") == [(0, 4), (15, 17)]
    assert _words("echo ü日本 && ls $HOME", "bash") == ["echo", "ls", "HOME"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x = len(items)", ["x", "len", "items"]),
        ("import os", ["import", "os"]),
        ('print("hello world")', ["print"]),
        ("for i in range(3):\n    total += i  # add it\n", ["for", "i", "in", "range", "total", "i"]),
        ("naïve = 1", ["naïve"]),
        # Incomplete code falls back to the regex, which must still skip strings and comments.
        ('print("hello world', ["print"]),
        ('foo(bar, "x y", 1e5  # note', ["foo", "bar"]),
    ],
)
def test_python_spans(code, expected):
    assert _words(code, "python") == expected


def test_python_spans_multiline_offsets():
    code = "def f(a):\n    return a\n"
    spans = maskable_spans(code, "python")
    assert [code[s:e] for s, e in spans] == ["def", "f", "a", "return", "a"]
    assert spans[3] == (code.index("return"), code.index("return") + len("return"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AND(ISNUMBER(A1), A1 > 5)", ["AND", "ISNUMBER"]),
        ("cellValue > 10", ["cellValue"]),
        ('containsText("abc def")', ["containsText"]),
        ("GreaterThan($B$2)", ["GreaterThan"]),
        ("AboveAverage(c[1])", ["AboveAverage"]),
        ("SUM(A1:B10) > 100", ["SUM"]),
        # The CF corpora leave text operands unquoted: those words are data, not code.
        ("OR(TextEquals(In Progress), NOT(TextContains(Done)))", ["OR", "TextEquals", "NOT", "TextContains"]),
    ],
)
def test_cf_spans(code, expected):
    assert _words(code, "cf") == expected


def test_unknown_lang():
    with pytest.raises(ValueError, match="zsh"):
        maskable_spans("ls", "zsh")


# --- mask_code ---


def test_mask_all_with_rate_one():
    code = 'find . -name "*.txt" | xargs grep -l foo'
    assert mask_code(code, "bash", 1.0, random.Random(0), MASK) == f'{MASK} . -name "*.txt" | {MASK} {MASK} -l foo'


def test_rate_zero_masks_exactly_one():
    code = "for f in *.log; do gzip $f; done"
    spans = maskable_spans(code, "bash")
    seen = set()
    for seed in range(30):
        masked = mask_code(code, "bash", 0.0, random.Random(seed), MASK)
        assert masked.count(MASK) == 1
        _assert_only_spans_changed(code, masked, spans)
        seen.add(masked)
    assert len(seen) > 1  # the one span is drawn, not always the first


def test_mask_is_deterministic_per_seed():
    code = "x = [len(item) for item in items if item]"
    first = [mask_code(code, "python", 0.5, random.Random(seed), MASK) for seed in range(10)]
    again = [mask_code(code, "python", 0.5, random.Random(seed), MASK) for seed in range(10)]
    assert first == again
    assert len(set(first)) > 1


def test_mask_without_spans_returns_code():
    assert mask_code('"just a string"', "python", 1.0, random.Random(0), MASK) == '"just a string"'
    assert mask_code("TextEquals", "cf", 0.5, random.Random(0), MASK) == MASK


def test_mask_rejects_bad_rate():
    with pytest.raises(ValueError, match="rate"):
        mask_code("ls", "bash", 1.5, random.Random(0), MASK)


def test_mask_real_bash_snippets_never_touch_flags(real_bash_snippets):
    step = max(1, len(real_bash_snippets) // 200)
    sample = real_bash_snippets[::step][:200]
    rng = random.Random(1234)
    masked_any = 0
    for code in sample:
        spans = maskable_spans(code, "bash")
        assert spans == sorted(spans) and all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
        assert not any(code[s:e].startswith("-") for s, e in spans), code
        masked = mask_code(code, "bash", 0.5, rng, MASK)
        _assert_only_spans_changed(code, masked, spans)
        flags = [t for t in code.split() if re.fullmatch(r"--?[A-Za-z][\w-]*", t)]
        assert flags == [t for t in masked.split() if re.fullmatch(r"--?[A-Za-z][\w-]*", t)], code
        masked_any += masked != code
    assert masked_any > 150
