"""`cfusion gen --lang cf --sheet data.csv`: the preview module (reading the sheet, picking the column, the table and
the JSON), the command's errors, each raised before the model loads, and the happy path when a CF model is installed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import cfusion
from rich.console import Console

from cfusion.cli.app import run
from cfusion.errors import DataError, UsageError
from cfusion.langs.cf.interpret import CFError
from cfusion.langs.cf.sheet import Sheet, letter, pick_column, preview, read_sheet, table, to_json

SCORES = "Name,Score,Note\nann,120,ok\nbob,80,\ncid,,x\ndan,150,ok\n"


def write(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_read_sheet_pads_rows_and_keeps_row_numbers(tmp_path):
    sheet = read_sheet(write(tmp_path, "\ufeffA,B\n1,2,3\n\n4\n\n\n"))  # a BOM, a ragged row, a blank row inside
    assert sheet.header == ("A", "B", "")
    assert sheet.rows == (("1", "2", "3"), ("", "", ""), ("4", "", ""))  # trailing blank rows dropped
    assert sheet.column(0) == ["1", "", "4"]
    tsv = read_sheet(write(tmp_path, "x\ty\n1,5\t2\n", "data.tsv"))
    assert tsv.header == ("x", "y") and tsv.rows == (("1,5", "2"),)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the sheet is empty"),
        ("\n \n", "the sheet is empty"),
        ("Name,Score\n", "no rows under it"),
        ('a,b\n"unclosed,1\n', "not a CSV file"),
    ],
)
def test_read_sheet_errors(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_sheet(write(tmp_path, text))


def test_read_sheet_errors_on_the_file(tmp_path):
    with pytest.raises(DataError, match="no such sheet"):
        read_sheet(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="not a file"):
        read_sheet(tmp_path)
    with pytest.raises(DataError, match="not UTF-8") as err:
        read_sheet(write(tmp_path, "Name,Prix\nÉté,5\n", encoding="latin-1"))
    assert "CSV UTF-8" in err.value.hint


def test_pick_column_by_header_or_letter(tmp_path):
    sheet = read_sheet(write(tmp_path, "Index,Value,B\n,1,x\n,2,y\n"))
    assert pick_column(sheet, "Value") == 1
    assert pick_column(sheet, " value ") == 1  # ignoring case and spaces
    assert pick_column(sheet, "A") == 0
    assert pick_column(sheet, "c") == 2
    assert pick_column(sheet, "B") == 2  # a header named B wins over the letter B
    assert pick_column(sheet, None) == 1  # the first column with a value: Index is empty
    with pytest.raises(UsageError, match="no column 'Price'") as err:
        pick_column(sheet, "Price")
    assert err.value.hint == "--column takes one of A (Index), B (Value), C (B)"
    with pytest.raises(UsageError, match="no column 'D'"):
        pick_column(sheet, "D")  # a letter past the last column
    blank = read_sheet(write(tmp_path, "a,b\n,\n ,x\n"))
    assert pick_column(blank, None) == 1
    with pytest.raises(DataError, match="no column has a value"):
        pick_column(Sheet(Path("s.csv"), ("a",), (("",),)), None)


def test_letters():
    assert [letter(k) for k in (0, 1, 25, 26, 27, 701, 702)] == ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def test_preview_rows_json_and_table(tmp_path):
    sheet = read_sheet(write(tmp_path, SCORES))
    p = preview("GreaterThan(100)", sheet, 1)
    assert p.marked == (True, False, False, True)
    assert p.rows == [2, 5]  # the header is row 1
    assert to_json("GreaterThan(100)", sheet, 1) == {
        "path": str(sheet.path),
        "column": "B",
        "header": "Score",
        "rule": "GreaterThan(100)",
        "highlighted_rows": [2, 5],
    }
    bad = to_json("LastMonth(c[0])", sheet, 1)
    assert bad["highlighted_rows"] is None and "LastMonth" in bad["error"]
    assert to_json(None, sheet, 1)["highlighted_rows"] is None

    console = Console(record=True, width=80, force_terminal=True, color_system="truecolor", file=io.StringIO())
    console.print(table(p))
    text = console.export_text(clear=False)
    assert "GreaterThan(100)" in text and "B (Score)" in text and "2 of 4 cell(s) highlighted" in text
    lines = {line.split()[0]: line for line in text.splitlines() if "cell(s)" not in line and line.strip()}
    assert "yes" in lines["2"] and "yes" in lines["5"] and "yes" not in lines["3"] and "yes" not in lines["4"]
    styled = console.export_html(inline_styles=True)
    assert styled.count("background-color: #ffc7ce") >= 2  # highlighted rows in Excel's light red


def test_preview_reads_other_columns_by_c_k(tmp_path):
    sheet = read_sheet(write(tmp_path, SCORES))
    assert preview("TextEquals(c[2], ok)", sheet, 0).rows == [2, 5]
    with pytest.raises(CFError, match="Foo"):
        preview("Foo(1)", sheet, 0)


def test_table_shows_at_most_max_rows(tmp_path):
    sheet = read_sheet(write(tmp_path, "v\n" + "".join(f"{i}\n" for i in range(30))))
    console = Console(record=True, width=80, file=io.StringIO())
    console.print(table(preview("GreaterThan(20)", sheet, 0), max_rows=10))
    text = console.export_text()
    assert "9 of 30 cell(s) highlighted" in " ".join(text.split())
    assert " 11 " in text and " 12 " not in text
    assert "20 more row(s)" in text and "9 more" in text


# ---- the command: every error comes before the model loads ----


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: the errors below must come first."""

    def load(*args, **kwargs):
        raise AssertionError("the model was loaded before the sheet was checked")

    monkeypatch.setattr("cfusion.cli.gen.generator", load)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--sheet", "{tmp}/missing.csv"], 1, "no such sheet: {tmp}/missing.csv"),
        (["--sheet", "{tmp}"], 1, "not a file"),
        (["--sheet", "{tmp}/empty.csv"], 1, "the sheet is empty"),
        (["--sheet", "{tmp}/header.csv"], 1, "no rows under it"),
        (["--sheet", "{tmp}/data.csv", "--column", "Price"], 2, "has no column 'Price'"),
        (["--sheet", "{tmp}/data.csv", "--column", "Z"], 2, "has no column 'Z'"),
        (["--sheet", "{tmp}/data.csv", "--lang", "bash"], 2, "needs --lang cf, got --lang bash"),
        (["--column", "B"], 2, "--column needs --sheet"),
        (["--sheet", "{tmp}/data.csv", "--shell"], 2, "--sheet and --shell cannot be used together"),
    ],
)
def test_gen_sheet_errors_come_before_the_model(tmp_path, capsys, no_model, args, code, message):
    write(tmp_path, SCORES)
    write(tmp_path, "", "empty.csv")
    write(tmp_path, "Name,Score\n", "header.csv")
    argv = ["gen", "highlight scores above 100", "--lang", "cf", *(a.format(tmp=tmp_path) for a in args)]
    assert run(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message.format(tmp=tmp_path) in err[0], err


def test_gen_sheet_error_from_the_command_line_fails_fast(tmp_path):
    """As a user types it, with a model path that does not exist either: the sheet is what is reported."""
    proc = cfusion(
        "gen", "highlight cells above 100", "--lang", "cf", "--sheet", str(tmp_path / "nope.csv"),
        "--model", str(tmp_path / "no-model"), "--no-server",
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: no such sheet: {tmp_path / 'nope.csv'}"


def test_gen_sheet_previews_the_top_rule(tmp_path):
    data = write(tmp_path, SCORES)
    args = ("gen", "highlight cells greater than 100", "--lang", "cf", "--sheet", str(data), "--column", "Score")
    args += ("-k", "3", "--no-server")
    out = json.loads(cfusion(*args, "--json", check=True).stdout)
    assert out["candidates"][0]["code"] == "GreaterThan(100)"
    assert out["sheet"] == {
        "path": str(data),
        "column": "B",
        "header": "Score",
        "rule": "GreaterThan(100)",
        "highlighted_rows": [2, 5],  # ann 120 and dan 150; bob 80 and the blank cell are not
    }
    proc = cfusion(*args, check=True)
    assert proc.stdout.splitlines()[0] == "GreaterThan(100)"  # stdout keeps one rule a line
    assert f"top rule on {data}, column B (Score): GreaterThan(100)" in proc.stderr
    assert "2 of 4 cell(s) highlighted" in proc.stderr


def test_gen_sheet_without_column_previews_where_the_rule_highlights(tmp_path):
    data = write(tmp_path, SCORES)  # Name comes first, but a rule on numbers highlights nothing there
    args = ("gen", "highlight cells greater than 100", "--lang", "cf", "--sheet", str(data), "--no-server", "--json")
    sheet = json.loads(cfusion(*args, check=True).stdout)["sheet"]
    assert (sheet["column"], sheet["highlighted_rows"]) == ("B", [2, 5])
