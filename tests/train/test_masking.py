"""Code-specific pre-training: each language's maskable spans, and masking them."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest
from conftest import SHARED_DATA

from cfusion.data.pairs import read_snippets
from cfusion.train.masking import mask_code, maskable_spans

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


@pytest.fixture(scope="module")
def real_bash_snippets() -> list[str]:
    if not BASH_SNIPPETS.is_file():
        pytest.skip(f"{BASH_SNIPPETS} not present")
    return read_snippets(BASH_SNIPPETS)


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
