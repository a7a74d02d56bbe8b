"""One-line Python statements for code-specific pre-training (`cfusion data snippets`)."""

from __future__ import annotations

import ast
import tokenize
from collections.abc import Iterable
from pathlib import Path

# Statements whose one-line source reads as a self-contained snippet; docstrings (bare constants) are not calls.
_SNIPPET_NODES = (
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Return,
    ast.Import,
    ast.ImportFrom,
    ast.Raise,
    ast.Assert,
)


_EXCLUDE = ("site-packages", "dist-packages", "__pycache__", "test", "tests", "idle_test")


def extract_python_snippets(root: Path, max_len: int = 200, exclude_dirs: Iterable[str] = _EXCLUDE) -> list[str]:
    """Unique one-line simple statements from every parseable .py file under `root`, in sorted file order.

    Test folders are left out by default: in the standard library they hold two thirds of the statements, a
    quarter of them `self.assert...` boilerplate. Installed packages are left out so the corpus stays the same
    whatever the environment holds.
    """
    root = Path(root)
    excluded = set(exclude_dirs)
    snippets: dict[str, None] = {}
    for path in sorted(root.rglob("*.py")):
        if excluded.intersection(path.relative_to(root).parts):
            continue
        try:
            with tokenize.open(path) as f:  # honours PEP 263 coding declarations
                source = f.read()
            tree = ast.parse(source, filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, OSError):
            continue  # test fixtures of bad syntax, Python 2 files, unreadable links
        # tokenize.open reads with universal newlines; str.splitlines would also split at form feeds, which ast
        # does not count as line breaks.
        lines = source.split("\n")
        statements = (n for n in ast.walk(tree) if isinstance(n, ast.stmt))
        for node in sorted(statements, key=lambda n: (n.lineno, n.col_offset)):  # source order
            is_call = isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))
            if not (is_call or isinstance(node, _SNIPPET_NODES)) or node.lineno != node.end_lineno:
                continue
            if isinstance(node, ast.Return) and node.value is None:
                continue
            # What ast.get_source_segment does (offsets count UTF-8 bytes), without re-splitting the file per node.
            text = lines[node.lineno - 1].encode()[node.col_offset : node.end_col_offset].decode()
            if len(text) <= max_len:
                snippets.setdefault(text)
    return list(snippets)
