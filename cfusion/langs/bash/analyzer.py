"""What a Bash command line destroys, read from its tree-sitter syntax tree.

`findings(line)` walks every command the line runs: pipelines, lists, subshells, substitutions, loops and functions;
through wrappers (`sudo`, `env`, `timeout` ...), runners (`xargs`, `find -exec`, `sh -c`, `eval`, `ssh host '...'`)
and redirections. Each finding names a category, a severity, the part of the line responsible and a one-line reason.
What each utility's subcommands and flags do lives in the data table `commands.toml`; the structural rules (what a
redirection truncates, a script piped into a shell, a fork bomb) live here. Nothing is ever run.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cfusion.langs.bash.syntax import _parser

CATEGORIES = {
    "deletes": "deletes or overwrites data",
    "stops": "stops processes, services, the machine or the network",
    "permissions": "changes permissions or ownership broadly",
    "weakens": "weakens security",
    "fetched": "runs code fetched from the network",
    "uninstalls": "uninstalls software",
    "caution": "worth a second look",
}
DESTRUCTIVE = frozenset(CATEGORIES) - {"caution"}
# What a request may ask for to have a finding (cfusion.langs.bash.effects): its category, or one of these.
ASKS = frozenset(DESTRUCTIVE | {"edits", "archives", "moves", "writes", "syncs"})
SEVERITIES = ("low", "medium", "high")
_TABLE = Path(__file__).with_name("commands.toml")
_MAX_DEPTH = 4  # sh -c "ssh h 'eval ...'": shell text inside shell text, this deep at most
_EMPTY_WRITERS = {":", "true", "echo", "printf"}  # `: > f`, `echo -n > f`: only the truncation remains
_PRINTERS = {"echo", "printf", "print"}  # their arguments are text, not files they read
_PATTERN_OPTIONS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-lname", "-ilname"}
_GLOB = re.compile(r"(?<!\\)[*?[]")
_HARMLESS = {"--help", "--version", "--dry-run", "--dryrun"}  # flags that make any command only describe itself


@dataclass(frozen=True)
class Finding:
    category: str  # a key of CATEGORIES
    severity: str  # low, medium or high
    start: int  # the part responsible: line[start:end]
    end: int
    part: str
    reason: str
    asks: str | None  # the request words that ask for this (cfusion.langs.bash.effects); None: never an effect
    host: str | None = None  # the host the command runs on, for commands given to ssh

    @property
    def destructive(self) -> bool:
        return self.category in DESTRUCTIVE

    @property
    def label(self) -> str:
        return CATEGORIES[self.category]

    def to_json(self) -> dict:
        out = {"category": self.category, "severity": self.severity, "start": self.start, "end": self.end}
        out.update(part=self.part, reason=self.reason, label=self.label, destructive=self.category in DESTRUCTIVE)
        if self.host is not None:
            out["host"] = self.host
        return out

    def __str__(self) -> str:
        where = f" on {self.host}" if self.host else ""
        return f"{self.label} ({self.severity}){where}: {self.part} ({self.reason})"


@dataclass(frozen=True)
class ParseError:
    line: int  # 1-based
    column: int  # 1-based, in characters
    offset: int  # 0-based character offset
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@functools.lru_cache(maxsize=65536)
def findings(line: str) -> tuple[Finding, ...]:
    """Every finding in the Bash line, in order of position; destructive ones and cautions alike."""
    scan = _Scan(line)
    scan.run()
    seen, out = set(), []
    for f in sorted(scan.out, key=lambda f: (f.start, -f.end, f.category)):
        key = (f.category, f.start, f.end, f.host)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return tuple(out)


def destructive(line: str) -> tuple[Finding, ...]:
    """The findings that destroy something (every category but caution)."""
    return tuple(f for f in findings(line) if f.destructive)


def parse_error(line: str) -> ParseError | None:
    """Where tree-sitter-bash first fails to parse the line, or None when it parses."""
    data = line.encode("utf-8", "surrogatepass")
    root = _parser().parse(data).root_node
    if not root.has_error:
        return None
    bad, stack = None, [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            if bad is None or node.start_byte < bad.start_byte:
                bad = node
            continue
        stack.extend(c for c in node.children if c.has_error or c.is_missing or c.type == "ERROR")
    if bad is None:
        bad = root
    raw = data[bad.start_byte : bad.end_byte].decode("utf-8", "replace")
    offset = len(data[: bad.start_byte].decode("utf-8", "replace")) + len(raw) - len(raw.lstrip())
    if bad.is_missing:
        message = f"missing {bad.type!r}"
    else:
        text = raw.strip()
        first = text.split("\n", 1)[0]
        first = first[:30] + ("..." if len(first) > 30 or "\n" in text else "")
        if not text:
            message = "unexpected end of input"
        elif bad.end_byte >= len(data.rstrip()) and "\n" in text:
            message = f"{first!r} is not closed before the end"
        else:
            message = f"unexpected {first!r}"
    row = line.count("\n", 0, offset)
    column = offset - (line.rfind("\n", 0, offset) + 1)
    return ParseError(row + 1, column + 1, offset, message)


# ---------------------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class _Rule:
    category: str
    severity: str
    reason: str
    asks: str | None
    sub: tuple[str, ...] = ()
    any_operand: frozenset[str] = frozenset()
    operands: int = 0
    flags: frozenset[str] = frozenset()
    unless: frozenset[str] = frozenset()
    word: re.Pattern | None = None
    args: re.Pattern | None = None
    not_args: re.Pattern | None = None
    path: str | None = None
    source: str | None = None
    target: str | None = None
    dashdash: bool = False


@dataclass(frozen=True)
class _Utility:
    rules: tuple[_Rule, ...] = ()
    value_flags: frozenset[str] = frozenset()
    clusters: bool = True
    oldstyle: bool = False


@dataclass(frozen=True)
class _Wrapper:
    kind: str = "prefix"  # prefix, join or remote
    value_flags: frozenset[str] = frozenset()
    string_flags: frozenset[str] = frozenset()
    query_flags: frozenset[str] = frozenset()
    skip: int = 0
    operand: bool = False
    stop_at: frozenset[str] = frozenset()
    module_flag: str | None = None
    sub: str | None = None  # the wrapper runs a command only after this subcommand (docker exec)


_RULE_KEYS = {"sub", "any_operand", "operands", "flags", "unless", "word", "args", "not_args", "path", "source"}
_RULE_KEYS |= {"target"}
_RULE_KEYS |= {"dashdash", "category", "severity", "reason", "asks"}


class TableError(ValueError):
    """commands.toml names an unknown key, category, severity or path class."""


class _Table:
    def __init__(self, data: dict):
        self.paths = {name: re.compile(rx) for name, rx in data["paths"].items()}
        self.wrappers: dict[str, _Wrapper] = {}
        for name, spec in data.get("wrapper", {}).items():
            w = _Wrapper(
                kind=spec.get("kind", "prefix"),
                value_flags=frozenset(spec.get("value_flags", ())),
                string_flags=frozenset(spec.get("string_flags", ())),
                query_flags=frozenset(spec.get("query_flags", ())),
                skip=spec.get("skip", 0),
                operand=spec.get("operand", False),
                stop_at=frozenset(spec.get("stop_at", ())),
                module_flag=spec.get("module_flag"),
                sub=spec.get("sub"),
            )
            for n in [name, *spec.get("also", ())]:
                self.wrappers[n] = w
        self.utilities: dict[str, _Utility] = {}
        self.globs: list[tuple[str, _Utility]] = []
        for name, spec in data.get("utility", {}).items():
            u = _Utility(
                rules=tuple(self._rule(name, r) for r in spec.get("rules", ())),
                value_flags=frozenset(spec.get("value_flags", ())),
                clusters=spec.get("clusters", True),
                oldstyle=spec.get("oldstyle", False),
            )
            for n in [name, *spec.get("also", ())]:
                if any(c in n for c in "*?["):
                    self.globs.append((n, u))
                else:
                    self.utilities[n] = u
        self.targets = [self._target(t) for t in data.get("target", ())]
        self.variables = {cat: re.compile(rx) for cat, rx in data.get("variables", {}).items()}
        self.content = {cat: re.compile(rx) for cat, rx in data.get("content", {}).items()}
        for cat in [*self.variables, *self.content]:
            self._check(f"content or variables {cat}", cat, "low")
        fetch = data["fetch"]
        self.fetchers = frozenset(fetch["fetchers"])
        self.runners = frozenset(fetch["runners"])
        self.output_flags = {name: frozenset(flags) for name, flags in fetch.get("output", {}).items()}
        self.url_name_flags = {name: frozenset(flags) for name, flags in fetch.get("url_name", {}).items()}
        self.url_name_by_default = frozenset(fetch.get("url_name_by_default", ()))

    def _check(self, where: str, category: str, severity: str, *paths: str | None) -> None:
        if category not in CATEGORIES:
            raise TableError(f"{where}: category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        if severity not in SEVERITIES:
            raise TableError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        for p in paths:
            if p is not None and p not in self.paths:
                raise TableError(f"{where}: path class must be one of {', '.join(self.paths)}, got {p!r}")

    def _rule(self, name: str, r: dict) -> _Rule:
        unknown = set(r) - _RULE_KEYS
        if unknown:
            raise TableError(f"utility {name}: unknown rule key(s) {', '.join(sorted(unknown))}")
        self._check(f"utility {name}", r["category"], r["severity"], r.get("path"), r.get("source"), r.get("target"))
        if r.get("asks", "deletes") not in ASKS:
            raise TableError(f"utility {name}: asks must be one of {', '.join(sorted(ASKS))}, got {r['asks']!r}")
        return _Rule(
            category=r["category"],
            severity=r["severity"],
            reason=r["reason"],
            asks=r.get("asks", None if r["category"] == "caution" else r["category"]),
            sub=tuple(r.get("sub", ())),
            any_operand=frozenset(r.get("any_operand", ())),
            operands=r.get("operands", 0),
            flags=frozenset(r.get("flags", ())),
            unless=frozenset(r.get("unless", ())),
            word=re.compile(r["word"]) if "word" in r else None,
            args=re.compile(r["args"]) if "args" in r else None,
            not_args=re.compile(r["not_args"]) if "not_args" in r else None,
            path=r.get("path"),
            source=r.get("source"),
            target=r.get("target"),
            dashdash=r.get("dashdash", False),
        )

    def _target(self, t: dict) -> tuple[str, frozenset[str], re.Pattern | None, _Rule]:
        self._check(f"target {t['path']}", t["category"], t["severity"], t["path"])
        rule = _Rule(t["category"], t["severity"], t["reason"], t.get("asks", t["category"]))
        return t["path"], frozenset(t["op"]), re.compile(t["content"]) if "content" in t else None, rule

    def utility(self, name: str) -> _Utility | None:
        u = self.utilities.get(name)
        if u is None:
            u = next((u for pattern, u in self.globs if fnmatch.fnmatchcase(name, pattern)), None)
        return u

    def is_(self, cls: str, path: str) -> bool:
        return self.paths[cls].search(path) is not None


@functools.cache
def _table() -> _Table:
    with _TABLE.open("rb") as f:
        return _Table(tomllib.load(f))


# ---------------------------------------------------------------------------------------------- words


@dataclass(frozen=True)
class _Word:
    text: str  # quotes and escapes removed
    raw: str
    start: int  # in the analysed line's characters
    end: int
    node: object = None
    glob: bool = False  # holds a glob character the shell expands (unquoted)


def _unquote(node, text: str) -> str:
    kind = node.type
    if kind == "raw_string":
        return text[1:-1]
    if kind == "ansi_c_string":
        return text[2:-1]
    if kind == "string":
        return re.sub(r'\\([$`"\\])', r"\1", text[1:-1])
    if kind == "concatenation":
        return "".join(_unquote(c, c.text.decode("utf-8", "replace")) for c in node.children)
    if kind == "word":
        return re.sub(r"\\(.)", r"\1", text)
    return text


def _has_glob(node) -> bool:
    if node.type == "word":
        return _GLOB.search(node.text.decode("utf-8", "replace")) is not None
    if node.type == "concatenation":
        return any(_has_glob(c) for c in node.children)
    return False


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _flagset(words: list[str], utility: _Utility) -> tuple[set[str], list[int], bool]:
    """The flags given (clusters expanded: -rf is -rf, -r and -f; --x=v is also --x), the indexes of the operands
    (value flags' values are not operands), and whether `--` ends the options."""
    flags, operands, dashdash, take = set(), [], False, False
    for i, w in enumerate(words):
        if take:
            take = False
            continue
        if dashdash:
            operands.append(i)
            continue
        if i == 0 and utility.oldstyle and re.fullmatch(r"[A-Za-z]+", w):
            w = "-" + w  # tar czf: the first word is a cluster without its dash
        if w == "--":
            dashdash = True
        elif w.startswith("--"):
            flag = w.split("=", 1)[0]
            flags.update((w, flag))
            take = "=" not in w and flag in utility.value_flags
        elif w.startswith("-") and len(w) > 1:
            flags.add(w)
            if utility.clusters and len(w) > 2:
                letters = re.match(r"-([A-Za-z]*)", w).group(1)
                flags.update(f"-{c}" for c in letters)
                take = bool(letters) and w == "-" + letters and f"-{letters[-1]}" in utility.value_flags
            else:
                take = w in utility.value_flags
        else:
            operands.append(i)
    return flags, operands, dashdash


def _sub_matches(pattern: str, word: str) -> bool:
    return any(fnmatch.fnmatchcase(word, alt) for alt in pattern.split("|"))


# ---------------------------------------------------------------------------------------------- the walk


class _Scan:
    """One pass over a line (or over shell text found inside one: `sh -c '...'`), collecting findings in `out`."""

    def __init__(self, line: str, offset: int = 0, host: str | None = None, depth: int = 0, root: _Scan | None = None):
        self.line, self.offset, self.host, self.depth = line, offset, host, depth
        self.data = line.encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(line)
        self.table = _table()
        self.root = root or self
        self.out: list[Finding] = self.root.out if root is not None else []
        self.downloads: set[str] = self.root.downloads if root is not None else set()
        self.stdin: dict[tuple[int, int], str] = {}  # command node (start, end) -> the text it reads on stdin

    def run(self) -> None:
        self.visit(_parser().parse(self.data).root_node)

    # positions -------------------------------------------------------------------------------------------------
    def pos(self, byte: int) -> int:
        return self.offset + (byte if self.ascii else len(self.data[:byte].decode("utf-8", "replace")))

    def word(self, node) -> _Word:
        raw = node.text.decode("utf-8", "replace")
        return _Word(
            _unquote(node, raw), raw, self.pos(node.start_byte), self.pos(node.end_byte), node, _has_glob(node)
        )

    def add(self, rule: _Rule, start: int, end: int) -> None:
        top = self.root.line
        part = top[start:end] if 0 <= start < end <= len(top) else ""
        self.out.append(Finding(rule.category, rule.severity, start, end, part, rule.reason, rule.asks, self.host))

    def add_new(self, category: str, severity: str, start: int, end: int, reason: str, asks: str | None = "") -> None:
        self.add(_Rule(category, severity, reason, category if asks == "" else asks), start, end)

    # nodes -----------------------------------------------------------------------------------------------------
    def visit(self, node) -> None:
        kind = node.type
        if kind == "command":
            self.command(node)
        elif kind == "redirected_statement":
            self.redirected(node)
        elif kind == "function_definition":
            self.function(node)
        elif kind == "pipeline":
            self.pipeline(node)
        elif kind == "variable_assignment":
            self.assignment(node)
        for child in node.children:
            self.visit(child)

    def command(self, node) -> None:
        argv = self.argv(node)
        stdin = self.stdin.get((node.start_byte, node.end_byte), "")
        for c in node.children:
            if c.type == "file_redirect":
                self.redirect(c, node, None)
            elif c.type == "herestring_redirect":
                stdin = " ".join(_unquote(d, d.text.decode("utf-8", "replace")) for d in c.children[1:])
        if argv:
            self.simple(argv, stdin=stdin)

    def simple(self, argv: list[_Word], implied: bool = False, stdin: str = "") -> None:
        """A simple command: its utility's rules, then whatever it runs (wrappers and runners), level by level."""
        table = self.table
        while argv:
            name = _basename(argv[0].text.lstrip("\\"))
            if not name:
                return
            self.utility(name, argv, implied, stdin)
            if name == "find":
                self.find(argv)
                return
            if name == "tee":
                self.tee(argv, stdin)
            self.fetching(name, argv)
            wrapper = table.wrappers.get(name)
            if wrapper is None:
                return
            argv = self.unwrap(name, wrapper, argv)
            implied = implied or wrapper.operand

    def unwrap(self, name: str, w: _Wrapper, argv: list[_Word]) -> list[_Word]:
        """What a wrapper runs: the rest of its words, or nothing once its shell text has been analysed."""
        words = argv[1:]
        if w.sub is not None:
            if not words or words[0].text != w.sub:
                return []
            words = words[1:]
        for i, word in enumerate(words):  # sh -c TEXT, su -c TEXT, sh -lc TEXT, --command=TEXT
            flag, _, value = word.text.partition("=")
            if flag in w.string_flags and value:
                self.nested(word, value, word.start + len(flag) + 1)
            elif i + 1 < len(words) and (
                word.text in w.string_flags or ("-c" in w.string_flags and re.fullmatch(r"-[A-Za-z]+c", word.text))
            ):  # -lc, -ec: a cluster that ends in c takes the text too
                self.nested(words[i + 1])
        if w.module_flag is not None:  # python -m pip uninstall x
            if len(words) >= 2 and words[0].text == w.module_flag:
                return words[1:]
            return []
        rest = _after_options(name, w, words)
        if w.kind == "join":
            if rest:
                self.nested_text(" ".join(x.text for x in rest), rest[0].start, rest[-1].end)
            return []
        if w.kind == "remote":
            if len(rest) >= 2 and rest[1].text == "--":
                rest = [rest[0], *rest[2:]]
            if len(rest) >= 2:
                host = rest[0].text.rsplit("@", 1)[-1]
                if len(rest) == 2:
                    self.nested(rest[1], host=host)
                else:
                    self.nested_text(" ".join(x.text for x in rest[1:]), rest[1].start, rest[-1].end, host)
            return []
        if w.stop_at:
            cut = next((j for j, x in enumerate(rest) if x.text in w.stop_at), len(rest))
            rest = rest[:cut]
        rest = rest[w.skip :]
        if len(rest) == 1 and rest[0].node is not None and rest[0].node.type in ("string", "raw_string"):
            self.nested(rest[0])  # watch 'rm x', sudo "rm x"
            return []
        return rest

    def utility(self, name: str, argv: list[_Word], implied: bool, stdin: str = "") -> None:
        u = self.table.utility(name)
        if u is None or not u.rules:
            return
        words = [w.text for w in argv[1:]]
        flags, idx, dashdash = _flagset(words, u)
        if flags & _HARMLESS:
            return
        if name == "find":  # find's operands are the folders before its expression
            idx = list(range(next((i for i, w in enumerate(words) if w[:1] in ("-", "(", "!")), len(words))))
        operands = [words[i] for i in idx]
        if implied:
            operands.append("")
        raw = " ".join([w.raw for w in argv[1:]] + ([stdin] if stdin else []))
        start, end = argv[0].start, argv[-1].end
        done: set[str] = set()
        for rule in u.rules:
            if rule.category in done or not self.matches(rule, words, flags, operands, dashdash, raw):
                continue
            done.add(rule.category)
            self.add(rule, start, end)

    def matches(self, r: _Rule, words, flags, operands, dashdash, raw) -> bool:
        is_ = self.table.is_
        if r.sub and (len(operands) < len(r.sub) or not all(map(_sub_matches, r.sub, operands))):
            return False
        rest = operands[len(r.sub) :]
        checks = (
            len(rest) >= r.operands,
            not r.any_operand or any(o in r.any_operand for o in operands),
            not r.flags or bool(flags & r.flags),
            not (flags & r.unless),
            r.word is None or any(r.word.fullmatch(w) for w in words),
            r.args is None or r.args.search(raw) is not None,
            r.not_args is None or r.not_args.search(raw) is None,
            r.path is None or any(o and is_(r.path, o) for o in rest),
            r.source is None or any(o and is_(r.source, o) for o in rest[:-1]),
            r.target is None or (len(rest) >= 2 and bool(rest[-1]) and is_(r.target, rest[-1])),
            not r.dashdash or dashdash,
        )
        return all(checks)

    def find(self, argv: list[_Word]) -> None:
        """find's runners (-exec, -execdir, -ok, -okdir run a command on each file) and its unquoted patterns."""
        words = argv[1:]
        i = 0
        while i < len(words):
            text = words[i].text
            if text in ("-exec", "-execdir", "-ok", "-okdir"):
                end = next((j for j in range(i + 1, len(words)) if words[j].text in (";", "+")), len(words))
                self.simple(words[i + 1 : end], implied=True)
                i = end
            elif text in _PATTERN_OPTIONS and i + 1 < len(words) and words[i + 1].glob:
                pattern = words[i + 1]
                reason = f"the shell expands {pattern.raw} before find sees it: quote it ('{pattern.raw}')"
                self.add_new("caution", "low", pattern.start, pattern.end, reason, asks=None)
            i += 1

    def tee(self, argv: list[_Word], stdin: str) -> None:
        words = argv[1:]
        append = any(w.text in ("-a", "--append") for w in words)
        for w in words:
            if not w.text.startswith("-"):
                self.target(w.text, "append" if append else "write", argv[0].start, argv[-1].end, stdin or None)

    def fetching(self, name: str, argv: list[_Word]) -> None:
        """Runs code fetched from the network: `bash <(curl ...)`, `sh -c "$(curl ...)"`, `eval "$(wget ...)"`, or a
        file this line downloaded (`curl -o x.sh URL && bash x.sh`); also records what a fetcher downloads."""
        table = self.table
        if name in table.fetchers:
            self.downloads.update(_downloads(name, [w.text for w in argv[1:]], table))
            return
        if name in self.downloads or argv[0].text.lstrip("./") in self.downloads:
            self.add_new("fetched", "high", argv[0].start, argv[-1].end, "runs a script it downloaded")
            return
        if name not in table.runners and name != "eval" and name not in table.wrappers:
            return
        for w in argv[1:]:
            if w.node is not None and self.fetches(w.node):
                self.add_new("fetched", "high", argv[0].start, argv[-1].end, "runs a script straight from the network")
                return
        if name in table.runners:
            operand = next((w for w in argv[1:] if not w.text.startswith("-")), None)
            if operand is not None and _basename(operand.text) in self.downloads:
                self.add_new("fetched", "high", argv[0].start, argv[-1].end, "runs a script it downloaded")

    def fetches(self, node) -> bool:
        """The node holds a process or command substitution that runs a fetcher."""
        if node.type in ("process_substitution", "command_substitution"):
            stack = [node]
            while stack:
                n = stack.pop()
                if n.type == "command":
                    name = n.child_by_field_name("name")
                    if name is not None and _basename(_unquote(name, name.text.decode())) in self.table.fetchers:
                        return True
                stack.extend(n.children)
            return False
        return any(self.fetches(c) for c in node.children)

    def pipeline(self, node) -> None:
        """`curl URL | sudo bash`, `echo 'rm -rf x' | sh`: a shell or interpreter reading the script from the pipe."""
        table = self.table
        commands = []
        for c in node.children:
            if c.type == "redirected_statement":
                c = c.child_by_field_name("body")
            if c is not None and c.type == "command":
                commands.append(c)
        seen = []
        for c in commands:
            argv = _innermost(self.argv(c), table)
            if not argv:
                continue
            name = _basename(argv[0].text.lstrip("\\"))
            if seen and name in table.runners and _reads_stdin(argv):
                if any(n in table.fetchers for n, _ in seen):
                    self.add_new(
                        "fetched",
                        "high",
                        self.pos(node.start_byte),
                        self.pos(node.end_byte),
                        f"pipes a download straight into {name}",
                    )
                elif name in table.wrappers and seen[-1][0] in _PRINTERS:
                    printed = [w for w in seen[-1][1][1:] if not w.text.startswith("-")]
                    if printed:
                        self.nested_text(" ".join(w.text for w in printed), printed[0].start, printed[-1].end)
            if seen and seen[-1][0] in _PRINTERS:  # echo "DROP TABLE x" | psql, echo 'PermitRootLogin yes' | tee
                self.stdin[(c.start_byte, c.end_byte)] = _printed(seen[-1][1])
            seen.append((name, argv))

    def argv(self, command) -> list[_Word]:
        return [
            self.word(c.children[0] if c.type == "command_name" and c.children else c)
            for i, c in enumerate(command.children)
            if c.type == "command_name" or command.field_name_for_child(i) == "argument"
        ]

    def redirected(self, node) -> None:
        body = node.child_by_field_name("body")
        for c in node.children:  # mysql db <<< "DROP TABLE x", cat <<EOF ... EOF
            if body is not None and body.type == "command" and c.type in ("herestring_redirect", "heredoc_redirect"):
                parts = [d for d in c.children if d.type not in ("<<<", "<<", "<<-", "heredoc_start", "heredoc_end")]
                text = " ".join(_unquote(d, d.text.decode("utf-8", "replace")) for d in parts)
                self.stdin[(body.start_byte, body.end_byte)] = text
        for c in node.children:
            if c.type == "file_redirect":
                self.redirect(c, body, node)
            elif c.type == "heredoc_redirect":
                for r in c.children:
                    if r.type == "file_redirect":
                        self.redirect(r, body, node)

    def redirect(self, r, body, statement) -> None:
        """`> f` alone or after `:`/`true`/`echo -n` empties f; `cmd f > f` destroys cmd's own input; writing to
        a disk, /etc/sudoers, the accounts or shell history files (the [[target]] table)."""
        op = next((c.text.decode() for c in r.children if c.type in (">", ">>", "&>", "&>>", ">|", ">&", "<>")), None)
        dest_node = r.child_by_field_name("destination") or (r.children[-1] if r.children else None)
        if op is None or dest_node is None or dest_node.type in ("number", "file_descriptor"):
            return
        dest = self.word(dest_node)
        if dest.text in ("/dev/null", "/dev/stdout", "/dev/stderr", "-"):
            return
        mode = "append" if op in (">>", "&>>") else "write"
        start, end = self.pos(r.start_byte), self.pos(r.end_byte)
        if statement is not None:
            start = self.pos(statement.start_byte)
            end = self.pos(statement.end_byte)
        argv = _innermost(self.argv(body), self.table) if body is not None and body.type == "command" else []
        text = None
        if argv and _basename(argv[0].text) in _PRINTERS:
            text = _printed(argv)
        elif argv and _basename(argv[0].text) == "cat":
            text = self.stdin.get((body.start_byte, body.end_byte))
        self.target(dest.text, mode, start, end, text)
        if mode != "write":
            return
        if body is None or _writes_nothing(argv):
            self.add_new("deletes", "medium", start, end, f"empties {dest.text}")
            return
        scope = statement.parent if statement is not None and statement.parent.type == "pipeline" else statement
        if scope is not None and _norm(dest.text) in self.inputs(scope, exclude=dest_node):
            self.add_new(
                "deletes", "high", start, end, f"the shell empties {dest.text} before the command reads it: it is lost"
            )

    def inputs(self, scope, exclude) -> set[str]:
        """The words that name files the commands in scope may read: arguments (printers' aside) and `<` sources."""
        found = set()
        stack = [scope]
        while stack:
            n = stack.pop()
            if n.type == "command":
                argv = self.argv(n)
                if argv and _basename(argv[0].text) not in _PRINTERS:
                    found.update(_norm(w.text) for w in argv[1:])
            elif n.type == "file_redirect" and any(c.type == "<" for c in n.children):
                d = n.child_by_field_name("destination") or n.children[-1]
                if d is not exclude:
                    found.add(_norm(_unquote(d, d.text.decode("utf-8", "replace"))))
            stack.extend(n.children)
        return found

    def target(self, path: str, mode: str, start: int, end: int, text: str | None) -> None:
        """Writing `text` (None: unknown) to `path`: the [[target]] rules, then the [content] rules."""
        for cls, ops, content, rule in self.table.targets:
            if (
                mode in ops
                and self.table.is_(cls, path)
                and (content is None or (text or "").strip() == content.pattern)
            ):
                self.add(rule, start, end)
                break
        for category, rx in self.table.content.items():
            if text and rx.search(text):
                self.add_new(category, "high", start, end, f"writes a setting that turns security off into {path}")

    def function(self, node) -> None:
        """A fork bomb: a function that starts copies of itself in a pipe or in the background."""
        name_node, body = node.child_by_field_name("name"), node.child_by_field_name("body")
        if name_node is None or body is None:
            return
        name = name_node.text.decode("utf-8", "replace")
        stack = [body]
        while stack:
            n = stack.pop()
            if n.type == "command":
                cname = n.child_by_field_name("name")
                nxt = n.next_sibling
                if (
                    cname is not None
                    and cname.text.decode() == name
                    and (n.parent.type == "pipeline" or (nxt is not None and nxt.type == "&"))
                ):
                    reason = "a fork bomb: the function starts copies of itself without end"
                    self.add_new("stops", "high", self.pos(node.start_byte), self.pos(node.end_byte), reason)
                    return
            stack.extend(n.children)

    def assignment(self, node) -> None:
        text = _unquote(node, node.text.decode("utf-8", "replace"))
        name, _, value = text.partition("=")
        text = f"{name}={_unquote_value(value)}"
        for category, rx in self.table.variables.items():
            if rx.fullmatch(text):
                reason = "turns a security check off"
                self.add_new(category, "medium", self.pos(node.start_byte), self.pos(node.end_byte), reason)

    # shell text inside the line ----------------------------------------------------------------------------------
    def nested(self, word: _Word, text: str | None = None, start: int | None = None, host: str | None = None) -> None:
        """Shell text held in one word (`sh -c 'rm -rf x'`), analysed where it sits in the line."""
        if text is None:
            text = word.text
            quote = 2 if word.raw.startswith("$'") else 1 if word.raw[:1] in ("'", '"') else 0
            start = word.start + quote
        self.nested_text(text, start, word.end, host, exact=text == self.root.line[start : start + len(text)])

    def nested_text(self, text: str, start: int, end: int, host: str | None = None, exact: bool = False) -> None:
        if self.depth >= _MAX_DEPTH or not text.strip():
            return
        sub = _Scan(text, offset=start, host=host or self.host, depth=self.depth + 1, root=self.root)
        before = len(self.out)
        sub.run()
        if not exact:  # the text was rebuilt (words joined, escapes removed): point at the whole of it
            for i in range(before, len(self.out)):
                f = self.out[i]
                self.out[i] = Finding(
                    f.category, f.severity, start, end, self.root.line[start:end], f.reason, f.asks, f.host
                )


def _unquote_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _norm(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def _after_options(name: str, w: _Wrapper, words: list[_Word]) -> list[_Word]:
    """A wrapper's words after its options (and `env`'s NAME=VALUE words); none when an option only looks a command
    up (`command -v`) or hands shell text over (`su -c`, analysed apart)."""
    i = 0
    while i < len(words):
        text = words[i].text
        if text == "--":
            i += 1
            break
        if text in w.query_flags:
            return []
        if text.startswith("-") and len(text) > 1:
            if text in w.string_flags:
                return []
            i += 2 if text in w.value_flags and "=" not in text else 1
            continue
        if name == "env" and re.match(r"[A-Za-z_]\w*=", text):
            i += 1
            continue
        break
    return words[i:]


def _innermost(argv: list[_Word], table: _Table) -> list[_Word]:
    """The command a chain of prefix wrappers runs (`sudo env X=1 bash` -> `bash`), without analysing anything."""
    while argv:
        name = _basename(argv[0].text.lstrip("\\"))
        w = table.wrappers.get(name)
        if w is None or w.kind != "prefix" or w.string_flags or w.skip > 1 or w.module_flag:
            return argv
        argv = _after_options(name, w, argv[1:])[w.skip :]
    return argv


def _printed(argv: list[_Word]) -> str:
    """What `echo`/`printf` prints, roughly: its operands joined."""
    return " ".join(w.text for w in argv[1:] if not re.fullmatch(r"-[neE]+", w.text))


def _reads_stdin(argv: list[_Word]) -> bool:
    """An interpreter with no script operand (or `-`, or `-s`) reads its program from stdin."""
    words = [w.text for w in argv[1:]]
    if "-s" in words or "-" in words:
        return True
    if "-c" in words or "-e" in words or "-m" in words:
        return False
    return not any(not w.startswith("-") for w in words)


def _writes_nothing(argv: list[_Word]) -> bool:
    """`:`, `true`, `echo -n`, `echo ""`, `printf ''`, `cat /dev/null`: nothing but the truncation happens."""
    if not argv:
        return False
    name, rest = _basename(argv[0].text), [w.text for w in argv[1:]]
    if name in _EMPTY_WRITERS:
        return name in (":", "true") or all(w in ("", "-n", "-e", "-ne", "-en") for w in rest)
    return name == "cat" and rest == ["/dev/null"]


def _downloads(name: str, words: list[str], table: _Table) -> set[str]:
    """The files a fetcher writes: curl -o FILE / -O (the URL's last part); wget -O FILE or the URL's last part."""
    out, urls = set(), [w for w in words if re.match(r"(https?|ftp)://", w)]
    outputs = table.output_flags.get(name, frozenset())
    for i, w in enumerate(words):
        flag, _, value = w.partition("=")
        if w in outputs and i + 1 < len(words):
            out.add(_basename(words[i + 1]))
        elif value and flag in outputs:  # --output=FILE
            out.add(_basename(value))
    by_default = name in table.url_name_by_default and not out
    if by_default or set(words) & table.url_name_flags.get(name, frozenset()):
        out.update(_basename(u.split("?", 1)[0].rstrip("/")) for u in urls)
    return {o for o in out if o and o != "-"}
