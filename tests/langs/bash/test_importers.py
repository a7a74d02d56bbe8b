"""The Bash corpora importers (NL2Bash, tldr-pages, cheatsheets) on the real corpora and on hand-made files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfusion.data.pairs import Pair
from cfusion.errors import DataError
from cfusion.langs.bash.importers import (
    common_utility_pairs,
    fill_tldr_command,
    import_cheatsheets,
    import_nl2bash,
    import_tldr,
)


@pytest.fixture
def data(shared_data) -> Path:
    return shared_data


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
