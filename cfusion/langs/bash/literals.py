"""The literals a Bash request names: file names, paths, extensions, URLs, numbers with their units, quoted text, a
folder's or a user's bare name. `found` reads them once per request; `skeleton` and `shape` say what a request asks
whatever it names. Pure text: nothing here parses a command.
"""

from __future__ import annotations

import functools
import re

_QUOTED = re.compile(r'"(\S[^"]*?\S|\S)"|\'(\S[^\']*?\S|\S)\'|“([^”]+)”|‘([^’]+)’|`([^`]+)`')
_SKELETON = re.compile(  # _QUOTED, but for a single quote inside a word (`user's`)
    r'"(\S[^"]*?\S|\S)"|(?<!\w)\'(\S[^\']*?\S|\S)\'(?!\w)|“([^”]+)”|‘([^’]+)’|`([^`]+)`'
)
TRAILING = ".,;:!?)]}>"  # punctuation that ends a sentence or a bracket, not a literal
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I)
_PATH = re.compile(r"~|~?/\S*|\.{1,2}/\S*|[\w.~-]+/[\w./~*-]*")
_EXT = re.compile(r"\*?\.[A-Za-z][\w]{0,5}")
FILE = re.compile(r"[\w*-][\w.*-]*\.[A-Za-z][\w]{0,5}")
_NUM = re.compile(r"[-+]?(\d+(?:\.\d+)?)[A-Za-z%]{0,3}")
_ARITHMETIC = re.compile(r"\d\s*[*x×]\s*\d")  # `30*24 hours`: its numbers are not the command's
_NAMED = frozenset(["named", "called"])
_UNITS = {  # a number's unit, after it or in its word; numbers of different units are not paired
    **dict.fromkeys(["b", "byte", "c"], "byte"),
    **dict.fromkeys(["k", "kb", "kib", "kilobyte"], "kb"),
    **dict.fromkeys(["m", "mb", "mib", "megabyte", "meg"], "mb"),
    **dict.fromkeys(["g", "gb", "gib", "gigabyte"], "gb"),
    **dict.fromkeys(["s", "sec", "second"], "second"),
    **dict.fromkeys(["min", "minute"], "minute"),
    **dict.fromkeys(["h", "hr", "hour"], "hour"),
    **dict.fromkeys(["d", "day"], "day"),
    **dict.fromkeys(["w", "week"], "week"),
    **dict.fromkeys(["line", "row"], "line"),
}
_NOT_FILES = frozenset(["e.g", "i.e", "etc"])
_FUNCTION_WORDS = frozenset(
    "a an the this that these those it its of in on at to for from with by as and or not no all any each every some "
    "file files directory directories folder folders name names".split()
)
FOLDERS = frozenset(["directory", "folder", "dir", "subdirectory", "subfolder"])
_FOLDER_WORDS = frozenset(  # what follows `directory` in a request without naming one (`the directory tree and ...`)
    "tree trees hierarchy structure path paths listing list contents content itself recursively downwards".split()
)
_AFTER_NAME = frozenset("to into and from in under with on recursively as".split())  # may follow a folder's name
_BEFORE_FOLDER = frozenset("the a an to into in inside within from under of".split())  # not `the current folder X`
_EXCLUDED = re.compile(r"\b(?:exclud\w*|except\w*|not|without|skip\w*|ignor\w*|prun\w*|omit\w*)\b", re.I)
_AS_USER = frozenset(["as", "to", "by", "of"])  # `run X as user joe`, `switch to user jetty`, `owned by user vivek`
ROLES = frozenset(["user", "group", "owner", "host", "branch", "tag", "container", "service", "package"])


def word_kind(word: str) -> tuple[str, str] | None:
    """(kind, value) of one word when it is a literal. A relative path needs a dot or two slashes or a trailing one,
    so that `and/or` and `regular/normal` are words. A word with `<` in it (`/home/<user>`) is a placeholder."""
    if "<" in word:
        return None
    if URL.fullmatch(word):
        return "url", word
    if _EXT.fullmatch(word):
        return "ext", word.lstrip("*")
    relative = not word.startswith(("/", "~", "."))
    if _PATH.fullmatch(word) and not (relative and "." not in word and word.count("/") < 2 and word[-1] != "/"):
        return "file", word
    if FILE.fullmatch(word) and word.lower() not in _NOT_FILES:
        return "file", word
    if m := _NUM.fullmatch(word):
        return "num", m.group(1)
    return None


