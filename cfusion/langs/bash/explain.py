"""A Bash line's structure, explained: lists, pipelines, redirections and the commands that wrappers and runners
run, each utility and flag described from the machine's man pages or the shipped table (cfusion.langs.bash.manual),
and the analyzer's findings placed on the part responsible. `cfusion explain` renders it; nothing is ever run."""

from __future__ import annotations

from dataclasses import dataclass, field

from cfusion.langs.bash import manual
from cfusion.langs.bash.analyzer import Finding, _basename, _table, _unquote, findings
from cfusion.langs.bash.syntax import _parser

_STATEMENTS = {
    "command", "pipeline", "list", "redirected_statement", "subshell", "compound_statement", "for_statement",
    "c_style_for_statement", "while_statement", "if_statement", "case_statement", "function_definition",
    "negated_command", "declaration_command", "variable_assignment", "test_command", "unset_command",
}  # fmt: skip
_BLOCKS = {
    "subshell": ("subshell", "runs in a child shell: its cd and variables do not last"),
    "compound_statement": ("group", "runs the commands in this shell, as one"),
    "for_statement": ("for loop", "runs the body once for each item"),
    "c_style_for_statement": ("for loop", "runs the body while the condition holds"),
    "while_statement": ("while loop", "runs the body while the condition succeeds"),
    "if_statement": ("if", "runs a branch by the condition's exit status"),
    "case_statement": ("case", "runs the branch whose pattern matches"),
    "negated_command": ("not", "inverts the exit status"),
    "command_substitution": ("command substitution", "runs the command and puts its output here"),
    "process_substitution": ("process substitution", "passes the command's output (or input) as a file name"),
    "declaration_command": ("declaration", "sets or exports shell variables"),
    "variable_assignment": ("assignment", "sets a shell variable"),
    "test_command": ("test", "checks a condition"),
}
_OPERATORS = {
    "&&": "runs the next command only if this one succeeds",
    "||": "runs the next command only if this one fails",
    ";": "runs the commands one after another",
    "&": "runs the command in the background",
    "|": "feeds each command's output to the next",
    "|&": "feeds each command's output and errors to the next",
}
_REDIRECTS = {
    ">": "writes the output to {f}, replacing what it held",
    ">|": "writes the output to {f}, replacing it even under noclobber",
    ">>": "appends the output to {f}",
    "&>": "writes output and errors to {f}, replacing what it held",
    "&>>": "appends output and errors to {f}",
    "<": "reads the input from {f}",
    "<>": "opens {f} for reading and writing",
    ">&": "sends the output where {f} goes",
    "<&": "reads the input from descriptor {f}",
}
_STREAMS = {"0": "the input", "1": "the output", "2": "the errors"}
_BUILTINS = {  # shell builtins that have no manual page of their own
    ":": "does nothing and succeeds",
    ".": "runs a file's commands in this shell",
    "source": "runs a file's commands in this shell",
    "eval": "joins its arguments and runs them as shell code",
    "exec": "replaces the shell with the command",
    "export": "passes variables on to the commands this shell runs",
    "history": "shows or edits the shell's command history",
    "alias": "defines a short name for a command",
    "cd": "changes the shell's working folder",
    "set": "sets shell options or positional parameters",
    "unset": "removes shell variables or functions",
    "read": "reads a line of input into variables",
    "trap": "runs a command when the shell gets a signal",
    "wait": "waits for background jobs to finish",
    "builtin": "runs a shell builtin, bypassing functions of that name",
    "command": "runs a command, bypassing functions of that name",
    "type": "says how a name would be run",
    "exit": "leaves the shell",
    "return": "leaves the function",
}


@dataclass
class Part:
    kind: str  # line, list, pipeline, command, block, redirect, flag, argument, shell text
    title: str
    start: int
    end: int
    help: str | None = None
    source: str | None = None  # where the help comes from: man:PATH, tldr, cheatsheets
    children: list[Part] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {"kind": self.kind, "title": self.title, "start": self.start, "end": self.end}
        if self.help:
            out["help"] = self.help
        if self.source:
            out["source"] = self.source
        if self.findings:
            out["findings"] = [f.to_json() for f in self.findings]
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


def explain(line: str) -> Part:
    """The line's structure with help and findings; parse errors are not checked here (analyzer.parse_error)."""
    root = Part("line", line, 0, len(line))
    _Builder(line).into(root, _parser().parse(line.encode("utf-8", "surrogatepass")).root_node, 0)
    for f in findings(line):
        _place(root, f)
    return root


