"""The CodeFusion importer, decontamination and JSONL writing, on the real corpora and on hand-made files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfusion.data.codefusion import import_codefusion
from cfusion.data.decontaminate import decontaminate
from cfusion.data.pairs import Pair, read_pairs, write_jsonl
from cfusion.errors import DataError
from cfusion.langs.bash.importers import (
    import_cheatsheets,
)


@pytest.fixture
def data(shared_data) -> Path:
    return shared_data


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
