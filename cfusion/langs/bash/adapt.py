"""Carrying a request's literals (file names, paths, numbers, quoted text) into a command recalled for a known request.

A command recalled from memory answers a similar known request with that request's own arguments: asked to `show the
first 20 lines of data.csv`, recall finds `Show the first 10 lines of file.txt` -> `head -n 10 file.txt`. `adapt`
pairs the literals the two requests do not share, kind by kind and in order (file.txt -> data.csv, 10 -> 20), and
replaces each old one where it stands in the command's arguments. Values of another shape (a glob for a name) and
numbers of another unit (days for hours) are not paired, nor archives of two formats where the command reads one
(`cat archive.tar | tar x` cannot read `backup.tar.gz`; `tar xf` finds the format itself). When the known request
names no file but the command has placeholder files (`wc -l myfile.txt` for `count the lines of a file`), the
request's files take their places, in order, if there are as many; placeholder URLs, `*.ext` globs and the names tldr
left as `process_name` likewise.
A plain word the request swaps for another in the same place (`... to alice` -> `... to bob`, `... to user root`
-> `... to bob`) follows where it is a whole argument, and so does the one quoted word of the known request that
stands as an argument, for the one file name the request names that nothing took
(`"mksdcard"` -> `secret.key`: NL2Bash quotes names that have no extension). The numbers tldr placeholders
were filled with (pid 1234, port 8080) take the request's unitless number. An adaptation must leave a valid command
with the same template (utilities and flags; a `-10` flag may become `-20`), or the command is kept as it was.

A folder's bare name is a literal too (`the folder src`, `... under src`), so it takes a known quoted name's place
(`cp -R SRCFOLDER /backup` -> `cp -R src /backup`). So is a user's name (`as user postgres`, `owned by user bob`): it
takes only a user's place, a known one or the `alice` tldr filled in (`su - alice -c "ls"` -> `su - postgres -c
"createdb shop"` for `run command "createdb shop" as user postgres`; tldr's command `"ls"` takes the quoted one).

Three additions then fill what the known request left out or had otherwise: a size the request names sets the unit
and comparison of find's `-size` on that number (`-size -100c` -> `-size +100M` for `larger than 100MB`); the one
folder the request names becomes the `.`, `~` or `/` that a lone `find` searches (`find . -size +50k` ->
`find /srv -size +50k`; a bare name, where the request searches in it: `find src -name "*.py"`); and a count of lines
the request asks for joins a lone `head` or `tail` that has none (`tail server.log` -> `tail -n 100 server.log`; the
template gains `-n`). Values that are not plain words are
shell-quoted, so a literal never becomes code. Measured in benchmarks/notebook/ ("Literals" and "Filling in what the
known request left out").
"""

from __future__ import annotations

import difflib
import itertools
import re
import shlex

from cfusion.langs.bash import literals as lit
from cfusion.langs.bash.importers import FILL_COMMAND, FILL_NUMBERS, FILL_USER
from cfusion.langs.bash.syntax import arguments, template_tokens, valid

