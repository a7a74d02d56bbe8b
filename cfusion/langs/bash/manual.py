"""What a utility and its flags do, offline: the machine's man page, read from its roff source (man(7) or mdoc(7))
without rendering it, or else the shipped table distilled from tldr-pages and cheat/cheatsheets (see NOTICE).
`cfusion explain` reads these; `cfusion data descriptions` builds the table."""

from __future__ import annotations

import bz2
import functools
import gzip
import json
import lzma
import os
import re
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cfusion.errors import DataError

TABLE = "utilities.json.gz"
DESCRIPTION_CHARS = 160  # one line of `explain` output
MAN_TIMEOUT_S = 2.0  # `man -w` answers in tens of ms; a hung man-db must not hang `explain`
_MAX_PAGE_BYTES = 8 << 20  # the largest man pages (bash, zshall) are under 1 MB


@dataclass(frozen=True)
class Page:
    """A utility's one-line summary and its flags: every spelling (`-a`, `--all`) maps to a one-line description."""

    name: str
    summary: str
    options: dict[str, str] = field(hash=False)  # so that a Page can still be hashed (by name, summary, source)
    source: str  # "man:/usr/share/man/man1/ls.1.gz", "tldr" or "cheatsheets"


# ------------------------------------------------------------------------------------------------ lookup


@functools.lru_cache(maxsize=1024)
def page(utility: str, subcommand: str | None = None) -> Page | None:
    """The page for `utility`, or None when nothing knows it. With `subcommand`, `utility-subcommand` (`git-push`) is
    tried before `utility`; each name in the machine's man pages, then in the shipped table. Cached: call
    `page.cache_clear()` after changing PATH."""
    names = [utility]
    if subcommand and _SUBCOMMAND.fullmatch(subcommand):  # `push`, not `file.txt` or `-v`: no `man -w` wasted
        names.insert(0, f"{utility}-{subcommand}")
    # A subcommand's own page, from either source, says more about its flags than the parent's man page does.
    for name in names:
        found = man_page(name) or shipped_page(name)
        if found is not None:
            return found
    return None


_SUBCOMMAND = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_NAME = re.compile(r"[A-Za-z0-9_][\w.+@:-]*")  # no `/` (man -w would read any path) and no leading `-` (an option)


