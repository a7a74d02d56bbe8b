"""Reading NL-code pairs and code snippets, and the token spans that CPD pre-training may mask."""

from __future__ import annotations

import functools
import io
import json
import random
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from cfusion import LANGS
from cfusion.errors import DataError

_PAIR_HINT = 'each line must be a JSON object like {"nl": "...", "code": "...", "lang": "bash"}'


@dataclass(frozen=True)
class Pair:
    """One natural-language description and the code it describes."""

    nl: str
    code: str
    lang: str
    id: str | None = None
    refs: tuple[str, ...] = ()


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
    if lang not in LANGS:
        raise DataError(f'{where}: "lang" must be one of {", ".join(LANGS)}, got {json.dumps(lang)}')
    pair_id = obj.get("id")
    # bool is an int subclass, but an id of `true` is surely a mistake.
    if pair_id is not None and (isinstance(pair_id, bool) or not isinstance(pair_id, (int, str))):
        raise DataError(f'{where}: "id" must be a string or integer, got {_type_name(pair_id)}')
    refs = obj.get("refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise DataError(f'{where}: "refs" must be a list of strings')
    return Pair(fields["nl"], fields["code"], lang, None if pair_id is None else str(pair_id), tuple(refs))


def _read_lines(path: Path) -> list[tuple[int, str]]:
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
    if lang is not None and lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    path = Path(path)
    pairs = []
    for lineno, line in _read_lines(path):
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
    snippets = dict.fromkeys(s for _, line in _read_lines(path) if (s := line.strip()))
    if not snippets:
        raise DataError(f"{path}: no snippets (the file is empty)")
    return list(snippets)


# --- maskable spans (CodeFusion CPD masks only identifiers and keywords) ---

_BASH_RESERVED = {"if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "until", "case", "esac"}
# Declaration builtins are anonymous nodes in command position: they play the part of command names.
_BASH_DECLARE = {"export", "declare", "local", "readonly", "typeset", "unset"}
_BASH_KEYWORDS = frozenset(_BASH_RESERVED | {"function", "select"} | _BASH_DECLARE)
# Commands whose first non-option argument is itself a command, with the options that take a separate value
# (so `sudo -u root ls` finds `ls`, not `root`). `-exec` and friends of `find` take the command right away.
_BASH_WRAPPERS: dict[str, frozenset[str]] = {
    "xargs": frozenset(
        ["-I", "-n", "-L", "-P", "-d", "-E", "-s", "-a", "--max-args", "--max-procs", "--delimiter", "--arg-file"]
    ),
    "sudo": frozenset(["-u", "-g", "-U", "-C", "-h", "-p", "-r", "-t", "--user", "--group"]),
    "nohup": frozenset(),
    "time": frozenset(["-f", "-o", "--format", "--output"]),
    "env": frozenset(["-u", "-C", "--unset", "--chdir"]),
    "exec": frozenset(["-a"]),
    "nice": frozenset(["-n", "--adjustment"]),
    "watch": frozenset(["-n", "-d", "--interval"]),
    **dict.fromkeys(["-exec", "-execdir", "-ok", "-okdir"], frozenset()),
}
# A command word has a letter and no punctuation but path characters; this drops flags (`-exec` opening a
# fragment) and the error output (`-bash: foo: not found`) that the snippet corpora hold.
_COMMANDISH = re.compile(r"(?!-)[\w./+~-]*[A-Za-z_][\w./+~-]*")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


@functools.cache
def _bash_parser():
    # Imported here so that Python- or CF-only use never needs tree-sitter.
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _wrapped_command_nodes(command) -> list:
    """Arguments of a `command` node that tree-sitter parses as plain words but that name a command."""
    name = command.child_by_field_name("name")
    skip_flags = _BASH_WRAPPERS.get(_text(name)) if name is not None else None
    found, take_value = [], False
    for arg in command.children_by_field_name("argument"):
        text = _text(arg)
        if skip_flags is None:
            skip_flags = _BASH_WRAPPERS.get(text) if text.startswith("-") else None
        elif take_value:
            take_value = False
        elif text.startswith("-") or (arg.type == "word" and "=" in text):
            take_value = text in skip_flags
        else:
            is_command = arg.type == "word" and _COMMANDISH.fullmatch(text) is not None
            if is_command:
                found.append(arg)
            # `sudo nohup cmd` chains; anything else (a string, an expansion) ends the search.
            skip_flags = _BASH_WRAPPERS.get(text) if is_command else None
    return found


def _bash_spans(code: str) -> list[tuple[int, int]]:
    data = code.encode("utf-8", "surrogatepass")
    spans = []
    stack = [_bash_parser().parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and [c.type for c in node.children] == ["word"]:
            if _COMMANDISH.fullmatch(_text(node)):
                spans.append((node.start_byte, node.end_byte))
            continue
        # Positional parameters (`$1`) are numbers, and error recovery can call `--format=` an assignment.
        if (node.type == "variable_name" and _IDENTIFIER.fullmatch(_text(node))) or (
            not node.is_named and node.type in _BASH_KEYWORDS and _text(node) == node.type
        ):
            spans.append((node.start_byte, node.end_byte))
        elif node.type == "function_definition" and (fname := node.child_by_field_name("name")) is not None:
            if _COMMANDISH.fullmatch(_text(fname)):
                spans.append((fname.start_byte, fname.end_byte))
        elif node.type == "command":
            spans.extend((n.start_byte, n.end_byte) for n in _wrapped_command_nodes(node))
        stack.extend(node.children)
    # tree-sitter counts UTF-8 bytes; callers index the str.
    if len(data) == len(code):
        return [(s, e) for s, e in spans if e > s]
    char_at = [0] * (len(data) + 1)
    pos = 0
    for i, ch in enumerate(code):
        width = len(ch.encode("utf-8", "surrogatepass"))
        char_at[pos : pos + width] = [i] * width
        pos += width
    char_at[pos] = len(code)
    return [(char_at[s], char_at[e]) for s, e in spans if e > s]


# Strings, comments and numbers are consumed first so that the words inside them never count as names.
_PY_FALLBACK = re.compile(
    r"""(?P<skip>(?:[rRbBuUfF]{1,2})?(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)"""
    r"""|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)|\#[^\n]*|\d[\w.]*)|(?P<name>[^\W\d]\w*)"""
)


def _python_spans(code: str) -> list[tuple[int, int]]:
    line_starts = [0] + [m.end() for m in re.finditer("\n", code)]
    spans = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            # Python 3.11 tokenizes an unclosed quote as an ERRORTOKEN and carries on inside the string.
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                raise tokenize.TokenError("error token", tok.start)
            if tok.type == tokenize.NAME:
                (row, col), (end_row, end_col) = tok.start, tok.end
                spans.append((line_starts[row - 1] + col, line_starts[end_row - 1] + end_col))
        return spans
    except (tokenize.TokenError, SyntaxError):  # incomplete code: unclosed bracket or string, bad dedent
        return [m.span("name") for m in _PY_FALLBACK.finditer(code) if m.group("name")]


_CF_TOKEN = re.compile(
    r'(?P<string>"(?:[^"]|"")*"?)'
    # References are not names: a sheet prefix (`Sheet1!`), a cell (`A1`, `$B$2`), a column range (`A:C`), `c[1]`.
    r"|(?P<cell>\$?[A-Za-z_][\w.]*!|\$?[A-Za-z]{1,3}\$?\d+(?![\w.(\[])"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w.(])|[A-Za-z]\[\d+\])"
    r"|(?P<number>\d[\d.]*(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?P<call>\s*\()?"
    r"|(?P<open>\()|(?P<close>\))"
)


def _is_cf_literal_call(func: str) -> bool:
    # The CF corpora write text operands unquoted (`TextEquals(In Progress)`): words there are data, not code.
    func = func.lower()
    return "text" in func or "equal" in func or func.endswith("with")


def _cf_spans(code: str) -> list[tuple[int, int]]:
    spans, literal = [], [False]  # literal[-1]: are we inside the argument list of a text-matching call?
    for m in _CF_TOKEN.finditer(code):
        if m.group("name"):
            if not literal[-1]:
                spans.append(m.span("name"))
            if m.group("call"):
                literal.append(literal[-1] or _is_cf_literal_call(m.group("name")))
        elif m.group("open"):
            literal.append(literal[-1])
        elif m.group("close") and len(literal) > 1:
            literal.pop()
    return spans


def maskable_spans(code: str, lang: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the identifiers and keywords of `code` that CPD may mask."""
    if lang == "bash":
        spans = _bash_spans(code)
    elif lang == "python":
        spans = _python_spans(code)
    elif lang == "cf":
        spans = _cf_spans(code)
    else:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return sorted(set(spans))


@functools.lru_cache(maxsize=1 << 18)
def _cached_spans(code: str, lang: str) -> tuple[tuple[int, int], ...]:
    # Pre-training masks the same snippets epoch after epoch: parse each once.
    return tuple(maskable_spans(code, lang))


def mask_code(code: str, lang: str, rate: float, generator: random.Random, mask: str) -> str:
    """Replace each maskable span by `mask` with probability `rate`, at least one when any exists."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    spans = _cached_spans(code, lang)
    if not spans:
        return code
    chosen = [generator.random() < rate for _ in spans]
    if not any(chosen):
        # A pre-training example with nothing masked teaches the denoiser nothing.
        chosen[generator.randrange(len(spans))] = True
    out, pos = [], 0
    for (start, end), hit in zip(spans, chosen):
        if hit:
            out += [code[pos:start], mask]
            pos = end
    out.append(code[pos:])
    return "".join(out)
