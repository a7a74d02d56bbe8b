"""Importers that turn the raw corpora under shared/data (CodeFusion, NL2Bash, tldr, cheatsheets) into `Pair`s."""

from __future__ import annotations

import ast
import json
import re
import tokenize
import warnings
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from cfusion.checkpoint import write_text_atomic
from cfusion.data import Pair, _read_lines
from cfusion.errors import DataError

_CODEFUSION_LANGS = {"Bash": "bash", "Python": "python", "CFRule": "cf"}


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
    lang = next((v for k, v in _CODEFUSION_LANGS.items() if path.name.startswith(k)), None)
    if lang is None:
        raise DataError(
            f"{path}: cannot tell the language from the file name",
            hint="expected BashBenchmarks.json, PythonBenchmarks.json or CFRuleBenchmarks.json",
        )
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get(split), list):
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise DataError(f'{path}: expected an object with a "{split}" list, found {found}')
    items = data[split]
    conala = _conala_intents(conala_dir, split) if conala_dir is not None and lang == "python" else None
    rows: list[tuple[int, object, str, str]] = []
    for i, item in enumerate(items):
        where = f"{path}: {split}[{i}]"
        if not isinstance(item, dict) or not {"ID", "NL Utterance", "Code"} <= item.keys():
            raise DataError(f'{where}: expected an object with "ID", "NL Utterance" and "Code"')
        nl, code = item["NL Utterance"], item["Code"]
        if not isinstance(code, str) or not (nl is None or isinstance(nl, str)):
            raise DataError(f'{where}: "NL Utterance" and "Code" must be strings')
        # Bash fields end with a newline and some CF requests with spaces; neither belongs to the text.
        code = code.strip()
        if nl is None and lang == "python" and conala is not None:
            nl = _conala_fallback(item["ID"], code, i, conala[1])
            if nl is None:
                raise DataError(f"{where}: ID {item['ID']} has no CoNaLa entry with the same snippet in {conala[0]}")
        if nl is None:
            nulls = sum(x.get("NL Utterance") is None for x in items if isinstance(x, dict))
            raise DataError(
                f'{where}: "NL Utterance" is null (ID {item["ID"]}; {nulls} such items in this split)',
                hint="pass the CoNaLa folder (conala_dir, or --conala on the command line)"
                if lang == "python"
                else None,
            )
        nl = nl.strip()
        if not nl or not code:
            # read_pairs rejects empty fields, so keeping one would only break the JSONL round trip later.
            warnings.warn(
                f"{where}: skipping ID {item['ID']}: empty {'Code' if not code else 'NL Utterance'}", stacklevel=2
            )
            continue
        rows.append((i, item["ID"], nl, code))
    counts = Counter(str(r[1]) for r in rows)
    # CoNaLa asks several questions per Stack Overflow post (Python IDs repeat): the position in the split keeps
    # those ids unique, and every other id stays the benchmark's own.
    return [
        Pair(nl, code, lang, f"{item_id}-{i}" if counts[str(item_id)] > 1 else str(item_id))
        for i, item_id, nl, code in rows
    ]


def _text_lines(path: Path) -> list[str]:
    lines = [text for _, text in _read_lines(path)]
    if lines and lines[-1] == "":  # the split after the final newline
        lines.pop()
    return lines


def import_nl2bash(nl_path: Path, cm_path: Path) -> list[Pair]:
    """NL2Bash `all.nl`/`all.cm` aligned by line; id is the 0-based line, which equals the CodeFusion Bash ID."""
    nl_path, cm_path = Path(nl_path), Path(cm_path)
    nls, cms = _text_lines(nl_path), _text_lines(cm_path)
    if len(nls) != len(cms):
        raise DataError(f"{nl_path} has {len(nls)} lines but {cm_path} has {len(cms)}: they must align line by line")
    pairs = []
    for i, (nl, cm) in enumerate(zip(nls, cms)):
        if not nl.strip() or not cm.strip():
            raise DataError(f"{nl_path if not nl.strip() else cm_path}:{i + 1}: empty line")
        pairs.append(Pair(nl.strip(), cm.strip(), "bash", str(i)))
    return pairs


