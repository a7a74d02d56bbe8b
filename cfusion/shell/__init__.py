"""The key bindings that `cfusion shell-init` prints: one snippet per shell in this folder (`cfusion.<shell>`), with
its two keys written in that shell's notation. The snippets only edit the command line; they never run it."""

from __future__ import annotations

import re
from importlib import resources

from cfusion.errors import UsageError

# Alt-m asks, Alt-M (Alt-Shift-m) puts the request back. Among the keys one chord away, only Alt with i, j, k or m is
# unbound in all three shells' defaults: readline's emacs map (plus bash's own), zsh's emacs map with compinit, and
# fish's default and vi maps. Ctrl-letters are all taken, and fish binds Ctrl-X to copy, so a Ctrl-X prefix would
# hold that copy back until the next key. In vi mode Alt-key arrives as Esc then key: Esc-i, Esc-j and Esc-k are
# everyday vi moves typed fast, Esc-m (set a mark) seldom is. Upper-case Alt-M is bound nowhere (readline only folds
# it onto Alt-m).
DEFAULT_KEY = "alt-m"
DEFAULT_RESTORE_KEY = "alt-M"

_PREFIX = "cfusion."
_NOTATION = re.compile(r"^# key notation: (\w+)$", re.M)
# A key's last character. Quotes, backslash, `$`, space, comma and minus are left out: they would need quoting in
# one shell or another, or they separate keys and modifiers.
_BASE = re.compile(r"^[A-Za-z0-9@\[\]^_/.;=+*!?<>~#%&:|{}()]$")
_CTRL_BASE = re.compile(r"^[A-Za-z@\]^_]$")  # the characters that Ctrl turns into a control code
_MODIFIERS = {"ctrl": "ctrl", "c": "ctrl", "control": "ctrl", "alt": "alt", "m": "alt", "meta": "alt"}
# A shell's own notation, passed through as written (e.g. \C-x\C-g, ^X^G, \cx\cg): no quote can break the snippet.
_NATIVE = re.compile(r"^[A-Za-z0-9\\^\[\]@_.-]+$")

Chord = tuple[frozenset[str], str]


def shells() -> list[str]:
    """The shells there is a snippet for."""
    return sorted(p.name[len(_PREFIX) :] for p in resources.files(__name__).iterdir() if p.name.startswith(_PREFIX))


def snippet(shell: str, key: str | None = None, restore_key: str | None = None) -> str:
    """The snippet for `shell`, binding `key` (default: DEFAULT_KEY) to ask cfusion and `restore_key` (default:
    DEFAULT_RESTORE_KEY) to put the request back. Keys are written like alt-m or ctrl-x,ctrl-t (also C-x C-t, M-m),
    or in the shell's own notation."""
    names = shells()
    if shell not in names:
        raise UsageError(f"shell must be one of {', '.join(names)}, got {shell!r}")
    text = resources.files(__name__).joinpath(_PREFIX + shell).read_text()
    notation = _NOTATION.search(text)
    assert notation and notation.group(1) in _WRITERS, f"{_PREFIX + shell} names no known key notation"
    write = _WRITERS[notation.group(1)]
    fields = {}
    for name, given, default in (("KEY", key, DEFAULT_KEY), ("RESTORE_KEY", restore_key, DEFAULT_RESTORE_KEY)):
        given = (given or "").strip() or default
        chords = parse_key(given)
        fields[name + "_LABEL"] = given if chords is None else _label(chords)
        fields[name] = given if chords is None else write(chords)
    if fields["KEY"] == fields["RESTORE_KEY"]:
        raise UsageError(f"the key and the restore key must differ, both are {fields['KEY_LABEL']!r}")
    return re.sub(r"@(\w+)@", lambda m: fields.get(m.group(1), m.group(0)), text)


def parse_key(text: str) -> list[Chord] | None:
    """`alt-m`, `ctrl-x,ctrl-t` or `C-x C-t` as chords (modifiers, character); None for a shell's own notation.
    Raises UsageError for anything else."""
    chords = []
    for part in re.split(r"[,\s]+", text.strip()):
        *mods, base = part.split("-")
        known = {_MODIFIERS.get(m.lower()) for m in mods}
        if not mods or None in known or not _BASE.match(base) or ("ctrl" in known and not _CTRL_BASE.match(base)):
            break
        chords.append((frozenset(known), base.lower() if "ctrl" in known else base))
    else:
        if chords:
            return chords
    if _NATIVE.match(text) and ("\\" in text or "^" in text):
        return None
    raise UsageError(
        f"key {text!r} is not one this command can bind",
        hint="write it like alt-m or ctrl-x,ctrl-t (Ctrl or Alt with a letter, digit or sign), "
        "or in the shell's own notation, e.g. '\\C-x\\C-t'",
    )


def _label(chords: list[Chord]) -> str:
    """The neutral notation, which is also fish 4's key names: ctrl-x,ctrl-t."""
    return ",".join("-".join([*(m for m in ("ctrl", "alt") if m in mods), base]) for mods, base in chords)


def _readline(chords: list[Chord]) -> str:
    return "".join(("\\e" if "alt" in mods else "") + ("\\C-" if "ctrl" in mods else "") + b for mods, b in chords)


def _zle(chords: list[Chord]) -> str:
    def one(mods: frozenset[str], base: str) -> str:
        char = "^" + base.upper() if "ctrl" in mods else ("\\^" if base == "^" else base)
        return ("^[" if "alt" in mods else "") + char

    return "".join(one(*c) for c in chords)


def _fish(chords: list[Chord]) -> str:
    def one(mods: frozenset[str], base: str) -> str:
        if "ctrl" in mods:
            return ("\\e" if "alt" in mods else "") + "\\c" + base
        # unquoted in the snippet (quotes would keep fish from reading \e), so fish's own specials take a backslash
        return ("\\e" if "alt" in mods else "") + ("\\" + base if base in _FISH_SPECIAL else base)

    return "".join(one(*c) for c in chords)


_FISH_SPECIAL = set("$*?~%#(){}[]<>^&|;")
_WRITERS = {"readline": _readline, "zle": _zle, "fish": _fish}
