"""The language packs: everything that knows a target language lives in one of them (see base.Language).

`names()` lists the languages; `get(name)` gives a pack, imported on first use so that one language's
dependencies (tree-sitter for Bash) load only when that language is asked for.
"""

from __future__ import annotations

import functools
import importlib

from cfusion.langs.base import Language, Rules

__all__ = ["Language", "Rules", "get", "names"]

_PACKS = {"bash": "cfusion.langs.bash", "python": "cfusion.langs.python", "cf": "cfusion.langs.cf"}


def names() -> tuple[str, ...]:
    """The languages cfusion knows, in the order the paper reports them."""
    return tuple(_PACKS)


@functools.cache
def get(name: str) -> Language:
    """The pack of language `name`; ValueError names the known ones."""
    if name not in _PACKS:
        raise ValueError(f"lang must be one of {', '.join(_PACKS)}, got {name!r}")
    return importlib.import_module(_PACKS[name]).PACK
