"""Python syntax: validity by `ast.parse` (never executed) and the names that code-specific pre-training masks."""

from __future__ import annotations

import ast
import io
import keyword
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


def _tokens(code: str):
    """tokenize's tokens of `code` with their (start, end) character offsets; TokenError on an unclosed quote."""
    # A sentinel past the last line: tokenize puts its closing NEWLINE and ENDMARKER on a row of their own.
    line_starts = [0] + [m.end() for m in re.finditer("\n", code)] + [len(code)]
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        # Python 3.11 tokenizes an unclosed quote as an ERRORTOKEN and carries on inside the string.
        if tok.type == tokenize.ERRORTOKEN and tok.string.strip():
            raise tokenize.TokenError("error token", tok.start)
        (row, col), (end_row, end_col) = tok.start, tok.end
        yield tok, line_starts[row - 1] + col, line_starts[end_row - 1] + end_col


def maskable_spans(code: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the names in `code` (tokenize; a scan that skips strings, comments and
    numbers when the code is incomplete)."""
    try:
        return sorted({(start, end) for tok, start, end in _tokens(code) if tok.type == tokenize.NAME})
    except (tokenize.TokenError, SyntaxError):  # incomplete code: unclosed bracket or string, bad dedent
        return sorted({m.span("name") for m in _PY_FALLBACK.finditer(code) if m.group("name")})


_PY_TOKEN = re.compile(r"""[rRbBuUfF]{0,2}(?:"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)|[^\W\d]\w*|\d[\w.]*|\S""")


def tokens(code: str) -> list[str]:
    """The code's tokens for the ranking's consensus: names, numbers, whole string literals and each other character
    (a regular expression, so that incomplete code tokenizes too)."""
    return _PY_TOKEN.findall(code)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"""[`'"]([^\W\d]\w*)[`'"]""")


def cast(value: str, kind: str) -> str:
    """A request's value written for the place it takes in code (slots.carry): where a name or a number stood, a
    value that is neither (`'https://example.com/'`, `'Y M d'`) becomes a string literal; a string's contents and
    anything else stay as written."""
    if (
        kind in ("name", "number")
        and not _NUMBER.fullmatch(value)
        and not all(p.isidentifier() for p in value.split("."))
    ):
        return repr(value)
    return value


def values(code: str, request: str = "") -> list[tuple[str, int, int]]:
    """(kind, start, end) of the code's values: "number", "string" (a literal's contents, inside its quotes) and
    "name" (a variable that the request names in quotes or backticks, as CoNaLa's requests do); [] when the code does
    not tokenize."""
    quoted = set(_QUOTED.findall(request)) - set(keyword.kwlist)
    out = []
    try:
        for tok, start, end in _tokens(code):
            if tok.type == tokenize.NUMBER:
                out.append(("number", start, end))
            elif tok.type == tokenize.STRING:
                body = tok.string.lstrip("rRbBuUfF")
                q = 3 if body[:3] in ('"""', "'''") else 1
                a, b = start + len(tok.string) - len(body) + q, end - q
                if a < b:
                    out.append(("string", a, b))
            elif tok.type == tokenize.NAME and tok.string in quoted:
                out.append(("name", start, end))
    except (tokenize.TokenError, SyntaxError):
        return []
    return out