# --- placeholder filling, shared by tldr ({{x}}) and cheatsheets (<x>) ---

# Keys are lowercased with `-` as `_`; the first fullmatch wins. Anything else keeps its own text.
_VALUES = [
    (re.compile(p), v)
    for p, v in [
        (r"(?:file|filename)_?(\d*)", r"file\1.txt"),
        (r"file_or_dir(?:ectory)?", "file.txt"),
        (r"(?:directory|dir|folder)_?(\d*)", r"dir\1"),
        (r"user(?:_?name)?|login", "alice"),
        (r"password|passphrase|pass", "secret"),
        (r"port(?:_number)?", "8080"),
        (r"host(?:_?name)?|server|remote_host", "example.com"),
        (r"ip|ip_?address|ipv4(?:_address)?", "192.168.1.10"),
        (r"url|uri", "https://example.com"),
        (r"domain(?:_name)?", "example.com"),
        (r"e?mail(?:_address)?", "alice@example.com"),
        (r"pid|process_id", "1234"),
        (r"n|num|number|count", "10"),
        (r"command|cmd", "ls"),
        (r"group(?:_name)?", "staff"),
        (r"branch(?:_name)?", "main"),
        (r"remote(?:_name)?", "origin"),
        (r"package(?:_name)?|pkg", "curl"),
        (r"string|text|word", "hello"),
        (r"(?:search_)?pattern|regex|regular_expression", "error"),
        (r"width", "800"),
        (r"height", "600"),
        (r"version", "1.2.3"),
        (r"(?:network_)?interface|iface", "eth0"),
        (r"/dev/sdx|device", "/dev/sda"),
        (r"/dev/sdx[a-z0-9]", "/dev/sda1"),
    ]
]
FILL_NUMBERS = frozenset(v for _, v in _VALUES if v.isdigit())  # 8080, 1234, 10, 800, 600: numbers that stand in
_INNER_ALTERNATIVES = re.compile(r"\[([^\[\]|]*(?:\|[^\[\]|]*)+)\]")


def _fill_token(token: str) -> str:
    """A plausible literal for one placeholder word: `path/to/x.tar.gz` -> `x.tar.gz`, `username` -> `alice`."""
    token = token.strip().removesuffix("...")
    if token.startswith("path/to/"):
        token = token.rstrip("/").rsplit("/", 1)[-1]
    key = token.lower().replace("-", "_")
    for pattern, value in _VALUES:
        match = pattern.fullmatch(key)
        if match:
            # expand, not sub: sub would replace the first alternative found inside the word (`n` in `number`).
            return match.expand(value)
    return token


def _fill_placeholder(text: str, long_options: bool) -> str:
    whole = re.fullmatch(r"\[([^\[\]]*\|[^\[\]]*)\]", text)
    if whole:
        # `[-C|--directory]`, `[ls|list]`: short form first, long form last.
        alternatives = whole.group(1).split("|")
        return alternatives[-1 if long_options else 0]
    # `source.tar[.gz|.bz2|.xz]`, `file.[qmd|rmd]`: an inner choice takes its first branch.
    text = _INNER_ALTERNATIVES.sub(lambda m: m.group(1).split("|")[0], text)
    if "|" in text and all(re.fullmatch(r"[\w.-]+", part) for part in text.split("|")):
        text = text.split("|")[0]  # `hostname|ip`
    words = text.split()
    if len(words) > 1 and ("..." in words or any(w.startswith("path/to/") for w in words)):
        return " ".join(_fill_token(w) for w in words if w != "...")
    return _fill_token(text) if len(words) == 1 else text


FILL_USER, FILL_COMMAND = _fill_token("username"), _fill_token("command")  # alice, ls: a user and a command to fill


