"""What a utility and its flags do: roff parsing on hand-written pages and on this machine's man pages, the fallback
to the shipped tldr table, flag lookup, and the table's builder, in the library and through `cfusion data`."""

from __future__ import annotations

import gzip
import json
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import cfusion

from cfusion.errors import DataError
from cfusion.langs.bash import manual
from cfusion.langs.bash.manual import Page, build_table, flag_help, man_page, page, read_man_file, shipped_page

DEMO_1 = r""".\" A page in the style of help2man and DocBook, with the escapes real pages use.
.TH DEMO 1 "May 2024" "demo 1.0" "User Commands"
.SH NAME
demo \- frobnicate the \fIwidgets\fR
.SH SYNOPSIS
.B demo
[\fI\,OPTION\/\fR]... [\fI\,FILE\/\fR]...
.SH DESCRIPTION
.PP
Frobnicate each FILE.
.TP
\fB\-a\fR, \fB\-\-all\fR
show \fIall\fR widgets, even
hidden ones.  The second sentence is dropped.
.TP
.B \-\-color\fR[=\fI\,WHEN\/\fR]
colour the output \(em WHEN is \(lqauto\(rq or \(aqnever\(aq
.TP
.BR \-q ", " \-\^\-quiet
don\(aqt print \e escapes (e.g. \%this) \fBat\fP all.
.IP "\-n \fIN\fR" 4
stop after N widgets
.TP
.PD 0
.B \-v
.TP
.PD
.B \-\-verbose
say\ more
.TP
.I FILE
the widget file, not an option
.SH OPTIONS
.PP
\-x, \-\-extract
.RS 4
Extract the widgets\&. Then more\&.
.RE
.PP
\-\-[no\-]sign
.RS 4
Sign them (or not)\&.
.RE
"""

DEMO_OPTIONS = {
    "-a": "show all widgets, even hidden ones.",
    "--all": "show all widgets, even hidden ones.",
    "--color": "colour the output \u2014 WHEN is \"auto\" or 'never'",
    "-q": "don't print \\ escapes (e.g. this) at all.",
    "--quiet": "don't print \\ escapes (e.g. this) at all.",
    "-n": "stop after N widgets",
    "-v": "say more",
    "--verbose": "say more",
    "-x": "Extract the widgets.",
    "--extract": "Extract the widgets.",
    "--sign": "Sign them (or not).",
    "--no-sign": "Sign them (or not).",
}

DEMO_MDOC = r""".Dd May 1, 2024
.Dt DEMO 1
.Os
.Sh NAME
.Nm demo
.Nd frobnicate the widgets
.Sh DESCRIPTION
The options are as follows:
.Bl -tag -width Ds
.It Fl 4
Forces
.Nm
to use IPv4 addresses only.
Later sentences are dropped.
.It Fl L Xo
.Sm off
.Oo Ar bind_address : Oc
.Ar port
.Sm on
.Xc
Forwards
.Ar port ,
see
.Xr ssh_config 5 .
.It Fl -all
Shows them all.
.El
"""


@pytest.fixture(autouse=True)
def fresh_cache():
    page.cache_clear()
    yield
    page.cache_clear()


def machine_page(name: str) -> Page:
    """The machine's man page of `name`, or skip when `man -w` cannot find it here."""
    try:
        found = subprocess.run(["man", "-w", name], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"`man -w {name}` cannot run here: {e}")
    if found.returncode != 0:
        pytest.skip(f"no man page for {name} on this machine (`man -w {name}` failed)")
    got = man_page(name)
    assert got is not None, f"`man -w {name}` finds {found.stdout.strip()}, but it was not parsed"
    return got