def _quoted_kind(value: str) -> tuple[str, str] | None:
    """kind of a quoted value; one with spaces in it is text (None)."""
    return word_kind(value) if not re.search(r"\s", value) else None


def _named(before: list[str], word: str) -> bool:
    """Whether word is a name given by `named X`, `called X` or `named as X`."""
    cue = before[-1:] == ["as"] and before[-2:-1] or before[-1:]
    return bool(cue) and cue[0] in _NAMED and word != "as" and bool(re.fullmatch(r"[\w.-]+", word))


def is_folder(before: list[str], word: str, after: str, raw: str) -> bool:
    """Whether a bare word names a folder: after `the directory` or `the folder` (`the folder src to /backup`, `the
    directory build and everything in it`; `a`, `to`, `in` ... may stand for `the`) or after `under` at the end (`...
    under src`), and followed by the end, punctuation or a word that may follow a name (_AFTER_NAME). None in `the
    directory tree and ...`, `the current folder ending with ...`, `the folder passed as ...`. `after` is the next
    word, `raw` the word with its punctuation."""
    low, after = word.lower(), "" if raw[-1] in TRAILING else after  # `... under src.`: the end
    if not before or not re.fullmatch(r"[\w.-]*[A-Za-z][\w.-]*", word) or not plain(word) or len(word) < 2:
        return False
    if low in _FOLDER_WORDS or low in _AFTER_NAME or after and low.endswith(("ing", "ed")):
        return False
    if before[-1] == "under":
        return after == ""
    article = len(before) < 2 or before[-2] in _BEFORE_FOLDER
    return before[-1] in FOLDERS and article and after in ("", *_AFTER_NAME)


def _user(before: list[str], word: str, after: str, raw: str) -> bool:
    """Whether a bare word names a user: after `as user`, `to user`, `by user` or `of user` (`run X as user joe`,
    `owned by user www-data`, `$USR` too) or `switch user to`, and followed by the end, punctuation or a word that may
    follow a name (_AFTER_NAME). None in `to user and group` or `... to user processes running ...`."""
    after = "" if raw[-1] in TRAILING else after
    switched = before[-3:] == ["switch", "user", "to"]  # `switch user to jenkins`
    if not switched and (len(before) < 2 or before[-1] != "user" or before[-2] not in _AS_USER):
        return False
    name = re.fullmatch(r"\$?[\w.-]*[A-Za-z][\w.-]*", word) and plain(word.lstrip("$"))
    return bool(name) and word.lower() not in ROLES | _AFTER_NAME and after in ("", *_AFTER_NAME)


def unit_of(word: str) -> str:
    word = word.lower().strip(TRAILING + "(")
    return _UNITS.get(word) or _UNITS.get(word.removesuffix("s"), "")