_TLDR_PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}(?!\})")
# tldr's mnemonics: `[c]reate`, `g[z]ipped`, `[st]atus`; a bracket not touching a word (`[Interactive] Open`) stays.
_MNEMONIC = re.compile(r"(?<=\w)\[(\w{1,5})\]|\[(\w{1,5})\](?=\w)")


# `\{` and `\}` escape literal braces (Go templates: `'\{\{.ID\}\}'`), but in `{{domain}}\{{username}}` the
# backslash is a literal one in front of a placeholder.
_ESCAPED_OPEN = re.compile(r"\\\{(?!\{[^{}])")


def fill_tldr_command(command: str, long_options: bool = False) -> str | None:
    """A tldr command with every `{{placeholder}}` filled, or None when one cannot be (nested braces)."""
    command = _ESCAPED_OPEN.sub("\x00", command).replace("\\}", "\x01")
    command = _TLDR_PLACEHOLDER.sub(lambda m: _fill_placeholder(m.group(1), long_options), command)
    if "{{" in command:
        return None
    return command.replace("\x00", "{").replace("\x01", "}").strip()


def import_tldr(
    pages_dir: Path, platforms: Iterable[str] | None = ("common", "linux"), long_options: bool = False
) -> list[Pair]:
    """tldr example pairs with placeholders filled; `platforms=None` reads every platform folder.

    Option alternatives such as `{{[-C|--directory]}}` take the short form unless `long_options`: NL2Bash
    (hence the CodeFusion Bash split) writes short options about 35 times as often as long ones.
    """
    pages_dir = Path(pages_dir)
    if not pages_dir.is_dir():
        raise DataError(f"no such tldr pages folder: {pages_dir}")
    names = sorted(p.name for p in pages_dir.iterdir() if p.is_dir()) if platforms is None else list(platforms)
    pairs = []
    for platform in names:
        folder = pages_dir / platform
        if not folder.is_dir():
            found = ", ".join(sorted(p.name for p in pages_dir.iterdir() if p.is_dir()))
            raise DataError(f"no such tldr platform folder: {folder}", hint=f"platforms found: {found}")
        for page in sorted(folder.glob("*.md")):
            description, k = None, 0
            for _, line in _read_lines(page):
                line = line.strip()
                if line.startswith("- "):
                    text = _MNEMONIC.sub(lambda m: m.group(1) or m.group(2), line[2:]).rstrip().rstrip(":")
                    # `[c]reate an archive` loses its capital with the markup; sentences start with one.
                    description = text[:1].upper() + text[1:]
                elif description and len(line) > 2 and line[0] == line[-1] == "`":
                    code = fill_tldr_command(line[1:-1], long_options)
                    if code:
                        pairs.append(Pair(description, code, "bash", f"tldr/{platform}/{page.stem}:{k}"))
                    description, k = None, k + 1
    return pairs


_CHEAT_PLACEHOLDER = re.compile(r"(?<![<\w])<([A-Za-z][\w./:+-]*)>")
_KEYSTROKE = re.compile(r"(?:ctrl|alt|meta|shift|esc|cmd|super)\b|[cm]-", re.IGNORECASE)
_COMMAND_WORD = re.compile(r"[\w./~$][\w./+~:=$-]+")
_SQL_WORDS = set("SELECT INSERT UPDATE DELETE CREATE DROP ALTER GRANT REVOKE SHOW USE SET".split())
# Lines of a multi-line script: each alone is no command, so the whole block is left out.
_SCRIPT_WORDS = {"do", "done", "then", "fi", "else", "elif", "esac", "in", "{", "}", ";;"}
# Sheets of interactive programs list the program's own commands (`/join`, `info frame`) or markup, not shell.
_NOT_SHELL_SHEETS = set("ansi dwm ed emacs gdb irssi markdown mutt org-mode r2 readline vim weechat".split())