_FIND_SIZES = {"byte": "c", "kb": "k", "mb": "M", "gb": "G"}  # find -size's suffixes
_SAFE = re.compile(r"[\w.\-/~*+,:@%=]+")
_VARIABLES = re.compile(
    r"(?:[\w.\-/~+,:@%=]*(?:\$[A-Za-z_]\w*|\$\{[A-Za-z_]\w*\}))+[\w.\-/~+,:@%=]*"
)  # `"$X"` only expands
_CAPS = re.compile(r"[A-Z][A-Z0-9_]{2,}/?")  # `DIR_NAME`: a placeholder file
_ANGLED = re.compile(r"<[A-Za-z_][\w -]*>")  # `find -name "<fileName>"`: a placeholder in a cheatsheet's way
_NAME_PLACEHOLDER = re.compile(r"[a-z]+(?:_[a-z]+)*_name")  # tldr's `process_name`, `container_name`: a name to fill
_PACKED = re.compile(
    r"\.(tar(?:\.(?:gz|bz2|xz|zst|lz|lzma|z))?|tgz|tbz2?|txz|gz|bz2|xz|zst|zip|7z|rar|z|lz4|lzma)$", re.I
)
_READS_FORMAT = re.compile(  # a command that reads one archive or compression format: a (de)compressor, tar told
    # which one (`xzf`, `-xjf`, `--gzip`) or tar reading a pipe; `tar xf x.tar.xz` finds the format itself
    r"(?<![\w.-])(?:zcat|gzcat|bzcat|xzcat|zstdcat|gunzip|gzip|bzip2|bunzip2|xz|unxz|zstd|unzstd|unzip|zip|7za?|unrar|"
    r"lz4|lzma|unlzma)(?=\s|$)|(?<![\w.-])tar(?:\s+[a-zA-Z]*[zjJZ][a-zA-Z]*(?=\s)|[^|;&]*?\s(?:-[a-zA-Z]*[zjJZ]"
    r"[a-zA-Z]*|--(?:gzip|gunzip|ungzip|bzip2|xz|zstd|lzma|compress|uncompress))(?=\s|$))|\|\s*tar(?=\s|$)"
)
_PACKED_ALIASES = {"tgz": "tar.gz", "tbz": "tar.bz2", "tbz2": "tar.bz2", "txz": "tar.xz"}
_FIXED_FILES = re.compile(r"~/?|/|\.{1,2}/?|/dev/\S*|/proc/\S*|/sys/\S*|-")


def _site(kind: str, value: str) -> re.Pattern:
    """Where the value stands in a command: a number as a whole number (`10` in `-n 10`, `+10M`, `-10`); an extension
    at the end of a word (`*.txt`); a file as a whole word, quoted text, path component or host (`bob@server.com`);
    other text as a whole word, quoted text or the user of `bob@host`."""
    v = re.escape(value)
    if kind == "num":
        return re.compile(rf"(?<![\w.]){v}(?![\d.])")
    if kind == "ext":
        return re.compile(rf"{v}(?![\w-])")
    ends = "/@" if kind == "file" else "@" if kind == "text" else ""  # `user@server.com`: a user and a host
    return re.compile(rf"(?<![^\s'\"=({ends}]){v}(?![^\s'\";|&)={ends}])")


def _shape(value: str) -> tuple[bool, bool, bool]:
    """Whether a value has spaces, glob characters, shell characters: `ls -l` is no name, `my*` no file name."""
    return bool(re.search(r"\s", value)), bool(re.search(r"[*?[]", value)), bool(re.search(r"[$`|;&<>()]", value))


