"""Importers of the Bash corpora under shared/data (NL2Bash, tldr-pages, cheat/cheatsheets) into `Pair`s, and the
placeholder values their commands are filled with."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from cfusion.data.pairs import Pair, read_lines
from cfusion.errors import DataError
from cfusion.langs.bash.syntax import WRAPPERS, utilities


def _text_lines(path: Path) -> list[str]:
    lines = [text for _, text in read_lines(path)]
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
            for _, line in read_lines(page):
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
        lines = read_lines(sheet)
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


def _main_utility(cmd: str) -> str | None:
    """The first utility a command runs, past wrappers: `sudo -u bob du -sh` is du."""
    utils = utilities(cmd)
    return next((u for u in utils if u not in WRAPPERS), utils[0] if utils else None)


def common_utility_pairs(pairs: list[Pair], corpus: Iterable[str], known: Iterable[str], min_count: int = 5):
    """The pairs whose main utility (past `sudo`, `xargs` ...) is common: it runs in at least `min_count` distinct
    commands of `corpus` (a Bash corpus, one command each), or in a `known` command; and those that run none (shell
    syntax alone: `[ -f file.txt ]`). tldr documents thousands of tools (`gdu`, `ffsend`, `openstack` ...); a
    memory that recalls them all answers `show disk usage` with `gdu`."""
    counts = Counter(u for cmd in {c.strip() for c in corpus} for u in set(utilities(cmd)))
    common = {u for u, n in counts.items() if n >= min_count} | {u for cmd in known for u in utilities(cmd)}
    common.add(None)
    return [p for p in pairs if _main_utility(p.code) in common]