def fake_man(folder: Path, answer: str) -> Path:
    """A `man` that answers `man -w NAME` with `answer` and logs NAME to folder/asked, alone on a PATH."""
    folder.mkdir()
    script = folder / "man"
    script.write_text(f"#!/bin/sh\necho \"$2\" >> '{folder / 'asked'}'\necho '{answer}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


# --- roff, hand-written ---


def test_man_page_parsed_from_roff(tmp_path):
    path = tmp_path / "demo.1"
    path.write_text(DEMO_1)
    got = read_man_file(path)
    assert got == Page("demo", "frobnicate the widgets", DEMO_OPTIONS, f"man:{path}")


def test_compressed_pages_and_so_stubs_read_the_same(tmp_path):
    man1 = tmp_path / "man1"
    man1.mkdir()
    (man1 / "demo.1.gz").write_bytes(gzip.compress(DEMO_1.encode()))
    (man1 / "undemo.1").write_text(".so man1/demo.1\n")  # the target is found under its .gz name
    assert read_man_file(man1 / "demo.1.gz").options == DEMO_OPTIONS
    stub = read_man_file(man1 / "undemo.1", "undemo")
    assert stub.name == "undemo" and stub.options == DEMO_OPTIONS and stub.source == f"man:{man1 / 'demo.1.gz'}"
    (tmp_path / "broken.1.gz").write_bytes(b"not gzip")
    assert read_man_file(tmp_path / "broken.1.gz") is None


def test_mdoc_page(tmp_path):
    path = tmp_path / "demo.1"
    path.write_text(DEMO_MDOC)
    got = read_man_file(path)
    assert got.summary == "frobnicate the widgets"
    assert got.options == {
        "-4": "Forces demo to use IPv4 addresses only.",
        "-L": "Forwards port, see ssh_config(5).",
        "--all": "Shows them all.",
    }


def test_long_descriptions_are_capped_at_a_word():
    text = "word " * 100
    got = manual._first_sentence(text)
    assert len(got) <= manual.DESCRIPTION_CHARS and got.endswith("word\u2026")


# --- locating pages with man -w ---


def test_man_page_located_by_man_w(tmp_path, monkeypatch):
    man1 = tmp_path / "share" / "man1"
    man1.mkdir(parents=True)
    (man1 / "demo.1").write_text(DEMO_1)
    monkeypatch.setenv("PATH", str(fake_man(tmp_path / "bin", str(man1 / "demo.1"))))
    got = man_page("demo")
    assert got.options == DEMO_OPTIONS and got.source == f"man:{man1 / 'demo.1'}"
    assert page("demo") == got
    # Names that are options or paths never reach `man`, nor do operands that cannot be subcommands.
    assert man_page("-rf") is None and man_page("../demo") is None
    assert page("demo", "notes.txt") == got and page("demo", "run").name == "demo-run"
    asked = (tmp_path / "bin" / "asked").read_text().split()
    assert set(asked) == {"demo", "demo-run"}, asked


def test_library_sections_are_no_utilities(tmp_path, monkeypatch):
    man3 = tmp_path / "man3"
    man3.mkdir()
    (man3 / "demo.3").write_text(DEMO_1)
    monkeypatch.setenv("PATH", str(fake_man(tmp_path / "bin", str(man3 / "demo.3"))))
    assert man_page("demo") is None


def test_unknown_name_has_no_man_page():
    machine_page("ls")  # skips where man itself does not work
    assert man_page("no-such-utility-cfusion") is None
    assert page("no-such-utility-cfusion") is None


def test_without_man_the_shipped_table_answers(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert man_page("ls") is None
    got = page("ls")
    assert got.source == "tldr" and got.summary == "List directory contents"
    assert got.options["-a"] == got.options["--all"]


# --- this machine's man pages ---


def test_ls_from_the_machine():
    got = page("ls")
    if not got.source.startswith("man:"):
        machine_page("ls")  # skips when there is no ls page; fails when there is one and it was not used
    assert got.source.startswith("man:") and got.name == "ls"
    assert "entries starting with ." in got.options["-a"]
    assert got.options["--all"] == got.options["-a"]
    assert "-l" in got.options and got.summary
    assert page("ls") is got  # cached
    assert flag_help(got, "--color=auto") == got.options["--color"]
    assert flag_help(got, "-la") == f"-l: {got.options['-l']}; -a: {got.options['-a']}"


@pytest.mark.parametrize(
    "name, flags",
    [
        ("rm", ["-f", "--force", "-r", "--recursive"]),
        ("find", ["-name", "-type", "-exec"]),
        ("tar", ["-x", "--extract", "-C", "--directory"]),
        ("chmod", ["-R", "--recursive"]),
    ],
)
def test_other_machine_pages(name, flags):
    got = machine_page(name)
    assert got.summary and got.source.startswith("man:")
    missing = [f for f in flags if not got.options.get(f)]
    assert not missing, f"{name}: {missing} not found among {sorted(got.options)[:40]}"
    assert all(len(d) <= manual.DESCRIPTION_CHARS and "\\f" not in d and "\n" not in d for d in got.options.values())


# --- the shipped table ---


def test_shipped_tar():
    tar = shipped_page("tar")
    assert tar.source == "tldr" and tar.summary == "Archiving utility"
    assert tar.options["-C"] == tar.options["--directory"]
    assert "directory" in tar.options["-C"]


def test_subcommand_pages(tmp_path, monkeypatch):
    push = shipped_page("git-push")
    assert push.summary == "Push commits to a remote repository"
    assert push.options["-u"] == push.options["--set-upstream"]
    got = page("git", "push")
    assert got is not None and got.name == "git-push"
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    page.cache_clear()
    assert page("git", "push") == push
    assert page("git", "no-such-subcommand") == shipped_page("git")


def test_shipped_file_is_small_and_well_formed():
    path = Path(manual.__file__).with_name(manual.TABLE)
    assert path.stat().st_size < 1_000_000
    pages = json.loads(gzip.decompress(path.read_bytes()))["pages"]
    assert len(pages) > 5000
    assert all(isinstance(p["summary"], str) and isinstance(p["options"], dict) for p in pages.values())
    assert all(flag.startswith("-") and text for p in pages.values() for flag, text in p["options"].items())


def test_flag_help_rules():
    p = Page("x", "", {"-l": "long", "-a": "all", "-n": "count", "--color": "colour", "-la": "long, all"}, "t")
    assert flag_help(p, "-la") == "long, all"  # the exact spelling first
    assert flag_help(p, "-al") == "-a: all; -l: long"
    assert flag_help(p, "-lZ") is None  # not every letter known
    assert flag_help(p, "--color=auto") == "colour"
    assert flag_help(p, "--colour") is None
    assert flag_help(p, "-n5") == "count"
    assert flag_help(p, "-ln5") == "-l: long; -n: count"
    assert flag_help(p, "-") is None and flag_help(p, "--") is None and flag_help(p, "file") is None


# --- the builder ---


def tiny_tldr(root: Path) -> Path:
    pages = root / "pages"
    for platform in ("common", "linux", "osx"):
        (pages / platform).mkdir(parents=True)
    (pages / "common" / "demo.md").write_text(
        """# demo

> Frobnicate widgets.
> More information: <https://example.com>.

- List [a]ll widgets:

`demo {{[-a|--all]}}`

- Write the widgets to a file:

`demo --output={{path/to/file}} {{widget}}`

- Two flags say nothing about either one:

`demo -q --fast`

- A cluster with a long spelling is two flags:

`demo {{[-qa|-q --all]}}`

- Only the flags given to demo count:

`demo -v | grep -c {{widget}}`

- Another utility's example:

`other -z`
"""
    )
    (pages / "linux" / "demo.md").write_text("# demo\n\n> The Linux page.\n\n- Linux flag:\n\n`demo -L`\n")
    (pages / "osx" / "demo-run.md").write_text(
        "# demo run\n\n> Run a widget.\n\n- Run it [f]orcefully:\n\n`demo run {{[-f|--force]}} {{widget}}`\n\n"
        "- Not this subcommand:\n\n`demo stop -s`\n"
    )
    return pages


DEMO_TABLE = {
    "pages": {
        "demo": {
            "summary": "Frobnicate widgets",
            "options": {
                "--all": "List all widgets",
                "--output": "Write the widgets to a file",
                "-a": "List all widgets",
                "-v": "Only the flags given to demo count",
            },
        },
        "demo-run": {"summary": "Run a widget", "options": {"--force": "Run it forcefully", "-f": "Run it forcefully"}},
    }
}


def test_build_table_from_a_tiny_tldr(tmp_path):
    assert build_table(tiny_tldr(tmp_path)) == DEMO_TABLE


def test_build_table_adds_what_cheatsheets_know(tmp_path):
    pages = tiny_tldr(tmp_path)
    sheets = tmp_path / "cheatsheets"
    sheets.mkdir()
    (sheets / "demo").write_text(
        "# To list all widgets:\ndemo -a\n\n# To be verbose:\ndemo -w <file>\n\n# To extract them all:\ndemo -xvf x\n"
    )
    (sheets / "other").write_text("---\ntags: [ x ]\n---\n# To zap:\nother --zap\n")
    table = build_table(pages, sheets)
    assert table["pages"]["demo"]["options"] == {**DEMO_TABLE["pages"]["demo"]["options"], "-w": "Be verbose"}
    assert table["pages"]["other"] == {"summary": "", "options": {"--zap": "Zap"}, "source": "cheatsheets"}


def test_build_table_errors(tmp_path):
    with pytest.raises(DataError, match="no such tldr pages folder"):
        build_table(tmp_path / "missing")
    with pytest.raises(DataError, match="none of the tldr platform folders"):
        build_table(tmp_path)
    with pytest.raises(DataError, match="no such cheatsheets folder"):
        build_table(tiny_tldr(tmp_path), tmp_path / "missing")


def test_cli_builds_the_table(tmp_path):
    out = tmp_path / "out" / "table.json.gz"
    proc = cfusion("data", "descriptions", str(tiny_tldr(tmp_path)), "--out", str(out), check=True)
    assert proc.stdout.strip() == str(out)
    assert json.loads(gzip.decompress(out.read_bytes())) == DEMO_TABLE
    assert "2 utilities" in proc.stderr
    assert not [p for p in out.parent.iterdir() if p != out]  # no temp file left beside it


def test_cli_missing_folder_is_one_line(tmp_path):
    proc = cfusion("data", "descriptions", str(tmp_path / "missing"), "--out", str(tmp_path / "t.json.gz"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [f"Error: no such tldr pages folder: {tmp_path / 'missing'}"]
    assert not (tmp_path / "t.json.gz").exists()