def man_page(name: str) -> Page | None:
    """The man page of `name` in section 1, 6 or 8, located with `man -w` and parsed here; None when `man` is
    missing, fails, or finds nothing readable."""
    if not _NAME.fullmatch(name):
        return None
    try:
        found = subprocess.run(
            ["man", "-w", name],
            capture_output=True,
            text=True,
            timeout=MAN_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = found.stdout.splitlines()
    if found.returncode != 0 or not lines or not lines[0].strip():
        return None
    path = Path(lines[0].strip())
    # `man -w printf` may answer printf(3) on a machine without printf(1): not a utility.
    section = re.fullmatch(r"man(\w+)", path.parent.name)
    if section and section.group(1)[0] not in "168":
        return None
    return read_man_file(path, name)


def read_man_file(path: Path, name: str | None = None) -> Page | None:
    """Parse a man page file (plain, .gz, .bz2, .xz), following one `.so` redirection; None when it cannot be read
    or says nothing (no summary and no options)."""
    path = Path(path)
    text = _read_text(path)
    for _ in range(2):  # `.so man1/gunzip.1` stubs; two hops at most, so a loop cannot hang
        if text is None:
            return None
        so = re.match(r"\s*\.so\s+(\S+)", text)
        if not so:
            break
        target = path.parent.parent / so.group(1)
        path = next((p for p in _compressed(target) if p.is_file()), target)
        text = _read_text(path)
    if text is None:
        return None
    found = parse_roff(text, name or re.sub(r"\.\w+(\.(gz|bz2|xz|lzma))?$", "", path.name), f"man:{path}")
    return found if found.summary or found.options else None


def _compressed(path: Path) -> list[Path]:
    return [path] + [path.with_name(path.name + ext) for ext in (".gz", ".bz2", ".xz")]


def _read_text(path: Path) -> str | None:
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}.get(path.suffix, open)
    try:
        with opener(path, "rb") as f:
            raw = f.read(_MAX_PAGE_BYTES)
    except (OSError, EOFError, lzma.LZMAError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # older pages in ISO 8859-1; every byte decodes


def shipped_page(name: str) -> Page | None:
    """The page of `name` in the table shipped with cfusion (tldr-pages, cheat/cheatsheets), or None."""
    entry = _table().get(name)
    if entry is None:
        return None
    return Page(name, entry.get("summary", ""), dict(entry.get("options", {})), entry.get("source", "tldr"))


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    try:
        data = (resources.files(__package__) / TABLE).read_bytes()
    except OSError:
        return {}  # a source checkout before `cfusion data descriptions` ran
    return json.loads(gzip.decompress(data))["pages"]


def flag_help(page: Page, flag: str) -> str | None:
    """What `flag` does on `page`: exact spelling first; `--color=auto` as `--color`; a cluster `-la` as
    `-l: ...; -a: ...` when every letter is known; `-n5` as `-n`. None when the page does not say."""
    opts = page.options
    if flag in opts:
        return opts[flag]
    if not flag.startswith("-") or flag in ("-", "--"):
        return None
    if "=" in flag:
        head = flag.split("=", 1)[0]
        if head in opts:
            return opts[head]
    if flag.startswith("--"):
        return None
    body = flag[1:]
    if all(f"-{c}" in opts for c in body):  # `-la`
        known = [f"-{c}" for c in body]
    else:  # `-n5`, `-vC3`: letters, the last one taking the number
        m = re.fullmatch(r"([A-Za-z?@]+)(\d[\d.]*)", body)
        if m is None or not all(f"-{c}" in opts for c in m.group(1)):
            return None
        known = [f"-{c}" for c in m.group(1)]
    if len(known) == 1:
        return opts[known[0]]
    return "; ".join(f"{f}: {opts[f]}" for f in known)


# ------------------------------------------------------------------------------------------------ roff text

_GLYPHS = {
    "aq": "'", "cq": "'", "oq": "'", "lq": '"', "rq": '"', "dq": '"', "Bq": '"', "bq": ",", "em": "—", "en": "–",
    "hy": "-", "mi": "-", "-": "-", "bu": "•", "co": "©", "rg": "®", "tm": "™", "ga": "`", "ti": "~", "ha": "^",
    "rs": "\\", "sl": "/", "ba": "|", "or": "|", "at": "@", "sh": "#", "Do": "$", "lB": "[", "rB": "]", "lC": "{",
    "rC": "}", "la": "<", "ra": ">", "Fo": "«", "Fc": "»", "->": "→", "<-": "←", "de": "°", "mu": "×", "di": "÷",
    "+-": "±", "pl": "+", "eq": "=", "ss": "ß", "fm": "'", "dg": "†", "ua": "↑", "da": "↓", "<=": "≤", ">=": "≥",
    "!=": "≠", "oe": "œ", "ae": "æ", "ff": "ff", "fi": "fi", "fl": "fl", "ca": "^", "ci": "○", "sq": "□",
    "char46": ".", "char39": "'", "char92": "\\",
}  # fmt: skip
_STRINGS = {"Aq": "'", "lq": '"', "rq": '"', "R": "®", "Tm": "™", "aq": "'", "dq": '"', "Lq": '"'}
_CHARS = {"-": "-", "e": "\\", "E": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "'": "'", "`": "`", ".": ".",
          "_": "_", "t": " ", "a": "", "\n": ""}  # fmt: skip
_ESCAPE = re.compile(
    r"""\\(?:
      (?P<font>f(?:\[[^\]]*\]|\(..|.))
    | (?P<glyph>\(..|\[[^\]]*\])
    | (?P<string>\*(?:\(..|\[[^\]]*\]|.))
    | (?P<quoted>[hvwoDlLNRXbxSZAB]'[^']*')
    | (?P<register>[nmMgkFYVs](?:\(..|\[[^\]]*\]|[-+]?\d\d?|[-+]?.)?)
    | (?P<char>.)
    )""",
    re.X | re.S,
)


def _escape(m: re.Match) -> str:
    if m.group("glyph"):
        g = m.group("glyph")
        key = g[1:] if g[0] == "(" else g[1:-1]
        if key.startswith("u") and re.fullmatch(r"u[0-9A-F]{4,6}(_[0-9A-F]{4,6})*", key):
            return chr(int(key[1:].split("_")[0], 16))
        return _GLYPHS.get(key, "")
    if m.group("string"):
        s = m.group("string")[1:]
        return _STRINGS.get(s[1:] if s[0] == "(" else s.strip("[]"), "")
    if m.group("char") is not None:
        return _CHARS.get(m.group("char"), "" if m.group("char") in "&%|^,/:cdpuz!{}r$" else m.group("char"))
    return ""  # fonts, sizes, motions, registers: no text of their own


def _render(text: str) -> str:
    """Roff text with its escapes replaced by the characters they print (`\\fB\\-a\\fR` -> `-a`)."""
    return _ESCAPE.sub(_escape, text) if "\\" in text else text


def _strip_comment(line: str) -> str:
    """`line` without its `\\"` or `\\#` comment (a backslash escaped as `\\\\` starts none)."""
    i = line.find("\\")
    while i != -1 and i + 1 < len(line):
        if line[i + 1] in '"#':
            return line[:i]
        i = line.find("\\", i + 2)
    return line


def _args(s: str) -> list[str]:
    """A macro line's arguments: split at blanks, `"quoted args"` kept whole with `""` for a quote inside."""
    out, i, n = [], 0, len(s)
    while i < n:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            break
        if s[i] == '"':
            i += 1
            buf = []
            while i < n:
                if s[i] == '"':
                    if s[i + 1 : i + 2] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                step = 2 if s[i] == "\\" else 1
                buf.append(s[i : i + step])
                i += step
            out.append("".join(buf))
        else:
            j = i
            while j < n and s[j] not in " \t":
                j += 2 if s[j] == "\\" else 1
            out.append(s[i:j])
            i = j
    return out


_SENTENCE_END = re.compile(r"[.!?](?=\s+[^a-z\s])")
_ABBREVIATIONS = frozenset("e.g. i.e. etc. vs. cf. approx. resp. incl. ca. no. esp. viz. et al.".split())


def _first_sentence(text: str) -> str:
    """The first sentence of `text`, whitespace normalised, capped at DESCRIPTION_CHARS."""
    text = " ".join(text.split())
    for m in _SENTENCE_END.finditer(text):
        word = text[: m.end()].rsplit(" ", 1)[-1].lower()
        if word not in _ABBREVIATIONS and not re.fullmatch(r"(\w\.)+", word):  # `e.g.`, `U.S.`
            text = text[: m.end()]
            break
    if len(text) > DESCRIPTION_CHARS:
        text = text[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
    return text


_SPELLING = re.compile(r"--?[A-Za-z0-9?@#][\w.+?@#-]*")
_NEGATABLE = re.compile(r"--\[no-?\]-?([\w][\w.-]*)")  # `--[no-]signed`


def _spellings(tag: str) -> list[str]:
    """The option spellings an entry's tag names: `-a, --all` -> [-a, --all]; `--color[=WHEN]` -> [--color];
    `-exec command ;` -> [-exec]. Empty unless the tag starts with an option."""
    out: list[str] = []
    for part in re.split(r",\s*|\s+\|\s+|\s+or\s+", tag.strip()):
        word = part.split(maxsplit=1)[0] if part.strip() else ""
        negatable = _NEGATABLE.match(word)
        if negatable:
            out += [f"--{negatable.group(1)}", f"--no-{negatable.group(1)}"]
            continue
        m = _SPELLING.match(word)
        if m is None:
            if not out:
                return []  # `<pid> [...]`, `LS_COLORS`: not an option entry
            continue
        out.append(m.group(0).rstrip("."))
    return out


# ------------------------------------------------------------------------------------------------ man(7), mdoc(7)

# Font macros print their arguments: the first set spaced, the second set run together (alternating fonts).
_SPACED_FONTS = frozenset("B I SM SB R".split())
_JOINED_FONTS = frozenset("BR RB BI IB IR RI".split())
# Lines whose contents are no text of the page: macro definitions, ignored blocks, tables, equations.
_SKIP_UNTIL = {"de": ".", "de1": ".", "am": ".", "ig": ".", "TS": "TE", "EQ": "EN", "PS": "PE"}
_ELSE = re.compile(r"[.']\s*el\s+([.'].*)")
_CONTROL = re.compile(r"[.']\s*(\S*)")  # a control line's request or macro name: `.  .` ends a `.de` too


def _lines(text: str) -> list[str]:
    """The page's lines, comments dropped and lines ending in an escaped newline joined to the next."""
    out: list[str] = []
    pending = ""
    for line in text.split("\n"):
        line = _strip_comment(line)
        if line.endswith("\\") and (len(line) - len(line.rstrip("\\"))) % 2 == 1:
            pending += line[:-1]
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return _without_blocks(out)


def _without_blocks(lines: list[str]) -> list[str]:
    """The lines outside macro definitions, ignored blocks, tables, equations and pictures (_SKIP_UNTIL), which say
    nothing about the options; pod2man's `.el` branch counts as its own request."""
    out, skip_until = [], None
    for line in lines:
        control = _CONTROL.match(line)
        if skip_until is not None:
            if control and control.group(1) == skip_until:
                skip_until = None
            continue
        branch = _ELSE.match(line)
        request = _CONTROL.match(branch.group(1)) if branch else control
        if request and request.group(1) in _SKIP_UNTIL:
            skip_until = _SKIP_UNTIL[request.group(1)]
            continue
        out.append(line)
    return out


class _Entries:
    """Collects (tags, body text) entries: tags are rendered tag lines, the body the entry's first paragraph."""

    def __init__(self) -> None:
        self.options: dict[str, str] = {}
        self.tags: list[str] = []
        self.body: list[str] = []
        self.open = False  # the body still takes text

    def flush(self) -> None:
        if self.tags and self.body:
            description = _first_sentence(" ".join(self.body))
            if description:
                for tag in self.tags:
                    for spelling in _spellings(tag):
                        self.options.setdefault(spelling, description)  # the first entry of a flag wins
        self.tags, self.body, self.open = [], [], False

    def tag(self, text: str) -> None:
        """Another tag line: a new entry, unless the current one has no body yet (`.TP`/`.TQ` stacks)."""
        if self.body:
            self.flush()
        self.tags.append(text)
        self.open = True

    def text(self, text: str) -> None:
        if self.open and self.tags and text.strip():
            self.body.append(text)

    def close(self) -> None:
        """The end of a paragraph: the first one is the description."""
        if self.body:
            self.open = False


def parse_roff(text: str, name: str, source: str = "roff") -> Page:
    """Parse a man page's roff source (man(7), or mdoc(7) when it has `.Sh`/`.Dd`) into a Page."""
    lines = _lines(text)
    if any(line.startswith((".Dd", ".Sh ", ".Nd ")) for line in lines[:400]):
        summary, options = _parse_mdoc(lines, name)
    else:
        summary, options = _parse_man(lines)
    return Page(name, summary, options, source)


def _parse_man(lines: list[str]) -> tuple[str, dict[str, str]]:
    entries = _Entries()
    section, heading_next, name_raw = "", False, []
    mode = None  # "tag": the next text line is a `.TP` tag; "para": the first line of a paragraph (DocBook tags)
    candidate = ""  # a paragraph's first line, a tag if `.RS` follows (DocBook: `.PP`, `\-n, \-\-dry\-run`, `.RS 4`)
    for line in lines:
        # pod2man writes `.ie n .IP "..."` for terminals and `.el .IP "..."` for print: the second is the cleaner.
        branch = _ELSE.match(line)
        if branch:
            line = branch.group(1)
        text: str | None = None
        raw: str | None = None
        if line[:1] in (".", "'"):
            parts = line[1:].strip().split(None, 1)
            macro = parts[0] if parts else ""
            rest = parts[1] if len(parts) > 1 else ""
            if macro in _SPACED_FONTS or macro in _JOINED_FONTS:
                args = _args(rest)
                if not args:
                    continue  # applies to the next line, which is read as text
                raw = (" " if macro in _SPACED_FONTS else "").join(args)
                text = _render(raw)
            elif macro in ("SH", "SS"):
                entries.flush()
                mode, candidate = None, ""
                heading = " ".join(_args(rest))
                if macro == "SH":
                    section = _render(heading).strip().upper()
                    heading_next = not heading
                continue
            elif macro == "TP":
                mode = "tag"
                if entries.body:
                    entries.flush()
                continue
            elif macro == "TQ":
                mode = "tag"
                continue
            elif macro == "IP":
                args = _args(rest)
                tag = _render(args[0]).strip() if args else ""
                if tag:
                    entries.tag(tag)
                    mode = None
                elif mode == "candidate" and candidate:
                    entries.tag(candidate)  # help2man: `.HP`, the flags, `.IP`, the description
                    mode, candidate = None, ""
                else:
                    entries.close()
                continue
            elif macro in ("PP", "P", "LP", "HP"):
                entries.flush()
                mode, candidate = "para", ""
                continue
            elif macro == "sp":
                entries.close()
                if mode != "tag":
                    mode, candidate = "para", ""  # Asciidoctor: `.sp`, the flags, `.RS 4`, the description
                continue
            elif macro == "RS":
                if mode == "candidate" and candidate:
                    entries.tag(candidate)
                    mode, candidate = None, ""
                else:
                    entries.close()
                continue
            elif macro in ("RE", "EX", "nf"):
                entries.close()
                continue
            elif macro == "br" and mode == "candidate":
                candidate += ", "
                continue
            elif macro == "OP":
                text = "[" + " ".join(_render(a) for a in _args(rest)) + "]"
            else:
                continue  # .PD .in .ft .UR .ds .if ...: no text worth keeping
        elif not line.strip():
            entries.close()
            continue
        else:
            raw, text = line, _render(line)
        if heading_next:
            section, heading_next = text.strip().upper(), False
            continue
        if section == "NAME":
            name_raw.append(raw if raw is not None else text)
            continue
        if mode == "tag":
            entries.tag(text)
            mode = None
        elif mode == "para" and entries.open and not entries.body:
            entries.text(text)  # `.TP`, the flags, `.sp`, the description
            mode = None
        elif mode == "para":
            candidate, mode = text, "candidate"
        elif mode == "candidate" and candidate.endswith(", "):
            candidate += text
        else:
            if mode == "candidate":
                mode, candidate = None, ""  # an ordinary paragraph
            entries.text(text)
    entries.flush()
    return _man_summary(" ".join(name_raw)), entries.options


def _man_summary(raw: str) -> str:
    """The text after the dash of `.SH NAME`'s line: `ls \\- list directory contents`."""
    # The dash between blanks first: names have dashes of their own (`openssl\-req \- PKCS#10 ...`).
    dash = re.search(r"\s(?:\\-|\\\(em|\\\(en|\\\[em\]|--?)\s", raw) or re.search(r"\\-", raw)
    if dash is None:
        return ""
    return _summary(_render(raw[dash.end() :]))


def _summary(text: str) -> str:
    """One line, without the closing period some pages and most tldr summaries have (`Archiving utility.`)."""
    text = " ".join(text.split()).strip(" -")
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


_MDOC_CALLABLE = frozenset(
    "Ac Ad An Ao Ap Aq Ar At Bc Bo Bq Brc Bro Brq Bsx Bx Cd Cm Dc Do Dq Dv Dx Ec Em En Eo Er Es Ev Fa Fc Fl Fn Fo Fr "
    "Ft Fx Ic In Li Lk Ms Mt Nm No Ns Nx Oc Oo Op Ox Pa Pc Pf Po Pq Qc Ql Qo Qq Sc So Sq St Sx Sy Ta Tn Ux Va Vt Xc "
    "Xo Xr Sm".split()
)
_MDOC_ENCLOSE = {"Op": "[]", "Dq": '""', "Qq": '""', "Sq": "''", "Pq": "()", "Aq": "<>", "Bq": "[]", "Brq": "{}"}
_MDOC_OPEN = {"Oo": "[", "Do": '"', "Qo": '"', "So": "'", "Po": "(", "Ao": "<", "Bo": "[", "Bro": "{"}
_MDOC_CLOSE = {"Oc": "]", "Dc": '"', "Qc": '"', "Sc": "'", "Pc": ")", "Ac": ">", "Bc": "]", "Brc": "}"}
_MDOC_WORDS = {"Ux": "UNIX", "Bx": "BSD", "Nx": "NetBSD", "Fx": "FreeBSD", "Ox": "OpenBSD", "Dx": "DragonFly",
               "Bsx": "BSD/OS", "At": "AT&T UNIX"}  # fmt: skip
_CLOSING = frozenset(".,;:)]?!")


def _mdoc_text(tokens: list[str], name: str) -> str:
    """One mdoc macro line's text: `Fl a , Fl -all` -> `-a, --all`; `Op Fl v` -> `[-v]`."""
    out: list[str] = []
    glue = False  # the next word attaches to the previous one (`Ns`, an opening delimiter)
    closers: list[str] = []

    def emit(word: str, left: bool = False) -> None:
        nonlocal glue
        if out and (glue or left or word in _CLOSING):
            out[-1] += word
        else:
            out.append(word)
        glue = word in ("(", "[")

    def plain(tok: str) -> bool:
        return tok not in _MDOC_CALLABLE and tok not in _CLOSING

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok not in _MDOC_CALLABLE:
            emit(_render(tok))
        elif tok == "Fl":
            flags = []
            while i < len(tokens) and plain(tokens[i]):
                flags.append("-" + _render(tokens[i]))
                i += 1
            for flag in flags or ["-"]:
                emit(flag)
        elif tok == "Nm" and (i >= len(tokens) or not plain(tokens[i])):
            emit(name)
        elif tok == "Xr" and i + 1 < len(tokens):
            emit(f"{_render(tokens[i])}({tokens[i + 1]})")
            i += 2
        elif tok in ("Ns", "Pf"):
            glue = True
        elif tok == "Ap":
            emit("'", left=True)
            glue = True
        elif tok in _MDOC_ENCLOSE:
            emit(_MDOC_ENCLOSE[tok][0])
            glue = True
            closers.append(_MDOC_ENCLOSE[tok][1])
        elif tok in _MDOC_OPEN:
            emit(_MDOC_OPEN[tok])
            glue = True
        elif tok in _MDOC_CLOSE:
            emit(_MDOC_CLOSE[tok], left=True)
        elif tok in _MDOC_WORDS:
            emit(_MDOC_WORDS[tok])
        elif tok == "St" and i < len(tokens):
            emit("POSIX" if tokens[i].startswith("-p1003") else "the standard")  # `St -p1003.1-2008`
            i += 1
        elif tok == "Sm" and i < len(tokens):
            i += 1  # `Sm off`: spacing mode, no text
        # every other macro (Ar, Cm, Pa, ...) prints its arguments as they are
    for closer in reversed(closers):
        emit(closer, left=True)
    return " ".join(out)


def _parse_mdoc(lines: list[str], name: str) -> tuple[str, dict[str, str]]:
    entries = _Entries()
    section, summary, shown_name = "", "", name
    tag_lines: list[str] | None = None  # `.It Fl L Xo` ... `.Xc`: a tag spread over several lines
    for line in lines:
        if line[:1] not in (".", "'"):
            if not line.strip():
                continue  # mdoc pages break paragraphs with .Pp only
            if tag_lines is not None:
                tag_lines.append(_render(line))
            elif section != "NAME":
                entries.text(_render(line))
            continue
        tokens = _args(line[1:].strip())
        macro = tokens[0] if tokens else ""
        args = tokens[1:]
        if tag_lines is not None:
            tag_lines.append(_mdoc_text([t for t in tokens if t != "Xc"], shown_name))
            if "Xc" in tokens:
                entries.tag(" ".join(tag_lines))
                tag_lines = None
        elif macro in ("Sh", "Ss"):
            entries.flush()
            if macro == "Sh":
                section = " ".join(args).upper()
        elif macro == "Nm" and section == "NAME" and args:
            shown_name = _render(args[0]).rstrip(",")
        elif macro == "Nd":
            summary = " ".join(_render(a) for a in args)
        elif macro == "It":
            entries.flush()
            if args and args[-1] == "Xo":
                tag_lines = [_mdoc_text(args[:-1], shown_name)]
            elif args:
                entries.tag(_mdoc_text(args, shown_name))
        elif macro in ("Pp", "Lp", "PP", "El", "Bl", "Bd", "Ed", "Dl", "D1"):
            entries.close()
        elif section != "NAME":
            entries.text(_mdoc_text(tokens, shown_name))
    entries.flush()
    return _summary(summary), entries.options


# ------------------------------------------------------------------------------------------------ the shipped table

_PLATFORMS = ("common", "linux", "osx")  # when a page repeats, the first platform's wins
_PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}(?!\})")
_ALTERNATIVES = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")
_ALT_TOKEN = re.compile(r"\ue000(\d+)\ue001")  # stands for a `{{[-a|--all]}}` choice while the command is split
_HOLE = "\ue002"  # stands for any other `{{placeholder}}`: a value, never a flag
# tldr's mnemonics: `[c]reate`, `g[z]ipped`; a bracket not touching a word (`[Interactive] Open`) stays.
_MNEMONIC = re.compile(r"(?<=\w)\[(\w{1,5})\]|\[(\w{1,5})\](?=\w)")


