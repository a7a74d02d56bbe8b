"""Preview a CF rule on a CSV sheet (`cfusion gen --lang cf --sheet data.csv`): which cells of one column it
highlights, as a table and as row numbers.

The first row of the sheet is its header; rows are numbered as a spreadsheet numbers them (the header is row 1, the
first data row is row 2). Comma-separated, or tab-separated for `.tsv` and `.tab` files; UTF-8 (a BOM is allowed).
A column is named by its header text (exact, then ignoring case) or by its letter (A, B, ..., AA); the header wins
when both could apply. Without a name, the first column that holds any value under the header is shown. A rule's
`c[k]` reads the sheet's column k, counted from 0 (as in the CF benchmark).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from cfusion.errors import DataError, UsageError
from cfusion.langs.cf.interpret import CFError, highlights

LANG = "cf"
MAX_ROWS = 200  # rows shown in the table; the JSON has every highlighted row
HIGHLIGHT = "#9C0006 on #FFC7CE"  # Excel's default: light red fill with dark red text


@dataclass(frozen=True)
class Sheet:
    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # each as wide as the header

    def column(self, k: int) -> list[str]:
        return [row[k] for row in self.rows]

    def name(self, k: int) -> str:
        """`B (Value)`: the column's letter and header."""
        head = self.header[k].strip()
        return f"{letter(k)} ({head})" if head else letter(k)


@dataclass(frozen=True)
class Preview:
    rule: str
    sheet: Sheet
    column: int
    marked: tuple[bool, ...]  # per data row

    @property
    def rows(self) -> list[int]:
        """The sheet row numbers of the highlighted cells (the header is row 1)."""
        return [i + 2 for i, m in enumerate(self.marked) if m]


def check_lang(lang: str) -> None:
    if lang != LANG:
        raise UsageError(f"--sheet previews CF rules: it needs --lang {LANG}, got --lang {lang}")


def letter(k: int) -> str:
    """The spreadsheet letter of column k, counted from 0: A, ..., Z, AA, ..."""
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def _index(name: str) -> int | None:
    """Column k of a letter name (`A` -> 0, `AA` -> 26), or None when the name is not one."""
    if not re.fullmatch(r"[A-Za-z]{1,3}", name):
        return None
    k = 0
    for ch in name.upper():
        k = 26 * k + ord(ch) - ord("A") + 1
    return k - 1


def read_sheet(path: str | Path) -> Sheet:
    """The sheet at `path`; DataError when it is missing, unreadable, not CSV, empty or has no row under the header."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
            rows = list(csv.reader(f, delimiter=delimiter, strict=True))
    except FileNotFoundError:
        raise DataError(f"no such sheet: {path}") from None
    except IsADirectoryError:
        raise DataError(f"not a file: {path}") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start})", hint="save the sheet as CSV UTF-8") from None
    except csv.Error as err:
        raise DataError(f"{path}: not a CSV file ({err})") from None
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()  # a blank row inside the sheet keeps its number; blank rows at the end are not data
    if not rows:
        raise DataError(f"{path}: the sheet is empty")
    if len(rows) == 1:
        raise DataError(f"{path}: the sheet has a header row and no rows under it")
    width = max(map(len, rows))
    header, *body = (tuple(r) + ("",) * (width - len(r)) for r in rows)
    return Sheet(path, header, tuple(body))


def pick_column(sheet: Sheet, column: str | None, rule: str | None = None) -> int:
    """The column named `column` (header text or letter). Without one: the first column in which `rule` highlights a
    cell, so that a rule that reads numbers lands on the numbers and not on a column of names before them, else the
    first one with a value under the header. UsageError when there is no such column, DataError when no column has
    a value."""
    if column is None:
        k = next((k for k in range(len(sheet.header)) if any(c.strip() for c in sheet.column(k))), None)
        if k is None:
            raise DataError(f"{sheet.path}: no column has a value under the header")
        for j in range(len(sheet.header)) if rule is not None else ():
            try:
                if any(preview(rule, sheet, j).marked):
                    return j
            except CFError:
                break
        return k
    heads = [h.strip() for h in sheet.header]
    want = column.strip()
    for same in (lambda h: h == want, lambda h: h.casefold() == want.casefold()):
        if (k := next((k for k, h in enumerate(heads) if same(h)), None)) is not None:
            return k
    k = _index(want)
    if k is not None and k < len(heads):
        return k
    names = ", ".join(sheet.name(k) for k in range(len(heads)))
    raise UsageError(f"{sheet.path} has no column {column!r}", hint=f"--column takes one of {names}")


def preview(rule: str, sheet: Sheet, column: int) -> Preview:
    """What `rule` highlights in `column` of the sheet (interpret.CFError when it cannot be evaluated)."""
    columns = [sheet.column(k) for k in range(len(sheet.header))]
    return Preview(rule, sheet, column, tuple(highlights(rule, columns[column], columns)))


def to_json(rule: str | None, sheet: Sheet, column: int) -> dict:
    """The preview as gen --json reports it: the sheet row numbers the rule highlights; null with an "error" when
    the rule cannot be evaluated, null without one when there is no rule."""
    out = {"path": str(sheet.path), "column": letter(column), "header": sheet.header[column], "rule": rule}
    out["highlighted_rows"] = None
    if rule is not None:
        try:
            out["highlighted_rows"] = preview(rule, sheet, column).rows
        except CFError as e:
            out["error"] = str(e)
    return out


def table(p: Preview, max_rows: int = MAX_ROWS):
    """A rich table of the column: row number, value, and a mark on each highlighted cell, those rows styled as
    Excel's default highlight; at most `max_rows` rows, then one row that counts the rest."""
    from rich import box
    from rich.table import Table

    caption = f"{sum(p.marked)} of {len(p.marked)} cell(s) highlighted"
    t = Table(box=box.SIMPLE_HEAD, title=p.rule, caption=caption, caption_justify="left", title_justify="left")
    t.add_column("row", justify="right", no_wrap=True)
    t.add_column(p.sheet.name(p.column), overflow="fold")
    t.add_column("highlighted", justify="center", no_wrap=True)
    for i, (value, m) in enumerate(zip(p.sheet.column(p.column)[:max_rows], p.marked)):
        t.add_row(str(i + 2), value, "yes" if m else "", style=HIGHLIGHT if m else None)
    if len(p.marked) > max_rows:
        rest = p.marked[max_rows:]
        t.add_row("...", f"{len(rest)} more row(s)", f"{sum(rest)} more" if any(rest) else "", style="dim")
    return t