def _strip_shell_comment(line: str) -> str:
    """`line` without a trailing `# comment`: a `#` that starts a word outside quotes, as bash reads it."""
    quote, i = None, 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quote != "'":
            i += 1
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
        i += 1
    return line.rstrip()


def _is_command(line: str) -> bool:
    # Keymap sheets (less, tmux, screen) list keystrokes in aligned columns: `:wq   quit`, `G`, `Ctrl-b d`.
    first = line.split()[0]
    return (
        bool(_COMMAND_WORD.fullmatch(first))
        and not _KEYSTROKE.match(first)
        and first not in _SQL_WORDS
        and "   " not in line
    )


def _cheat_nl(comment: str) -> str:
    text = comment.strip().rstrip(":").strip()
    # "To extract an archive" -> "Extract an archive": the imperative of the NL2Bash and tldr descriptions.
    if text[:3].lower() == "to " and len(text) > 3:
        text = text[3].upper() + text[4:]
    return text


def _cheat_blocks(lines: list[tuple[int, str]]) -> list[tuple[str, list[tuple[int, str]]]]:
    """(comment, [(line number, command)]) for each comment and the command lines under it."""
    blocks: list[tuple[str, list[tuple[int, str]]]] = []
    nl: str | None = None
    block: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None  # a command continued with a trailing backslash
    for lineno, raw in lines:
        line = raw.strip()
        if pending is not None:
            line, lineno, pending = f"{pending[1]} {line}", pending[0], None
        if not line or (line.startswith("#") and block and line.lstrip("#").strip().lower().rstrip(":") != "or"):
            if nl and block:
                blocks.append((nl, block))
            nl, block = None, []
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            if text.lower().rstrip(":") in ("or", "alternatively"):
                continue  # the commands below share the description of the block
            nl = text if nl is None else f"{nl} {text}"  # a description wrapped over several comment lines
        elif line.endswith("\\"):
            pending = (lineno, line[:-1].rstrip())
        elif line and nl is not None:
            block.append((lineno, line))
    if nl and block:
        blocks.append((nl, block))
    return blocks


