"""Python syntax: validity by `ast.parse` (never executed) and the names that code-specific pre-training masks."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings


def valid(code: str) -> bool:
    """`ast.parse` accepts the code (never executed); empty input is invalid."""
    if not code.strip():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences warn, yet parse
        try:
            ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


# Strings, comments and numbers are consumed first so that the words inside them never count as names.
_PY_FALLBACK = re.compile(
    r"""(?P<skip>(?:[rRbBuUfF]{1,2})?(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)"""
    r"""|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)|\#[^\n]*|\d[\w.]*)|(?P<name>[^\W\d]\w*)"""
)


def maskable_spans(code: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the names in `code` (tokenize; a scan that skips strings, comments and
    numbers when the code is incomplete)."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", code)]
    spans = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            # Python 3.11 tokenizes an unclosed quote as an ERRORTOKEN and carries on inside the string.
            if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
                raise tokenize.TokenError("error token", tok.start)
            if tok.type == tokenize.NAME:
                (row, col), (end_row, end_col) = tok.start, tok.end
                spans.append((line_starts[row - 1] + col, line_starts[end_row - 1] + end_col))
        return sorted(set(spans))
    except (tokenize.TokenError, SyntaxError):  # incomplete code: unclosed bracket or string, bad dedent
        return sorted({m.span("name") for m in _PY_FALLBACK.finditer(code) if m.group("name")})
