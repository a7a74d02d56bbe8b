"""Tests for cfusion.importers on the real corpora under shared/data and on small hand-made files."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from cfusion.data import Pair, read_pairs
from cfusion.errors import DataError
from cfusion.importers import (
    common_utility_pairs,
    decontaminate,
    extract_python_snippets,
    fill_tldr_command,
    import_cheatsheets,
    import_codefusion,
    import_nl2bash,
    import_tldr,
    write_jsonl,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="module")
def bash_test(data) -> list[Pair]:
    return import_codefusion(data / "codefusion" / "BashBenchmarks.json", "test")


@pytest.fixture(scope="module")
def nl2bash(data) -> list[Pair]:
    return import_nl2bash(data / "nl2bash" / "all.nl", data / "nl2bash" / "all.cm")


@pytest.fixture(scope="module")
def tldr(data) -> list[Pair]:
    return import_tldr(data / "tldr" / "pages")


# --- CodeFusion benchmarks ---


def test_codefusion_bash_counts_and_stripped_fields(data, bash_test):
    train = import_codefusion(data / "codefusion" / "BashBenchmarks.json", "train")
    assert (len(train), len(bash_test)) == (10_085, 2_522)
    for p in train + bash_test:
        assert p.lang == "bash"
        assert p.nl == p.nl.strip() and p.code == p.code.strip() and p.nl and p.code
    assert train[0].id == "0" and bash_test[0].id == "10085"
    assert len({p.id for p in train + bash_test}) == 12_607


def test_codefusion_python_nulls_come_from_conala(data):
    path = data / "codefusion" / "PythonBenchmarks.json"
    train = import_codefusion(path, "train", conala_dir=data / "conala")
    test = import_codefusion(path, "test", conala_dir=data / "conala")
    assert (len(train), len(test)) == (2_379, 500)
    assert all(p.nl and p.nl.strip() == p.nl and p.lang == "python" for p in train + test)
    # Python IDs repeat (several questions per post); ids stay unique within a split.
    assert len({p.id for p in train}) == 2_379 and len({p.id for p in test}) == 500
    conala = json.loads((data / "conala" / "conala-train.json").read_text())
    raw = json.loads(path.read_text())["train"]
    null_at = next(i for i, x in enumerate(raw) if x["NL Utterance"] is None)
    assert train[null_at].nl == conala[null_at]["intent"].strip()
    assert train[null_at].code == raw[null_at]["Code"]


def test_codefusion_python_null_without_conala_is_an_error(data):
    with pytest.raises(DataError, match="null") as err:
        import_codefusion(data / "codefusion" / "PythonBenchmarks.json", "test")
    assert "PythonBenchmarks.json" in str(err.value) and "conala_dir" in err.value.hint


def test_codefusion_cf_counts(data):
    path = data / "codefusion" / "CFRuleBenchmarks.json"
    train = import_codefusion(path, "train")
    # The released test split has 178 items, one (ID 740) with an empty Code that read_pairs could never load.
    with pytest.warns(UserWarning, match="ID 740: empty Code"):
        test = import_codefusion(path, "test")
    assert (len(train), len(test)) == (712, 177)
    assert all(p.lang == "cf" and p.code for p in train + test)


def test_codefusion_malformed_files(tmp_path):
    bad = tmp_path / "BashBenchmarks.json"
    bad.write_text('{"train": [\n{"ID": 0,\n')
    with pytest.raises(DataError, match=rf"{bad}:\d+: invalid JSON"):
        import_codefusion(bad, "train")
    bad.write_text(json.dumps({"train": []}))
    with pytest.raises(DataError, match=r'"test" list'):
        import_codefusion(bad, "test")
    bad.write_text(json.dumps({"test": [{"ID": 1, "Code": "ls"}]}))
    with pytest.raises(DataError, match=r"test\[0\]"):
        import_codefusion(bad, "test")
    with pytest.raises(DataError, match="language"):
        import_codefusion(tmp_path / "Other.json", "test")
    with pytest.raises(DataError, match="no such data file"):
        import_codefusion(tmp_path / "PythonBenchmarks.json", "test")


# --- NL2Bash ---


def test_nl2bash_matches_codefusion_bash(nl2bash, bash_test):
    assert len(nl2bash) == 12_607
    # CodeFusion's Bash split is NL2Bash in file order, and the ids say so.
    assert nl2bash[10_085] == bash_test[0]


def test_nl2bash_line_count_mismatch_names_both_files(tmp_path):
    nl, cm = tmp_path / "all.nl", tmp_path / "all.cm"
    nl.write_text("list files\nshow disk usage\n")
    cm.write_text("ls\n")
    with pytest.raises(DataError) as err:
        import_nl2bash(nl, cm)
    assert str(nl) in str(err.value) and str(cm) in str(err.value)


# --- tldr ---

TLDR_PAGE = """# tar