def import_cheatsheets(directory: Path) -> list[Pair]:
    """cheat/cheatsheets pairs: each `# comment` describes the one-line commands below it, up to a blank line.

    `<placeholders>` are filled like tldr's; multi-line scripts, keystrokes, SQL and the sheets of interactive
    programs (vim, gdb, irssi, ...) are left out, since none of them is a shell command line.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"no such cheatsheets folder: {directory}")
    pairs = []
    for sheet in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
        if sheet.name in _NOT_SHELL_SHEETS:
            continue
        lines = _read_lines(sheet)
        if lines and lines[0][1].strip() == "---":  # YAML front matter (tags)
            end = next((i for i, (_, text) in enumerate(lines[1:], 1) if text.strip() == "---"), 0)
            lines = lines[end + 1 :]
        for nl, block in _cheat_blocks(lines):
            # The comment names the same placeholders as the command (`grep <pattern> in <dir>`): fill both alike.
            description = _CHEAT_PLACEHOLDER.sub(lambda m: _fill_token(m.group(1)), _cheat_nl(nl))
            if not description or any(line.split()[0] in _SCRIPT_WORDS or line.endswith("{") for _, line in block):
                continue
            for lineno, line in block:
                code = _strip_shell_comment(line)
                if code and _is_command(code):
                    code = _CHEAT_PLACEHOLDER.sub(lambda m: _fill_token(m.group(1)), code)
                    pairs.append(Pair(description, code, "bash", f"cheat/{sheet.name}:{lineno}"))
    return pairs


# Statements whose one-line source reads as a self-contained snippet; docstrings (bare constants) are not calls.
_SNIPPET_NODES = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Return,
    ast.Import,
    ast.ImportFrom,
    ast.Raise,
    ast.Assert,
)


_EXCLUDE = ("site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test")


def extract_python_snippets(root: Path, max_len: int = 200, exclude_dirs: Iterable[str] = _EXCLUDE) -> list[str]:
    """Unique one-line simple statements from every parseable .py file under `root`, in sorted file order.

    Test folders are left out by default: in the standard library they hold two thirds of the statements, a
    quarter of them `self.assert...` boilerplate. Installed packages are left out so the corpus stays the same
    whatever the environment holds.
    """
    root = Path(root)
    excluded = set(exclude_dirs)
    snippets: dict[str, None] = {}
    for path in sorted(root.rglob("*.py")):
        if excluded.intersection(path.relative_to(root).parts):
            continue
        try:
            with tokenize.open(path) as f:  # honours PEP 263 coding declarations
                source = f.read()
            tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, OSError):
            continue  # test fixtures of bad syntax, Python 2 files, unreadable links
        # tokenize.open reads with universal newlines; str.splitlines would also split at form feeds, which ast
        # does not count as line breaks.
        lines = source.split("\n")
        statements = (n for n in ast.walk(tree) if isinstance(n, ast.stmt))
        for node in sorted(statements, key=lambda n: (n.lineno, n.col_offset)):  # source order
            is_call = isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))
            if not (is_call or isinstance(node, _SNIPPET_NODES)) or node.lineno != node.end_lineno:
                continue
            if isinstance(node, ast.Return) and node.value is None:
                continue
            # What ast.get_source_segment does (offsets count UTF-8 bytes), without re-splitting the file per node.
            text = lines[node.lineno - 1].encode()[node.col_offset : node.end_col_offset].decode()
            if len(text) <= max_len:
                snippets.setdefault(text)
    return list(snippets)


def _norm_nl(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".,;:!?").rstrip()


def _norm_code(text: str) -> str:
    return " ".join(text.split())


def decontaminate(train: list[Pair], test: list[Pair]) -> tuple[list[Pair], dict]:
    """Drop train pairs whose normalised code or description occurs in `test`; returns (kept, report).

    The report counts pairs hit by code and by description separately; `dropped` counts each pair once.
    """
    test_codes = {_norm_code(p.code) for p in test}
    test_nls = {_norm_nl(p.nl) for p in test}
    kept, by_code, by_nl, dropped = [], 0, 0, 0
    for pair in train:
        hit_code, hit_nl = _norm_code(pair.code) in test_codes, _norm_nl(pair.nl) in test_nls
        by_code += hit_code
        by_nl += hit_nl
        if hit_code or hit_nl:
            dropped += 1
        else:
            kept.append(pair)
    return kept, {"kept": len(kept), "dropped_code": by_code, "dropped_nl": by_nl, "dropped": dropped}


def _main_utility(cmd: str) -> str | None:
    """The first utility a command runs, past wrappers: `sudo -u bob du -sh` is du."""
    from cfusion.data import _BASH_WRAPPERS
    from cfusion.metrics import bash_utilities

    utils = bash_utilities(cmd)
    return next((u for u in utils if u not in _BASH_WRAPPERS), utils[0] if utils else None)


def common_utility_pairs(pairs: list[Pair], corpus: Iterable[str], known: Iterable[str], min_count: int = 5):
    """The pairs whose main utility (past `sudo`, `xargs` ...) is common: it runs in at least `min_count` distinct
    commands of `corpus` (a Bash corpus, one command each), or in a `known` command; and those that run none (shell
    syntax alone: `[ -f file.txt ]`). tldr documents thousands of tools (`gdu`, `ffsend`, `openstack` ...); a
    memory that recalls them all answers `show disk usage` with `gdu`."""
    from cfusion.metrics import bash_utilities

    counts = Counter(u for cmd in {c.strip() for c in corpus} for u in set(bash_utilities(cmd)))
    common = {u for u, n in counts.items() if n >= min_count} | {u for cmd in known for u in bash_utilities(cmd)}
    common.add(None)
    return [p for p in pairs if _main_utility(p.code) in common]


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
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    write_text_atomic(path, "".join(lines))
    return path