@functools.lru_cache(maxsize=65536)  # a request meets ~30 known ones, and a known request many requests
def found(text: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, value, unit) of the literals a request names, in order (literals); unit: a number's, `folder` for a
    folder's bare name, `user` for a user's name (_user, or quoted after `user`), else ""."""
    out: list[tuple[int, str, str, str]] = []
    for m in _QUOTED.finditer(text):
        value = next(g for g in m.groups() if g is not None)
        kind = _quoted_kind(value)
        named = kind is None and re.search(r"\buser\s+$", text[: m.start()], re.I) and not re.search(r"\s", value)
        out.append((m.start(), *(kind or ("text", value)), "user" if named else ""))  # `the user "olivier"`
    rest = _QUOTED.sub(lambda m: "\0" * len(m.group(0)), text)  # one word that is no literal, in its place
    words = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", rest)] + [(len(text), "")]
    lower = [w.lower() for _, w in words]
    excludes = _EXCLUDED.search(text)  # `excluding the folder aa`: a bare name is a guess, and this one no place to go
    for i, (at, raw) in enumerate(words[:-1]):
        word = raw.lstrip("([{<`'\"").rstrip(TRAILING + "`'\"")  # `readme.txt' is quoted too
        if not word:
            continue
        kind = word_kind(word)
        if kind is not None and kind[0] == "num" and not _ARITHMETIC.search(text):
            out.append((at, *kind, unit_of(word[word.index(kind[1]) + len(kind[1]) :]) or unit_of(words[i + 1][1])))
        elif kind is not None and kind[0] != "num":
            out.append((at, *kind, ""))
        elif kind is None and _named(lower[max(0, i - 2) : i], word):
            out.append((at, "text", word, ""))
        elif kind is None and not excludes and is_folder(lower[max(0, i - 2) : i], word, lower[i + 1], raw):
            out.append((at, "text", word, "folder"))
        elif kind is None and _user(lower[max(0, i - 3) : i], word, lower[i + 1], raw):
            out.append((at, "text", word, "user"))
    return tuple((kind, value, unit) for _, kind, value, unit in sorted(out) if "NNN" not in value)


def literals(text: str) -> list[tuple[str, str]]:
    """(kind, value) of the literals a request names, in order. Kinds: url; file (a path or name.ext); ext (`.log`,
    `*.log`); num (the number of `10`, `100MB`; none when the request multiplies numbers); text (other quoted text,
    the word after `named`/`called` [`as`], a folder's bare name: `the folder src`, `under src` at the end,
    folder, or a user's: `as user postgres`, _user). `partNNN` is NL2Bash's way to write numbered names: no
    literal."""
    return [(kind, value) for kind, value, _ in found(text)]


def user_names(text: str) -> list[str]:
    """The users a request names (`as user postgres`, `the user "olivier"`), in order: its literals of unit user."""
    return [value for _, value, unit in found(text) if unit == "user"]


def skeleton(text: str) -> str:
    """The request with each quoted text replaced by "x": what it asks, whatever it names (`set alias "x" for command
    "x"`). Recall searches with it beside the request itself (cfusion.pipeline.recall.queries). Quoted file
    names, paths, extensions, URLs and numbers stay: they say what is asked (`the ".sh" files`). A single quote
    inside a word is an apostrophe (`the user's file`)."""

    def blank(m: re.Match) -> str:
        return m.group(0) if _quoted_kind(next(g for g in m.groups() if g is not None)) else '"x"'

    return _SKELETON.sub(blank, text)


@functools.lru_cache(maxsize=65536)
def shape(text: str) -> str:
    """What a request asks, whatever it names: lowercased, each literal as its kind, punctuation and articles dropped.
    Two requests of one shape ask the same thing of other arguments: `show the first 20 lines of data.csv` and `Show
    the first 10 lines of file.txt` are both `show first num_ lines of file_`."""
    for kind, value, _ in found(text):
        literal = rf"""(?<![\w.])["'`“‘]?{re.escape(value)}["'`”’]?"""
        text = re.sub(literal, f" {kind}_ ", text, count=1)  # `file_`: no word of the request
    return " ".join(w for w in re.sub(r"[^\w\s]", " ", text.lower()).split() if w not in ("the", "a", "an"))


def mentions(text: str, kind: str, value: str) -> bool:
    """Whether text names the value: numbers as whole numbers; extensions anywhere; others as whole words,
    case-insensitively, `./` and a trailing `/` ignored; a path that goes on (`/a` in `/a/b`) is another."""
    if kind == "num":
        return re.search(rf"(?<![\w.]){re.escape(value)}(?![\d])", text) is not None
    core = value.lower().removeprefix("./").rstrip("/") or value.lower()
    if kind == "ext":
        return core in text.lower()  # `.log` in `app.log`
    # not `a.txt` in `data.txt`, nor `https://x.org` in `https://x.org/a.zip` (a trailing `/` is the same place)
    return re.search(rf"(?<![\w-]){re.escape(core)}(?![\w-]|/[\w.~-])", text.lower()) is not None


def plain(word: str) -> bool:
    """A word that may name a thing: letters, digits, `.`, `_`, `-`, and not a function word."""
    return re.fullmatch(r"[\w.-]+", word) is not None and word.lower() not in _FUNCTION_WORDS