> Archiving utility.

- [c]reate a g[z]ipped archive from a directory:

`tar czf {{path/to/target.tar.gz}} {{[-C|--directory]}} {{path/to/directory}} .`

- Copy files to a remote host as a user:

`scp {{path/to/file1 path/to/file2 ...}} {{username}}@{{host}}:{{path/to/directory}} -P {{port}} -l {{100}}`

- Show the [st]atus, [Interactive] mode:

`docker inspect {{[-f|--format]}} '\\{\\{.ID\\}\\}' {{container_name}}`

- Unfillable:

`echo {{a {{b}}`
"""


def test_tldr_filling_on_a_hand_made_page(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "tar.md").write_text(TLDR_PAGE)
    pairs = import_tldr(tmp_path, platforms=("common",))
    assert [(p.nl, p.code) for p in pairs] == [
        ("Create a gzipped archive from a directory", "tar czf target.tar.gz -C dir ."),
        ("Copy files to a remote host as a user", "scp file1.txt file2.txt alice@example.com:dir -P 8080 -l 100"),
        ("Show the status, [Interactive] mode", "docker inspect -f '{{.ID}}' container_name"),
    ]
    assert [p.id for p in pairs] == ["tldr/common/tar:0", "tldr/common/tar:1", "tldr/common/tar:2"]
    long = import_tldr(tmp_path, platforms=("common",), long_options=True)
    assert long[0].code == "tar czf target.tar.gz --directory dir ."
    with pytest.raises(DataError, match="platform folder"):
        import_tldr(tmp_path, platforms=("linux",))


def test_fill_tldr_command_cases():
    assert fill_tldr_command("tar xf {{path/to/source.tar[.gz|.bz2|.xz]}}") == "tar xf source.tar.gz"
    assert fill_tldr_command("git {{[co|checkout]}} {{branch_name}}", long_options=True) == "git checkout main"
    assert fill_tldr_command("mount {{/dev/sdXY}} {{/mnt}}") == "mount /dev/sda1 /mnt"
    assert fill_tldr_command("!{{number}}") == "!10"  # a table value for the whole word, not for its first letter
    assert fill_tldr_command("ssh {{hostname|ip}} {{path/to/output.pnm}}") == "ssh example.com output.pnm"
    # A backslash before a placeholder is literal: `DOMAIN\user`.
    assert fill_tldr_command("rpcclient -U {{domain}}\\{{username}}") == "rpcclient -U example.com\\alice"
    assert fill_tldr_command("echo {{a {{b}}") is None


def test_tldr_real_pages(data, tldr):
    everything = import_tldr(data / "tldr" / "pages", platforms=None)
    assert len(tldr) == 29_247 and len(everything) == 30_212
    assert all("{{" not in p.nl and not p.nl.endswith(":") for p in tldr)
    tar = {p.nl: p.code for p in tldr if p.id.startswith("tldr/common/tar:")}
    assert tar["Create a gzipped archive and write it to a file"] == "tar czf target.tar.gz file1.txt file2.txt"


# --- cheatsheets ---

CHEATSHEET = """---
syntax: bash
tags: [ compression ]
---
# To extract an uncompressed archive:
tar -xvf /path/to/foo.tar

# To create a .tgz archive:
tar -czvf <archive.tgz> <dir>      # gzip it
# or:
tar -czf <archive.tgz> <dir>

# Grep for <pattern> in <file>, keeping a # inside quotes:
grep '#'<pattern> <file>

tar -tvf orphan.tar

# To loop over files:
for f in *; do
  echo "$f"
done