def _description(line: str) -> str:
    text = _MNEMONIC.sub(lambda m: m.group(1) or m.group(2), line).strip().rstrip(":").strip()
    return _first_sentence(text[:1].upper() + text[1:])


def _split_command(command: str) -> tuple[list[str], list[list[str]]]:
    """The command's words with `{{[-a|--all]}}` choices as `_ALT_TOKEN`s and other placeholders as `_HOLE`, and the
    choices' spellings. Quotes stay on their words, so a quoted `"-x"` is no flag."""
    choices: list[list[str]] = []

    def hole(m: re.Match) -> str:
        whole = _ALTERNATIVES.fullmatch(m.group(1))
        if whole is None:
            return _HOLE
        choices.append([a.strip() for a in whole.group(1).split("|")])
        return f"\ue000{len(choices) - 1}\ue001"

    text = _PLACEHOLDER.sub(hole, command)
    lexer = shlex.shlex(text, posix=False, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # an unbalanced quote
        words = text.split()
    return words, choices


def _flag_name(word: str) -> str | None:
    """`--output=x` -> `--output`; `-p{{password}}` -> `-p`; a value (`-`, `-{{n}}`, `"-x"`) -> None."""
    name = word.split("=", 1)[0].split(_HOLE, 1)[0]
    if len(name) < 2 or name == "--" or not name.startswith("-") or not _SPELLING.fullmatch(name):
        return None
    return name


def single_flag(command: str, words: list[str]) -> tuple[str, ...] | None:
    """The spellings of the one flag that `command` gives its utility (`words`: `["git", "push"]`), or None when it
    runs another utility or gives none or several. `{{[-a|--all]}}` is one flag spelled two ways."""
    tokens, choices = _split_command(command)
    if tokens[:1] == ["sudo"]:
        tokens = tokens[1:]
    for i, word in enumerate(words):
        if i >= len(tokens):
            return None
        alt = _ALT_TOKEN.fullmatch(tokens[i])
        if tokens[i] != word and not (alt and word in choices[int(alt.group(1))]):
            return None
    flags: set[tuple[str, ...]] = set()
    for token in tokens[len(words) :]:
        if token == "--" or token[0] in "();<>|&":
            break  # the end of options, or of this simple command
        alt = _ALT_TOKEN.match(token)
        if alt:
            spellings = choices[int(alt.group(1))]
            dashed = [s for s in spellings if s.startswith("-")]
            if not dashed:
                continue  # `{{[ls|list]}}`: a subcommand, not a flag
            names = [_flag_name(s) if " " not in s else None for s in spellings]
            if len(dashed) != len(spellings) or None in names:
                return None  # `{{[-la|-l --all]}}`: several flags
            flags.add(tuple(dict.fromkeys(n for n in names if n)))
        else:
            name = _flag_name(token)
            if name:
                flags.add((name,))
    return flags.pop() if len(flags) == 1 else None


def _tldr_page(path: Path) -> dict | None:
    """One tldr page: its summary and the options its single-flag examples describe."""
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((line[2:].split() for line in lines if line.startswith("# ")), None)
    if not title:
        return None
    summary = next((line[1:].strip() for line in lines if line.startswith(">") and "More information" not in line), "")
    options: dict[str, str] = {}
    weight: dict[str, int] = {}
    description = None
    for line in lines:
        line = line.strip()
        if line.startswith("- "):
            description = _description(line[2:])
        elif description and len(line) > 2 and line[0] == line[-1] == "`":
            _add(options, weight, single_flag(line[1:-1], title), description, len(line))
            description = None
    return {"summary": _summary(summary), "options": options}


def _add(
    options: dict[str, str], weight: dict[str, int], spellings: tuple[str, ...] | None, description: str, cost: int
) -> None:
    """Record `description` for `spellings`, unless a shorter example (one that does less besides) already did."""
    if not spellings:
        return
    for spelling in spellings:
        if spelling not in options or cost < weight[spelling]:
            options[spelling], weight[spelling] = description, cost


def _drop_known_clusters(options: dict[str, str]) -> None:
    """`-xvf` goes when `-x`, `-v` and `-f` are each known: flag_help joins theirs."""
    for flag in [f for f in options if re.fullmatch(r"-[A-Za-z0-9]{2,}", f)]:
        if all(f"-{c}" in options for c in flag[1:]):
            del options[flag]


def build_table(tldr_root: Path, cheatsheets_root: Path | None = None) -> dict:
    """The shipped table: {"pages": {name: {"summary", "options", "source"?}}} from tldr's `pages/{common,linux,osx}`
    (one page per name, common before linux before osx) and the options cheat/cheatsheets adds where tldr has none.
    Only examples that give their utility exactly one flag describe it."""
    tldr_root = Path(tldr_root)
    if not tldr_root.is_dir():
        raise DataError(f"no such tldr pages folder: {tldr_root}")
    if (tldr_root / "pages").is_dir():
        tldr_root = tldr_root / "pages"
    folders = [tldr_root / p for p in _PLATFORMS if (tldr_root / p).is_dir()]
    if not folders:
        raise DataError(f"{tldr_root} has none of the tldr platform folders {', '.join(_PLATFORMS)}")
    if cheatsheets_root is not None and not Path(cheatsheets_root).is_dir():
        raise DataError(f"no such cheatsheets folder: {cheatsheets_root}")
    pages: dict[str, dict] = {}
    for folder in folders:
        for md in sorted(folder.glob("*.md")):
            if md.stem not in pages:
                found = _tldr_page(md)
                if found is not None:
                    pages[md.stem] = found
    if cheatsheets_root is not None:
        _add_cheatsheets(pages, Path(cheatsheets_root))
    for entry in pages.values():
        _drop_known_clusters(entry["options"])
        entry["options"] = dict(sorted(entry["options"].items()))
    return {"pages": dict(sorted(pages.items()))}


def _add_cheatsheets(pages: dict[str, dict], root: Path) -> None:
    from cfusion.langs.bash.importers import import_cheatsheets  # the corpus importers: only when building

    added: dict[str, dict[str, str]] = {}
    weights: dict[str, dict[str, int]] = {}
    for pair in import_cheatsheets(root):
        words = pair.code.split()
        words = words[1:] if words[:1] == ["sudo"] else words
        sheet = (pair.id or "").removeprefix("cheat/").rsplit(":", 1)[0]
        # A sheet's asides about other tools (`ls -Z` in selinux) and its sketches (`tar -z ... -> tar -Ipigz ...`)
        # describe no flag well.
        if not words or words[0] != sheet or "..." in pair.code or "->" in pair.code:
            continue
        title = [words[0]]
        if len(words) > 1 and f"{words[0]}-{words[1]}" in pages:
            title.append(words[1])  # `git push --force` in the git sheet adds to git-push
        name = "-".join(title)
        known = pages.get(name, {}).get("options", {})
        spellings = single_flag(pair.code, title)
        if not spellings or any(s in known or re.fullmatch(r"-\w{2,}", s) for s in spellings):
            continue  # tldr has it, or a cluster or glued value (`-xvf`, `-oKexAlgorithms`) that says one thing
        description = _first_sentence(pair.nl)
        _add(added.setdefault(name, {}), weights.setdefault(name, {}), spellings, description, len(pair.code))
    for name, options in added.items():
        pages.setdefault(name, {"summary": "", "options": {}, "source": "cheatsheets"})["options"].update(options)


def write_table(table: dict, out: Path) -> int:
    """Write the table gzipped, atomically (a temp file renamed over `out`); returns the bytes written. Fixed mtime
    and key order, so the same input gives the same bytes."""
    out = Path(out)
    data = gzip.compress(
        json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), compresslevel=9, mtime=0
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)
