"""NL-code pairs and code snippets: reading and writing them as JSONL and text, with errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cfusion import langs
from cfusion.core.checkpoint import write_text_atomic
from cfusion.errors import DataError

_PAIR_HINT = 'each line must be a JSON object like {"nl": "...", "code": "...", "lang": "..."}'


@dataclass(frozen=True)
class Pair:
    """One natural-language description and the code it describes; `cells`: the data the code runs on, where the
    benchmark gives some (a CF rule's value column, as text, top to bottom, header excluded)."""

    nl: str
    code: str
    lang: str
    id: str | None = None
    refs: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _parse_pair(obj: object, where: str) -> Pair:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {_type_name(obj)}", hint=_PAIR_HINT)
    for key in ("nl", "code", "lang"):
        if key not in obj:
            raise DataError(f'{where}: missing field "{key}"', hint=_PAIR_HINT)
    fields = {}
    for key in ("nl", "code"):
        value = obj[key]
        if not isinstance(value, str):
            raise DataError(f'{where}: "{key}" must be a string, got {_type_name(value)}')
        # The CodeFusion releases end every field with a newline; it is not part of the code.
        fields[key] = value.rstrip("\r\n")
        if not fields[key].strip():
            raise DataError(f'{where}: "{key}" is empty')
    lang = obj["lang"]
    if lang not in langs.names():
        raise DataError(f'{where}: "lang" must be one of {", ".join(langs.names())}, got {json.dumps(lang)}')
    pair_id = obj.get("id")
    # bool is an int subclass, but an id of `true` is surely a mistake.
    if pair_id is not None and (isinstance(pair_id, bool) or not isinstance(pair_id, (int, str))):
        raise DataError(f'{where}: "id" must be a string or integer, got {_type_name(pair_id)}')
    refs = obj.get("refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise DataError(f'{where}: "refs" must be a list of strings')
    cells = obj.get("cells", [])
    if not isinstance(cells, list) or not all(isinstance(c, str) for c in cells):
        raise DataError(f'{where}: "cells" must be a list of strings')
    pair_id = None if pair_id is None else str(pair_id)
    return Pair(fields["nl"], fields["code"], lang, pair_id, tuple(refs), tuple(cells))


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) for every line, decoded one by one so a bad byte names its line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"no such data file: {path}") from None
    except IsADirectoryError:
        raise DataError(f"not a file: {path}") from None
    lines = []
    for lineno, chunk in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append((lineno, chunk.decode("utf-8")))
        except UnicodeDecodeError:
            raise DataError(f"{path}:{lineno}: not valid UTF-8") from None
    return lines


def read_pairs(path: str | Path, lang: str | None = None) -> list[Pair]:
    """Read a JSONL file of pairs, keeping only `lang` when given; DataError names the file and line at fault."""
    if lang is not None and lang not in langs.names():
        raise ValueError(f"lang must be one of {', '.join(langs.names())}, got {lang!r}")
    path = Path(path)
    pairs = []
    for lineno, line in read_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: invalid JSON ({err.msg})", hint=_PAIR_HINT) from None
        pairs.append(_parse_pair(obj, where))
    if not pairs:
        raise DataError(f"{path}: no pairs (the file is empty)")
    if lang is not None:
        pairs = [p for p in pairs if p.lang == lang]
        if not pairs:
            raise DataError(f'{path}: no pairs with "lang": "{lang}"')
    return pairs


def read_snippets(path: str | Path) -> list[str]:
    """Read one code snippet a line, stripped, without blanks or repeats (first occurrence order)."""
    path = Path(path)
    snippets = dict.fromkeys(s for _, line in read_lines(path) if (s := line.strip()))
    if not snippets:
        raise DataError(f"{path}: no snippets (the file is empty)")
    return list(snippets)


def write_jsonl(pairs: Iterable[Pair], path: Path) -> Path:
    """Write pairs as read_pairs reads them, atomically (a kill leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for p in pairs:
        obj: dict[str, object] = {"nl": p.nl, "code": p.code, "lang": p.lang}
        if p.id is not None:
            obj["id"] = p.id
        if p.refs:
            obj["refs"] = list(p.refs)
        if p.cells:
            obj["cells"] = list(p.cells)
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    write_text_atomic(path, "".join(lines))
    return path