# To detach:
Ctrl-b d
"""


def test_cheatsheet_parsing(tmp_path):
    (tmp_path / "tar").write_text(CHEATSHEET)
    pairs = import_cheatsheets(tmp_path)
    assert [(p.nl, p.code) for p in pairs] == [
        ("Extract an uncompressed archive", "tar -xvf /path/to/foo.tar"),
        ("Create a .tgz archive", "tar -czvf archive.tgz dir"),
        ("Create a .tgz archive", "tar -czf archive.tgz dir"),
        ("Grep for error in file.txt, keeping a # inside quotes", "grep '#'error file.txt"),
    ]
    assert pairs[0].id == "cheat/tar:6"


def test_cheatsheets_real(data):
    pairs = import_cheatsheets(data / "cheatsheets")
    assert 1_800 <= len(pairs) <= 2_300  # the README says about 2,000; 2,014 when written
    assert all(p.nl and p.code and "\n" not in p.code for p in pairs)


# --- decontamination ---


def test_decontaminate_toy():
    test = [Pair("List all files.", "ls  -a", "bash"), Pair("Show disk usage", "df -h", "bash")]
    train = [
        Pair("list   ALL files", "ls -la", "bash"),  # nl hit only (case, spaces, final period)
        Pair("Print every file", "ls -a", "bash"),  # code hit only (whitespace)
        Pair("show disk usage!", "df -h", "bash"),  # both
        Pair("Count lines", "wc -l", "bash"),  # kept
        Pair("Show disk usage of home", "du -sh ~", "bash"),  # kept: a longer description is no match
    ]
    kept, report = decontaminate(train, test)
    assert [p.code for p in kept] == ["wc -l", "du -sh ~"]
    assert report == {"kept": 2, "dropped_code": 2, "dropped_nl": 2, "dropped": 3}


def test_decontaminate_real_against_bash_test(data, bash_test, nl2bash, tldr):
    cheats = import_cheatsheets(data / "cheatsheets")
    _, tldr_report = decontaminate(tldr, bash_test)
    assert tldr_report["dropped"] > 0
    kept, report = decontaminate(tldr + cheats + nl2bash, bash_test)
    print("tldr vs CodeFusion Bash test:", tldr_report, "| tldr+cheatsheets+nl2bash:", report)
    # NL2Bash holds the test split itself: every one of its 2,522 pairs must go.
    assert report["dropped"] >= 2_522 and report["kept"] == len(kept)
    assert not {p.id for p in kept if not p.id.startswith(("tldr/", "cheat/"))} & {p.id for p in bash_test}


# --- Python snippets ---


def test_extract_python_snippets(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        '"""Module docstring."""\n'
        "import os\n"
        "x = 1  # a comment\n"
        "def f(y):\n"
        '    """Docstring."""\n'
        "    total = sum(\n        [y, 1]\n    )\n"
        "    print(y); y += 2\n"
        "    return y * 2\n"
        f"z = '{'a' * 300}'\n"
    )
    (tmp_path / "b.py").write_text("import os\nx = 1\nprint('héllo')\n")
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_c.py").write_text("assert_me = 1\n")
    snippets = extract_python_snippets(tmp_path)
    assert snippets == ["import os", "x = 1", "print('héllo')", "print(y)", "y += 2", "return y * 2"]
    assert extract_python_snippets(tmp_path, exclude_dirs=())[-1] == "assert_me = 1"
    assert extract_python_snippets(tmp_path, max_len=6) == ["x = 1", "y += 2"]


def test_extract_python_snippets_stdlib_package():
    snippets = extract_python_snippets(Path(os.__file__).parent / "json")
    assert len(snippets) > 100 and len(set(snippets)) == len(snippets)
    for s in snippets:
        assert "\n" not in s and s == s.strip()
        ast.parse(s)


# --- JSONL ---


def test_write_jsonl_round_trip(tmp_path):
    pairs = [Pair("list files", "ls", "bash", "7", ("ls -l",)), Pair("café", "print('é')", "python")]
    path = tmp_path / "out" / "pairs.jsonl"
    path.parent.mkdir()
    path.write_text("old")
    assert write_jsonl(pairs, path) == path
    assert read_pairs(path) == pairs
    assert json.loads(path.read_text().splitlines()[1]) == {"nl": "café", "code": "print('é')", "lang": "python"}
    assert [p.name for p in path.parent.iterdir()] == ["pairs.jsonl"]


def test_common_utility_pairs_keep_what_a_bash_corpus_or_the_known_commands_use():
    pairs = [
        Pair("show disk usage", "gdu /", "bash"),
        Pair("disk usage of a folder", "du -sh dir", "bash"),
        Pair("list files", "/bin/ls -l", "bash"),
        Pair("print the date", "sudo date", "bash"),
        Pair("is it a file", "[ -f a.txt ]", "bash"),
    ]
    corpus = ["du -sh .", "du -a | sort", "sudo du x", "  ", "ls | du", "du -h", "du -h "]  # the last two: one
    kept = common_utility_pairs(pairs, corpus, known=["cat a | date"], min_count=5)
    assert [p.code for p in kept] == ["du -sh dir", "sudo date", "[ -f a.txt ]"]  # du in 5; date in a known one
    kept = common_utility_pairs(pairs, corpus, [], min_count=1)
    assert [p.code for p in kept] == ["du -sh dir", "/bin/ls -l", "[ -f a.txt ]"]  # sudo is a wrapper: date runs