def _pairs(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """a and b paired in order or, for up to 3, in the order that pairs most values of one shape (`Alias "cmd" as
    "name"` against `set alias "name" for command "cmd"`); a pair of values with and without glob characters, or of
    numbers in different units (but for whole sizes, _resized), is dropped; an order that pairs more values of one
    unit comes first, and a user's name pairs only with a user's. When a and b differ in length, users pair apart
    and nothing else does where either has one; otherwise files pair as names (`x.txt`) and paths (`/x`) apart,
    where those agree in number; nothing else pairs."""
    if len(a) != len(b):
        path = lambda v: "/" in v[0] or v[0][:1] in "~."  # noqa: E731
        a_users, b_users = [v for v in a if v[1] == "user"], [v for v in b if v[1] == "user"]
        if a_users or b_users:  # users pair apart, and then nothing else
            return _pairs(a_users, b_users) if len(a_users) == len(b_users) else []
        a_names, b_names = [v for v in a if not path(v)], [v for v in b if not path(v)]
        a_paths, b_paths = [v for v in a if path(v)], [v for v in b if path(v)]
        kept = []
        for x, y in ((a_names, b_names), (a_paths, b_paths)):
            if x and len(x) == len(y):
                kept += _pairs(x, y)
        return kept
    order = b
    if 1 < len(b) <= 3:
        same = lambda bs: (  # noqa: E731
            sum(u == w for (_, u), (_, w) in zip(a, bs) if u or w),  # a user's name takes a user's place
            sum(_shape(x) == _shape(y) for (x, _), (y, _) in zip(a, bs)),
        )
        order = max(itertools.permutations(b), key=same)  # the first best: in order when that is as good
    return [
        ((x, u), (y, w))
        for (x, u), (y, w) in zip(a, order)
        if _shape(x)[1] == _shape(y)[1]
        and not (u and w and u != w and not _resized(u, w, y))  # 30 days, 48 hours
        and (u != "folder" or w == "folder")  # a known folder's name takes a folder's, not any quoted word
        and (u != "name" or not _shape(y)[0])  # `container_name` takes a name, not `sh run.sh`
        and (u == "user") == (w == "user")  # a user's name takes a user's place, and only that
    ]


def _format(value: str) -> str:
    """The archive or compression format a file's name says (`tar.gz` for `x.tgz` and `x.tar.gz`, `zip`), or "": a
    command that reads one format does not read another."""
    m = _PACKED.search(value)
    return _PACKED_ALIASES.get(m.group(1).lower(), m.group(1).lower()) if m else ""


def _resized(u: str, w: str, y: str) -> bool:
    """Whether a size in unit u may take the whole size y in unit w: _with_sizes then sets find's suffix."""
    return u in _FIND_SIZES and w in _FIND_SIZES and y.isdigit()


def _template(code: str) -> list[str]:
    return [re.sub(r"^-\d+$", "-N", t) for t in template_tokens(code)]


def _replace(code: str, kind: str, old: str, new: str) -> str:
    """code with old replaced by new at each of its sites; new is shell-quoted where it is not a plain word, and
    quoted text keeps its quotes (double quotes become single ones where new would expand in them; the request's
    own variables, `$USR`, may). Returns code unchanged when any site cannot take the new value safely: a site
    inside another quoted string (`'say "hi"'`, `"it's 'x'"`) takes none."""
    if _SAFE.fullmatch(new):
        return _site(kind, old).sub(lambda m: new, code)
    variables = _VARIABLES.fullmatch(new) is not None  # `$USR`, `${HOME}/x`: the request's own variables
    out, at = [], 0
    for m in _site(kind, old).finditer(code):
        start, end = m.start(), m.end()
        before, after = code[start - 1 : start], code[end : end + 1]
        quoted = before == after and before in ("'", '"') and _quoting(code, start - 1) == "" == _quoting(code, end + 1)
        if quoted and before == "'" and "'" not in new:
            value = new
        elif quoted and before == '"' and (variables or not re.search(r'["$`\\!]', new)):
            value = new
        elif quoted and before == '"' and "'" not in new:  # `-c "ls"` -> `-c 'echo $! > pid'`
            start, end, value = start - 1, end + 1, shlex.quote(new)
        elif before in ("", " ") and after in ("", " ") and _quoting(code, start) == "":
            value = f'"{new}"' if variables else shlex.quote(new)
        else:
            return code
        out += [code[at:start], value]
        at = end
    return "".join(out) + code[at:]


def _quoting(code: str, at: int) -> str:
    """The quotes in force just before code[at]: "" (none, or inside `$(...)` or backquotes, where quoting starts
    afresh), "'" or '"'."""
    stack, i = [""], 0
    while i < at:
        c, top = code[i], stack[-1]
        if top == "'":
            if c == "'":  # only a single quote ends a single-quoted string
                stack.pop()
        elif c == "\\":
            i += 1  # the next character is escaped
        elif top == '"' and c == '"' or top == "(" and c == ")" or top == "`" and c == "`":
            stack.pop()
        elif c == "`" or c == "$" and code[i + 1 : i + 2] == "(" or top == "(" and c == "(":
            stack.append("`" if c == "`" else "(")
            i += c == "$"
        elif top != '"' and c in "'\"":
            stack.append(c)
        i += 1
    return stack[-1] if stack[-1] in ("'", '"') else ""


def _placeholders(code: str, known: str, kind: str) -> list[str]:
    """The command's arguments of a kind that the known request does not name, in order, once each: files
    (`myfile.txt` in `wc -l myfile.txt`; `ALL_CAPS` words), URLs, the extensions of `*.ext` globs, names left as
    tldr wrote them (`pkill "process_name"`), `<placeholders>` (even where the known request names them, as ALL_CAPS
    words), and tldr's user and quoted command (`su - alice -c "ls"`). Fixed places
    (`.`, `/`, `/dev/null`), quoted files (a pattern or an expression more often), and modes (`/u=s`) are none."""
    out = []
    for word in arguments(code):
        bare = word.strip("'\"")
        if kind == "url" and lit.URL.fullmatch(bare):
            value = bare
        elif kind == "ext" and (m := re.fullmatch(r"\*(\.[A-Za-z]\w{0,5})", bare)):
            value = m.group(1)
        elif kind == "num" and word in FILL_NUMBERS:
            value = word
        elif kind == "text" and (
            _NAME_PLACEHOLDER.fullmatch(bare)
            or _ANGLED.fullmatch(bare)
            or word == FILL_USER
            or _quoted(word, FILL_COMMAND)
        ):
            value = bare
        elif kind == "file" and word[:1] not in "'\"" and not _FIXED_FILES.fullmatch(word):
            named = lit.word_kind(word) == ("file", word) and re.fullmatch(r"[\w./~-]*[A-Za-z][\w./~-]*", word)
            value = word if named or _CAPS.fullmatch(word) else None
        else:
            value = None
        caps = value is not None and (_CAPS.fullmatch(value) or _ANGLED.fullmatch(value))  # even where known names it
        if value is not None and value not in out and (caps or not lit.mentions(known, kind, value)):
            out.append(value)
    return out


def _placeholder_unit(value: str) -> str:
    """The unit of a placeholder: tldr's user (`alice`) a user's, a name tldr left (`process_name`) a name's."""
    return "user" if value == FILL_USER else "name" if _NAME_PLACEHOLDER.fullmatch(value) else ""


def _quoted(word: str, value: str) -> bool:
    return word in (f'"{value}"', f"'{value}'")


def adapt(code: str, known: str, request: str) -> str:
    """The Bash command recalled for `known`, with the literals of `known` that `request` does not share replaced by
    those of `request` (module docstring); the command as it was when nothing can be carried over safely."""
    old, new = lit.found(known), lit.found(request)
    out = code
    for kind in ("text", "url", "file", "ext", "num"):
        a = [(v, u) for k, v, u in old if k == kind and not lit.mentions(request, k, v)]
        b = [(v, u) for k, v, u in new if k == kind and not lit.mentions(known, k, v)]
        if not b:
            continue
        if not a and (kind != "num" or all(u in ("", "line") for _, u in b)):
            a = [(v, _placeholder_unit(v)) for v in _placeholders(out, known, kind)]
        if len(a) != len(b):  # a folder's bare name is a guess: the others may pair without it
            a, b = ([v for v in x if v[1] != "folder"] for x in (a, b))
        for (x, u), (y, w) in _pairs(a, b):
            if kind == "file" and _format(x) != _format(y) and _READS_FORMAT.search(out):
                continue  # `cat archive.tar | tar x` reads no `backup.tar.gz`
            out = _carried(out, "file" if "folder" in (u, w) else kind, x, y)  # a folder's name: `data/*` too
    for x, y in _swapped_words(known, request, out):
        out = _carried(out, "text", x, y)
    out = _named_file(out, old, new, known, request)
    return _with_count(_with_root(_with_sizes(out, request), known, request), request)


def held(adapted: str, request: str) -> float:
    """The share of the request's literals that a recalled command holds once they are carried in (`adapted`, from
    adapt): 1 for `kill -9 4242` and `kill the process with pid 4242`, 0.5 for `source /etc/myapp` and `copy
    config.yaml to /etc/myapp`, 0 when the request names none. The ranking's evidence that a command answers this
    request with its own arguments."""
    found = lit.found(request)
    if not found:
        return 0.0
    return sum(lit.mentions(adapted, kind, value) for kind, value, _ in found) / len(found)


_COMPARED = re.compile(r"\b(larger|bigger|greater|more|over|above|smaller|less|under|below)\s+(?:than\s+)?(\d+)", re.I)


def _with_sizes(code: str, request: str) -> str:
    """code with each size the request names set, unit and comparison, on that number where find's `-size` reads it:
    `files larger than 50M` recalls `find . -size -50k`, which becomes `find . -size +50M`."""
    signs = {
        n: "-" if w.lower() in ("smaller", "less", "under", "below") else "+" for w, n in _COMPARED.findall(request)
    }
    for kind, value, unit in lit.found(request):
        if kind == "num" and unit in _FIND_SIZES and value.isdigit():  # find reads whole sizes only
            site = re.compile(rf"(-size\s+)([-+]?){value}[ckMG](?![\w.])")
            sign = signs.get(value, r"\g<2>")  # the request's comparison, else the command's
            code = site.sub(rf"\g<1>{sign}{value}{_FIND_SIZES[unit]}", code)
    return code


def _with_root(code: str, known: str, request: str) -> str:
    """code with the `.`, `~` or `/` that its one `find` starts from replaced by the request's one folder path when
    neither the command nor the known request names a path: `find files larger than 50M in /srv` recalls `find .
    -size +50k`, which searches /srv as `find /srv -size +50k`, `... under /home` turns the `~` of `find ~ -name x`
    (recalled for `... in the home directory`) into `/home`, and `... in /opt` the `/` of `find / -atime 20`
    (recalled for `... in the file system`) into `/opt`."""
    paths = [v for k, v, _ in lit.found(request) if k == "file" and v[:1] in "/~" and not lit.mentions(code, k, v)]
    paths = [v for v in paths if not lit.FILE.fullmatch(v.rstrip("/").rsplit("/", 1)[-1])]  # a folder, not `x/a.txt`
    paths = [v for v in paths if not _FIXED_FILES.fullmatch(v)]  # `... and discard errors to /dev/null`
    paths += [v for v in _searched_folders(request) if not lit.mentions(code, "file", v)]  # `under src`
    if len(paths) != 1 or any(k == "file" and v[:1] in "/~." or u == "folder" for k, v, u in lit.found(known)):
        return code
    sites = list(re.finditer(r"(?<![\w/.-])find\s+(\./?|~/?|/)(?=\s|$)", code))
    if len(sites) != 1 or len(re.findall(r"(?<![\w/.-])find(?=\s|$)", code)) != 1:
        return code
    new = paths[0] if _SAFE.fullmatch(paths[0]) else shlex.quote(paths[0])
    out = code[: sites[0].start(1)] + new + code[sites[0].end(1) :]
    return out if valid(out) else code


def _searched_folders(request: str) -> list[str]:
    """The bare folder names (lit.is_folder) a request searches in (`... in the folder src`, `... under src`), none
    where it is where things go (`... to the folder x`)."""
    nouns = "|".join(lit.FOLDERS)
    out = []
    for _, value, unit in lit.found(request):
        place = rf"\b(?:in|under|inside|within|from)\s+(?:the\s+)?(?:(?:{nouns})\s+)?{re.escape(value)}(?![\w.-])"
        if unit == "folder" and re.search(place, request, re.I):
            out.append(value)
    return out


_COUNT = re.compile(
    r"\b(?:first|last|top)\s+(\d+)\b|\b(\d+)\s+(?:lines?|rows?|largest|biggest|smallest|newest|oldest|latest)\b", re.I
)
_COUNT_FLAG = re.compile(r"-[nc]\d*|--lines|--bytes|-\d+")  # -n 5, -n5, -5, --lines=5, -c 5


def _asked_count(request: str) -> str | None:
    """The number of lines a request asks for (`the last 100 lines`, `the first 20`, `the 5 largest`), or None; a
    range (`the last 18 to 24 months`) or a number of something else (`the last 3 days`) is none."""
    m = _COUNT.search(request)
    if m is None:
        return None
    after = request[m.end(1 if m.group(1) else 2) :]
    if re.match(r"\s*(?:to|-|and|or)\s*\d", after) or lit.unit_of((after.split() or [""])[0]) not in ("", "line"):
        return None
    return m.group(1) or m.group(2)


def _with_count(code: str, request: str) -> str:
    """code with `-n N` after its one `head` or `tail` when the request asks for N lines (_asked_count), N is not
    their default 10 and neither the command nor its `head`/`tail` has a count: `tail server.log` -> `tail -n 100
    server.log`. The template gains `-n`, on purpose: the count is what was asked."""
    count = _asked_count(request)
    tokens = template_tokens(code)
    ends = [i for i, t in enumerate(tokens) if t in ("head", "tail")]
    if count is None or count == "10" or len(ends) != 1 or lit.mentions(code, "num", count):  # 10: their default
        return code
    flags = itertools.takewhile(lambda t: t.startswith("-"), tokens[ends[0] + 1 :])
    sites = list(re.finditer(r"(?<![\w/.-])(?:head|tail)(?=\s|$|\|)", code))
    if any(_COUNT_FLAG.fullmatch(f) for f in flags) or len(sites) != 1:
        return code
    out = f"{code[: sites[0].end()]} -n {count}{code[sites[0].end() :]}"
    return out if valid(out) else code


def _carried(code: str, kind: str, old: str, new: str) -> str:
    """code with old replaced by new (_replace) when the result parses and keeps the template; else code as it was."""
    tried = _replace(code, kind, old, new)
    return tried if tried != code and valid(tried) and _template(tried) == _template(code) else code


def _named_file(code: str, old: tuple, new: tuple, known: str, request: str) -> str:
    """code with the one quoted plain word of the known request (`old`: lit.found(known)) that is still a whole argument
    of it replaced by the one file name the request names (`new`: lit.found(request)) and the command lacks: `Change
    permissions of "mksdcard" to 755` -> `sudo chmod 755 mksdcard` answers `change the permissions of secret.key to
    600` as `sudo chmod 600 secret.key`. NL2Bash quotes the names of files and folders that have no extension."""
    args = {t.strip("'\"") for t in arguments(code)}
    words = [v for k, v, _ in old if k == "text" and re.fullmatch(r"[\w.-]*[A-Za-z][\w.-]*", v) and v in args]
    words = [v for v in words if len(v) > 1 and not lit.mentions(request, "text", v)]
    files = [v for k, v, _ in new if k == "file" and "/" not in v and lit.FILE.fullmatch(v)]  # a name, not a folder
    files = [v for v in files if not lit.mentions(known, "file", v) and not lit.mentions(code, "file", v)]
    return _carried(code, "file", words[0], files[0]) if len(words) == len(files) == 1 else code


def _swapped_words(known: str, request: str, code: str) -> list[tuple[str, str]]:
    """Plain words of the known request that the request swaps for another, one for one in the same place, where the
    known word is a whole argument of the command: `... to alice` -> `... to bob` in `chown alice file.txt`. The known
    word may follow a noun of its kind that the request leaves out (`to user root` -> `to bob`), and is kept wherever
    the request still names it."""
    args = {t.strip("'\"") for t in arguments(code)}
    a = [w.rstrip(lit.TRAILING) for w in known.split()]
    b = [w.rstrip(lit.TRAILING) for w in request.split()]
    if not args.intersection(a).difference(b):
        return []  # no argument of the command is a word the request drops: nothing to align
    ops = difflib.SequenceMatcher(None, [w.lower() for w in a], [w.lower() for w in b], autojunk=False).get_opcodes()
    out = []
    for op, i1, i2, j1, j2 in ops:
        lead = {w.lower() for w in a[i1 : i2 - 1]}  # at most one word before the known one: its kind (`user`)
        if op == "replace" and j2 - j1 == 1 and i2 - i1 <= 2 and lead <= lit.ROLES:
            x, y = a[i2 - 1], b[j1]
            plain = lit.plain(x) and lit.plain(y) and not lit.word_kind(y)
            if x in args and plain and not lit.mentions(request, "text", x):
                out.append((x, y))
    return out
