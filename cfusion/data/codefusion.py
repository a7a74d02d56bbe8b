"""The CodeFusion benchmarks (Bash, Python, CF rules) as `Pair`s; null Python requests take CoNaLa's intent."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

from cfusion import langs
from cfusion.data.pairs import Pair
from cfusion.errors import DataError


def _load_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"no such data file: {path}") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 (byte {err.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None


def _conala_intents(conala_dir: Path, split: str) -> tuple[Path, list[dict]]:
    path = Path(conala_dir) / f"conala-{split}.json"
    items = _load_json(path)
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DataError(f"{path}: expected a JSON list of objects with intent, rewritten_intent, snippet, question_id")
    return path, items


def _conala_fallback(item_id: object, code: str, pos: int, conala: list[dict]) -> str | None:
    """The CoNaLa request of the item at `pos` (same question_id and snippet), searched by key if out of step."""
    candidates = [conala[pos]] if pos < len(conala) else []
    candidates += [c for c in conala if c.get("question_id") == item_id]
    for cand in candidates:
        if cand.get("question_id") == item_id and str(cand.get("snippet", "")).strip() == code:
            # CodeFusion's utterance is CoNaLa's rewritten_intent; where that is missing the raw title is all there is.
            for key in ("rewritten_intent", "intent"):
                value = cand.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return None


def import_codefusion(path: Path, split: str, conala_dir: Path | None = None) -> list[Pair]:
    """One split of a CodeFusion benchmark file (Bash/Python/CFRule); null Python requests come from CoNaLa."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be train or test, got {split!r}")
    path = Path(path)
    packs = [langs.get(name) for name in langs.names()]
    lang = next((p.name for p in packs if p.codefusion and path.name.startswith(p.codefusion)), None)
    if lang is None:
        expected = ", ".join(f"{p.codefusion}Benchmarks.json" for p in packs if p.codefusion)
        raise DataError(f"{path}: cannot tell the language from the file name", hint=f"expected {expected}")
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get(split), list):
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise DataError(f'{path}: expected an object with a "{split}" list, found {found}')
    items = data[split]
    conala = _conala_intents(conala_dir, split) if conala_dir is not None else None
    pack = langs.get(lang)
    rows: list[tuple[int, object, str, str, tuple[str, ...]]] = []
    for i, item in enumerate(items):
        where = f"{path}: {split}[{i}]"
        if not isinstance(item, dict) or not {"ID", "NL Utterance", "Code"} <= item.keys():
            raise DataError(f'{where}: expected an object with "ID", "NL Utterance" and "Code"')
        nl, code = item["NL Utterance"], item["Code"]
        if not isinstance(code, str) or not (nl is None or isinstance(nl, str)):
            raise DataError(f'{where}: "NL Utterance" and "Code" must be strings')
        # Bash fields end with a newline and some CF requests with spaces; neither belongs to the text.
        code = code.strip()
        if nl is None and conala is not None:
            nl = _conala_fallback(item["ID"], code, i, conala[1])
            if nl is None:
                raise DataError(f"{where}: ID {item['ID']} has no CoNaLa entry with the same snippet in {conala[0]}")
        if nl is None:
            nulls = sum(x.get("NL Utterance") is None for x in items if isinstance(x, dict))
            raise DataError(
                f'{where}: "NL Utterance" is null (ID {item["ID"]}; {nulls} such items in this split)',
                hint="pass the CoNaLa folder (conala_dir, or --conala on the command line)",
            )
        nl = nl.strip()
        if not nl or not code:
            # read_pairs rejects empty fields, so keeping one would only break the JSONL round trip later.
            warnings.warn(
                f"{where}: skipping ID {item['ID']}: empty {'Code' if not code else 'NL Utterance'}", stacklevel=2
            )
            continue
        rows.append((i, item["ID"], nl, code, _cells(pack, code, item.get("Data"), where)))
    counts = Counter(str(r[1]) for r in rows)
    # CoNaLa asks several questions per Stack Overflow post (Python IDs repeat): the position in the split keeps
    # those ids unique, and every other id stays the benchmark's own.
    return [
        Pair(nl, code, lang, f"{item_id}-{i}" if counts[str(item_id)] > 1 else str(item_id), cells=cells)
        for i, item_id, nl, code, cells in rows
    ]


def _cells(pack, code: str, table: object, where: str) -> tuple[str, ...]:
    """The cells an item's code runs on, from its `Data` table (CF: a header row, then rows), as its language pack
    picks them (`table_cells`: the rule's value column); () for items without a table or packs without the hook."""
    if table is None or not hasattr(pack, "table_cells"):
        return ()
    if not isinstance(table, list) or not all(isinstance(row, list) for row in table):
        raise DataError(f'{where}: "Data" must be a list of rows (lists), the first one a header')
    return pack.table_cells(code, table)