def _place(part: Part, f: Finding) -> None:
    """Attach a finding to the deepest command, redirect or block that holds its span."""
    for child in part.children:
        if child.kind not in ("flag", "argument") and child.start <= f.start and f.end <= child.end:
            return _place(child, f)
    part.findings.append(f)


class _Builder:
    def __init__(self, line: str):
        self.line = line

    def into(self, parent: Part, node, offset: int, data: bytes | None = None) -> None:
        """Add the parts of node's statements under parent (offset: where this text starts in the line)."""
        data = data if data is not None else node.text
        for child in node.children:
            part = self.statement(child, offset, data)
            if part is not None:
                parent.children.append(part)
            elif child.type not in (";", "&", "\n", "comment") and child.child_count:
                self.into(parent, child, offset, data)

    def pos(self, data: bytes, byte: int, offset: int) -> int:
        return offset + (byte if data.isascii() else len(data[:byte].decode("utf-8", "replace")))

    def span(self, node, offset: int, data: bytes) -> tuple[int, int]:
        base = node.start_byte
        return self.pos(data, base, offset), self.pos(data, node.end_byte, offset)

    def statement(self, node, offset: int, data: bytes) -> Part | None:
        kind = node.type
        start, end = self.span(node, offset, data)
        text = node.text.decode("utf-8", "replace")
        if kind in ("list", "pipeline"):
            ops = [c.type for c in node.children if c.type in _OPERATORS]
            title = "pipeline" if kind == "pipeline" else "list " + " ".join(dict.fromkeys(ops))
            part = Part("pipeline" if kind == "pipeline" else "list", title, start, end)
            part.help = "; ".join(f"{op}: {_OPERATORS[op]}" for op in dict.fromkeys(ops)) or None
            self.into(part, node, offset, data)
            return part
        if kind == "redirected_statement":
            body = node.child_by_field_name("body")
            part = self.statement(body, offset, data) if body is not None else None
            if part is None:
                part = Part("block", "redirection", start, end, "opens the file and runs nothing")
            part.start, part.end = start, end
            for c in node.children:
                if c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                    part.children.append(self.redirect(c, offset, data))
            return part
        if kind == "command":
            return self.command(node, offset, data)
        if kind == "function_definition":
            name = node.child_by_field_name("name")
            title = f"function {name.text.decode() if name is not None else ''}".strip()
            part = Part("block", title, start, end, "defines a function: its body runs when it is called")
            body = node.child_by_field_name("body")
            if body is not None:
                self.into(part, body, offset, data)
            return part
        if kind in _BLOCKS:
            title, help_ = _BLOCKS[kind]
            part = Part("block", title, start, end, help_)
            self.into(part, node, offset, data)
            return part
        if kind in _STATEMENTS:
            return Part("block", kind.replace("_", " "), start, end, text)
        return None

    def redirect(self, node, offset: int, data: bytes) -> Part:
        start, end = self.span(node, offset, data)
        text = node.text.decode("utf-8", "replace")
        if node.type == "herestring_redirect":
            return Part("redirect", text, start, end, "feeds the text to the command as its input")
        if node.type == "heredoc_redirect":
            part = Part("redirect", text.split("\n", 1)[0], start, end, "feeds the lines below to the command's input")
            for c in node.children:
                if c.type == "file_redirect":
                    part.children.append(self.redirect(c, offset, data))
            return part
        op = next((c.type for c in node.children if c.type in _REDIRECTS), None)
        fd = next((c.text.decode() for c in node.children if c.type == "file_descriptor"), None)
        dest = node.child_by_field_name("destination") or node.children[-1]
        target = _unquote(dest, dest.text.decode("utf-8", "replace"))
        if op is None:
            return Part("redirect", text, start, end)
        if op == ">&" and target in _STREAMS:  # 2>&1
            help_ = f"sends {_STREAMS[fd or '1']} where {_STREAMS[target]} goes"
        else:
            help_ = _REDIRECTS[op].format(f=target)
            if fd in _STREAMS and op not in ("<", "<&"):
                help_ = help_.replace("the output", _STREAMS[fd])
        if target == "/dev/null" and op in (">", ">>", "&>"):
            help_ = f"discards {_STREAMS.get(fd, 'the output') if op != '&>' else 'output and errors'}"
        return Part("redirect", text, start, end, help_)

    def command(self, node, offset: int, data: bytes) -> Part:
        words = []  # (text, raw, start, end, node)
        for i, c in enumerate(node.children):
            if c.type == "command_name" or node.field_name_for_child(i) == "argument":
                w = c.children[0] if c.type == "command_name" and c.children else c
                raw = w.text.decode("utf-8", "replace")
                words.append((_unquote(w, raw), raw, *self.span(w, offset, data), w))
        start, end = self.span(node, offset, data)
        if not words:
            part = Part("block", "assignment", start, end, "sets shell variables")
        else:
            part = self.words(words, offset, data)
            part.start, part.end = start, end
        for c in node.children:
            if c.type in ("file_redirect", "herestring_redirect"):
                part.children.append(self.redirect(c, offset, data))
        return part

    def words(self, words: list[tuple], offset: int, data: bytes) -> Part:
        """A simple command from its words: its utility (and subcommand), flags, arguments, and what it runs."""
        table = _table()
        name = _basename(words[0][0].lstrip("\\"))
        start, end = words[0][2], words[-1][3]
        rest = words[1:]
        operands = [w for w in rest if not w[0].startswith("-")]
        page = manual.page(name, operands[0][0]) if operands and operands[0] is rest[0] else manual.page(name)
        sub = page is not None and page.name == f"{name}-{operands[0][0]}" if operands else False
        title = f"{name} {operands[0][0]}" if sub else name
        if words[0][0].startswith("\\"):
            title += " (alias bypassed)"
        part = Part("command", title, start, end)
        if page is not None:
            part.help, part.source = page.summary, page.source
        else:
            part.help = _BUILTINS.get(name, "no manual page or shipped description for this command")
        wrapper = table.wrappers.get(name)
        i = 1 + (1 if sub else 0)
        while i < len(words):
            text, raw, s, e, node = words[i]
            if name == "find" and text in ("-exec", "-execdir", "-ok", "-okdir"):
                stop = next((j for j in range(i + 1, len(words)) if words[j][0] in (";", "+")), len(words))
                part.children.append(self.flag(page, text, s, e))
                if stop > i + 1:
                    child = self.words(words[i + 1 : stop], offset, data)
                    child.help = f"run for each file found ({{}} is the file); {child.help}"
                    part.children.append(child)
                i = stop + 1
                continue
            if wrapper is not None and text in wrapper.string_flags and i + 1 < len(words):
                part.children.append(self.flag(page, text, s, e))
                part.children.append(self.shell_text(words[i + 1]))
                i += 2
                continue
            if text.startswith("-") and len(text) > 1:
                part.children.append(self.flag(page, text, s, e))
                if wrapper is not None and text in wrapper.value_flags and i + 1 < len(words):
                    i += 1
                    part.children.append(Part("argument", words[i][1], words[i][2], words[i][3], "the option's value"))
                i += 1
                continue
            if wrapper is not None and wrapper.kind == "prefix" and not wrapper.string_flags and name != "env":
                skipped = words[i : i + wrapper.skip]
                for w in skipped:
                    part.children.append(Part("argument", w[1], w[2], w[3]))
                runs = words[i + wrapper.skip :]
                if runs:
                    part.children.append(self.words(runs, offset, data))
                return part
            if name == "env" and "=" in text:
                part.children.append(Part("argument", raw, s, e, "sets this variable for the command"))
                i += 1
                continue
            if (
                wrapper is not None
                and wrapper.kind in ("remote", "join")
                and (wrapper.kind == "join" or i + 1 < len(words))
            ):
                if wrapper.kind == "remote":
                    part.children.append(Part("argument", raw, s, e, "the host the command runs on"))
                    i += 1
                for w in words[i:]:
                    part.children.append(self.shell_text(w) if w[4] is not None else Part("argument", w[1], w[2], w[3]))
                return part
            arg = Part("argument", raw, s, e)
            if node is not None:
                self.into(arg, node, offset, data)  # $(...) and <(...) inside the argument
            part.children.append(arg)
            i += 1
        return part

    def flag(self, page: manual.Page | None, flag: str, start: int, end: int) -> Part:
        help_ = manual.flag_help(page, flag) if page is not None else None
        return Part("flag", flag, start, end, help_)

    def shell_text(self, word: tuple) -> Part:
        """Shell text a command runs (sh -c '...', ssh host '...'), parsed and explained where it sits."""
        text, raw, start, end, _ = word
        quote = 2 if raw.startswith("$'") else 1 if raw[:1] in ("'", '"') else 0
        part = Part("shell text", raw, start, end, "shell code that this command runs")
        exact = self.line[start + quote : start + quote + len(text)] == text
        sub = _parser().parse(text.encode("utf-8", "surrogatepass")).root_node
        inner = Part("line", text, start, end)
        self.into(inner, sub, start + quote if exact else start, sub.text)
        if not exact:  # escapes were removed: the inner parts point at the whole text
            _flatten(inner, start, end)
        part.children = inner.children
        return part


def _flatten(part: Part, start: int, end: int) -> None:
    for c in part.children:
        c.start, c.end = start, end
        _flatten(c, start, end)
