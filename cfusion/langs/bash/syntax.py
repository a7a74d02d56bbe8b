"""Bash syntax: the one tree-sitter-bash parser and what is read from its tree.

- `analyse`: a command's utilities, flags, operators and arguments, in order (template match, NLC2CMD, literals);
- `maskable_spans`: the command names, variable names and keywords that code-specific pre-training masks;
- `valid` (parses) and `usable` (parses and runs as written).
Input tree-sitter cannot parse is scanned word by word with the same rules, so nothing here raises.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

_RESERVED = {"if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "until", "case", "esac"}
# Declaration builtins are anonymous nodes in command position: they play the part of command names.
_DECLARE = {"export", "declare", "local", "readonly", "typeset", "unset"}
_KEYWORDS = frozenset(_RESERVED | {"function", "select"} | _DECLARE)
# Commands whose first non-option argument is itself a command, with the options that take a separate value
# (so `sudo -u root ls` finds `ls`, not `root`). `-exec` and friends of `find` take the command right away.
WRAPPERS: dict[str, frozenset[str]] = {
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
def _parser():
    # Imported here so that Python- or CF-only use never needs tree-sitter.
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _wrapped_command_nodes(command) -> list:
    """Arguments of a `command` node that tree-sitter parses as plain words but that name a command."""
    name = command.child_by_field_name("name")
    skip_flags = WRAPPERS.get(_text(name)) if name is not None else None
    found, take_value = [], False
    for arg in command.children_by_field_name("argument"):
        text = _text(arg)
        if skip_flags is None:
            skip_flags = WRAPPERS.get(text) if text.startswith("-") else None
        elif take_value:
            take_value = False
        elif text.startswith("-") or (arg.type == "word" and "=" in text):
            take_value = text in skip_flags
        else:
            is_command = arg.type == "word" and _COMMANDISH.fullmatch(text) is not None
            if is_command:
                found.append(arg)
            # `sudo nohup cmd` chains; anything else (a string, an expansion) ends the search.
            skip_flags = WRAPPERS.get(text) if is_command else None
    return found


def maskable_spans(code: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the command names, variable names and keywords that CPD may mask."""
    data = code.encode("utf-8", "surrogatepass")
    spans = []
    stack = [_parser().parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name" and [c.type for c in node.children] == ["word"]:
            if _COMMANDISH.fullmatch(_text(node)):
                spans.append((node.start_byte, node.end_byte))
            continue
        # Positional parameters (`$1`) are numbers, and error recovery can call `--format=` an assignment.
        if (node.type == "variable_name" and _IDENTIFIER.fullmatch(_text(node))) or (
            not node.is_named and node.type in _KEYWORDS and _text(node) == node.type
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
        return sorted({(s, e) for s, e in spans if e > s})
    char_at = [0] * (len(data) + 1)
    pos = 0
    for i, ch in enumerate(code):
        width = len(ch.encode("utf-8", "surrogatepass"))
        char_at[pos : pos + width] = [i] * width
        pos += width
    char_at[pos] = len(code)
    return sorted({(char_at[s], char_at[e]) for s, e in spans if e > s})


_EXEC_FLAGS = frozenset(["-exec", "-execdir", "-ok", "-okdir"])
_EXEC_ENDS = frozenset(["\\;", ";", "';'", '";"'])
# find's grouping and negation, escaped or not, are reserved tokens like `(` and `)`.
_RESERVED_WORDS = frozenset(["\\(", "\\)", "\\!", "!"])
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*\+?=")
# Numbers that follow a flag are its value (`-mtime -3`, `head -n -5`); right after a name they are flags (`ls -1`).
_DASH_NUMBER = re.compile(r"-\d[\w.]*")
# find's single-dash long options stay whole; anything else with one dash bundles one-letter flags (`-xzvf`).
_FIND_PRIMARIES = frozenset(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -regextype -lname -ilname -type -xtype -size "
    "-empty -perm -user -group -uid -gid -nouser -nogroup -mtime -mmin -atime -amin -ctime -cmin -anewer -cnewer "
    "-used -samefile -inum -links -maxdepth -mindepth -depth -mount -xdev -follow -noleaf -daystart -readable "
    "-writable -executable -fstype -context -true -false -not -and -or -prune -quit -delete -print -print0 -printf "
    "-fprint -fprint0 -fprintf -ls -fls -exec -execdir -ok -okdir -help -version -ignore_readdir_race".split()
)
_TS_ARGS = frozenset(
    "word number string raw_string concatenation simple_expansion expansion arithmetic_expansion ansi_c_string "
    "translated_string variable_name".split()
)
_TS_FRAMES = frozenset(["command_substitution", "process_substitution", "subshell"])
_LEX = re.compile(
    r"(?P<space>\s+)|(?P<open>\$\(|<\(|>\(|\()|(?P<close>\))|(?P<tick>`)"
    r"|(?P<redir>\d*>&(?:\d+|-)|&>>?|\d*>>|\d*>\|?|<<<|<<-?|<&|<)|(?P<op>\|\||\|&|&&|;;|\||;|&)"
    r"""|(?P<word>(?:\\.|'[^']*'?|"(?:\\.|[^"\\])*"?|[^\s|&;<>()`'"\\])+)|(?P<other>.)"""
)


@dataclass
class _Cmd:
    name: str
    flags: list[str] = field(default_factory=list)


@dataclass
class _Frame:
    kind: str  # "top", "sub" ($(, <(, ( ... )), "tick" (backquotes) or "exec" (find -exec ... \;)
    cmd: _Cmd | None = None
    wrapper: frozenset[str] | None = None  # value-taking flags of a sudo/xargs/... still looking for its command
    take_value: bool = False
    prev_flag: bool = False
    skip_next: bool = False  # the next word is a redirection target


@dataclass(frozen=True)
class Analysis:
    items: tuple[tuple[str, str, str], ...]  # (kind, text, owning utility): kind is util, flag, op or arg
    commands: tuple[tuple[str, tuple[str, ...]], ...]  # (utility, flags as written) in order of appearance


def _ts_nested(node, out: list) -> None:
    """Lexemes of the command substitutions inside an argument (`"today $(date)"`)."""
    for child in node.children:
        if child.type in _TS_FRAMES:
            _ts_lexemes(child, out)
        else:
            _ts_nested(child, out)


def _ts_lexemes(node, out: list) -> None:
    kind = node.type
    if kind == "command":
        for child in node.children:
            if child.type == "command_name":
                out.append(("util", _text(child)))
            elif child.type == "variable_assignment":
                _ts_nested(child, out)
            elif child.type in _TS_FRAMES or child.type.endswith("_redirect"):
                _ts_lexemes(child, out)
            elif child.is_named:
                text = _text(child)
                # Only bare words can be flags or commands: a quoted "-x" is an argument.
                bare = child.type in ("word", "number") or (child.type == "concatenation" and text[:1] in "-{")
                out.append(("word" if bare else "arg", text))
                _ts_nested(child, out)
        out.append(("end", ""))
    elif kind in _TS_FRAMES:
        out.append(("open", _text(node.children[0])))
        for child in node.children[1:-1]:
            _ts_lexemes(child, out)
        out.append(("close", _text(node.children[-1])))
    elif kind.endswith("_redirect"):
        fd, op, dest = "", "", None
        for child in node.children:
            if child.type == "file_descriptor":
                fd = _text(child)
            elif not child.is_named:
                op = _text(child)
            elif dest is None and child.type not in ("heredoc_body", "heredoc_end"):
                dest = child
        if kind == "file_redirect" and dest is not None and re.fullmatch(r"\d+|-", _text(dest)):
            out.append(("redir", fd + op + _text(dest)))  # `2>&1` is one token
        else:
            out.append(("redir", fd + op))
            if dest is not None and kind != "heredoc_redirect":
                out.append(("arg", _text(dest)))
                _ts_nested(dest, out)
    elif kind in _TS_ARGS:
        out.append(("arg", _text(node)))
        _ts_nested(node, out)
    elif kind == "test_operator" or (node.child_count == 0 and not node.is_named):
        out.append(("op", _text(node)))
    elif kind == "variable_assignment":
        _ts_nested(node, out)
    elif kind not in ("comment", "heredoc_body"):
        for child in node.children:
            _ts_lexemes(child, out)


def _fallback_lexemes(cmd: str) -> list[tuple[str, str]]:
    """Lexemes from a plain scan, for input tree-sitter cannot parse: words, quotes, operators, nesting."""
    out, ticks = [], 0
    for m in _LEX.finditer(cmd):
        kind, text = m.lastgroup, m.group()
        if kind == "tick":
            kind, ticks = ("close", ticks - 1) if ticks else ("open", ticks + 1)
        elif kind in ("word", "other"):
            kind = "arg" if text[0] in "'\"$" else "word"
        if kind != "space":
            out.append((kind, text))
    return out


@functools.lru_cache(maxsize=65536)
def analyse(cmd: str) -> Analysis:
    """A command's items (utility, flag, operator or argument, in order, with the utility each belongs to) and its
    commands (utility and flags as written): the tree-sitter parse, or a word-by-word scan when it has an error."""
    tree = _parser().parse(cmd.encode("utf-8", "surrogatepass"))
    if tree.root_node.has_error:
        lexemes = _fallback_lexemes(cmd)
    else:
        lexemes = []
        _ts_lexemes(tree.root_node, lexemes)
    items: list[tuple[str, str, str]] = []
    commands: list[_Cmd] = []
    stack = [_Frame("top")]

    def start(frame: _Frame, name: str) -> None:
        frame.cmd = _Cmd(name)
        commands.append(frame.cmd)
        items.append(("util", name, name))
        frame.wrapper = WRAPPERS.get(name.rsplit("/", 1)[-1]) if not name.startswith("-") else None
        frame.take_value = frame.prev_flag = frame.skip_next = False

    def arg(frame: _Frame, text: str) -> None:
        items.append(("arg", text, ""))
        frame.prev_flag = frame.skip_next = frame.take_value = False

    def end_command() -> None:
        while stack[-1].kind == "exec":
            stack.pop()
        stack[-1].cmd, stack[-1].wrapper = None, None

    for kind, text in lexemes:
        frame = stack[-1]
        if kind == "open":
            items.append(("op", text, ""))
            stack.append(_Frame("tick" if text == "`" else "sub"))
        elif kind == "close":
            while len(stack) > 1 and stack[-1].kind == "exec":
                stack.pop()
            if len(stack) > 1:
                stack.pop()
            items.append(("op", text, ""))
        elif kind in ("op", "end"):
            end_command()
            if kind == "op":
                items.append(("op", text, ""))
        elif kind == "redir":
            items.append(("op", text, ""))
            frame.skip_next = not text[-1].isdigit() and text[-1] != "-"
        elif kind == "util":
            start(frame, text)
        elif frame.kind == "exec" and (text in _EXEC_ENDS or (text == "+" and items[-1][1] == "{}")):
            items.append(("op", "+" if text == "+" else "\\;", ""))
            stack.pop()
        elif kind == "arg" or frame.skip_next:
            if frame.wrapper is not None and not frame.take_value:
                frame.wrapper = None  # a quoted word or an expansion ends the search for the wrapped command
            arg(frame, text)
        elif text == "{}" or (frame.cmd is not None and text in _RESERVED_WORDS):
            items.append(("op", text, ""))
            frame.prev_flag = frame.take_value = False
        elif frame.cmd is None and not _ASSIGNMENT.match(text):  # `VAR=1 cmd` sets a variable first
            start(frame, text)
        elif frame.cmd is None or (frame.wrapper is not None and frame.take_value):
            arg(frame, text)
        elif frame.wrapper is not None and not text.startswith("-"):
            # `sudo -u root ls`, `xargs -0 rm`, `env X=1 cmd`: the first command-like word is the wrapped command.
            if _ASSIGNMENT.match(text):
                arg(frame, text)
            elif _COMMANDISH.fullmatch(text):
                start(frame, text)
            else:
                frame.wrapper = None  # a path or a pattern: this wrapper runs no command
                arg(frame, text)
        elif text.startswith("-") and text != "-" and not (frame.prev_flag and _DASH_NUMBER.fullmatch(text)):
            flag = text.split("=", 1)[0]
            items.append(("flag", flag, frame.cmd.name))
            frame.cmd.flags.append(flag)
            if frame.wrapper is not None:
                frame.take_value = flag in frame.wrapper and "=" not in text  # `--max-args=1` holds its value
            frame.prev_flag = True
            if flag in _EXEC_FLAGS:
                stack.append(_Frame("exec"))
        else:
            arg(frame, text)
    return Analysis(tuple(items), tuple((c.name, tuple(c.flags)) for c in commands))


def template_tokens(cmd: str) -> list[str]:
    """NL2Bash template of a command: utilities, flags (`=value` dropped) and reserved tokens, arguments left out.

    Commands after `sudo`, `xargs`, `env`, `time`, `nohup`, `find -exec` ... count as utilities; `{}`, the `\\;` or
    `+` that ends `-exec`, `|`, `;`, `&&`, `||`, redirections (`>`, `2>`, `2>&1`), `$(`, backquotes and `(`/`)`
    are reserved tokens. Input tree-sitter cannot parse is scanned word by word with the same rules; never raises.
    """
    return [text for kind, text, _ in analyse(cmd).items if kind != "arg"]


def utilities(cmd: str) -> list[str]:
    """The utilities a command runs, in order, without their paths (`/usr/bin/find` is find); never raises."""
    return [text.rsplit("/", 1)[-1] for kind, text, _ in analyse(cmd).items if kind == "util"]


def arguments(cmd: str) -> list[str]:
    """The arguments a command passes, as written (quotes kept), in order; utilities, flags and operators left out."""
    return [text for kind, text, _ in analyse(cmd).items if kind == "arg"]


def split_flag(utility: str, flag: str) -> list[str]:
    """One-letter flags bundled in one word (`-xzvf` is -x -z -v -f), as bashlint reads them for NLC2CMD."""
    if flag.startswith("--") or len(flag) <= 2:
        return [flag]
    if utility.rsplit("/", 1)[-1] == "find" and (flag in _FIND_PRIMARIES or flag.startswith("-newer")):
        return [flag]
    letters = re.match(r"-([A-Za-z]*)", flag).group(1)
    return ["-" + c for c in letters] if letters else [flag]


def valid(cmd: str) -> bool:
    """The tree-sitter-bash parse has no ERROR or MISSING node; empty input is invalid."""
    return bool(cmd.strip()) and not _parser().parse(cmd.encode("utf-8", "surrogatepass")).root_node.has_error


_TYPOGRAPHIC = re.compile("[‘’“”–—]")  # the quotes and dashes a web page sets for ' " and -
_PLACEHOLDER = re.compile(r"<[A-Za-z_][\w -]*>")  # `mysqldump -u<username>`: a redirection, not a user
_PROMPT = re.compile(r"\s*\$\s")  # `$ ls`: a shell's prompt copied with the command
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def usable(cmd: str) -> bool:
    """Whether a command parses (never executed) and runs as written: no typographic quote or dash outside a quoted
    string (`find . -name “*.jpg”` parses but matches nothing and `sed -i ‘s/a/b/’` fails: commands copied from web
    pages), no `<placeholder>` outside one (`mysqldump -u<username>` redirects) and no prompt before it (`$ ls`)."""
    if not valid(cmd):
        return False
    bare = _QUOTED.sub("", cmd)  # what the shell reads as words, quoted strings aside
    return not (_TYPOGRAPHIC.search(bare) or _PLACEHOLDER.search(bare) or _PROMPT.match(bare))
