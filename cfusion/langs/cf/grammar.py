"""The Excel conditional-formatting rule language: a grammar that says whether a rule parses, the spans that
code-specific pre-training masks, and the normal form exact match compares."""

from __future__ import annotations

import re

from cfusion.langs.base import normalise_space

_CF_STRING = re.compile(r'"(?:[^"]|"")*"|\'[^\']*\'')
_CF_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
_CF_REF = re.compile(
    r"(?:\$?[A-Za-z_][\w.]*!)?\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?(?![\w(\[])"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(])|[A-Za-z]\[\d+\]"
)
_CF_NAME = re.compile(r"[^\W\d][\w.]*")
_CF_OP = re.compile(r"<>|<=|>=|==|!=|[=<>+\-*/^&]")


def _ws(s: str, i: int) -> int:
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def _cf_expr(s: str, i: int) -> int | None:
    """End of `operand (op operand)*` from i, or None."""
    end = _cf_operand(s, i)
    while end is not None and (op := _CF_OP.match(s, _ws(s, end))):
        nxt = _cf_operand(s, op.end())
        if nxt is None:
            break  # the caller sees the dangling operator and rejects it
        end = nxt
    return end


def _cf_operand(s: str, i: int) -> int | None:
    i = _ws(s, i)
    while i < len(s) and s[i] in "+-":
        i = _ws(s, i + 1)
    if s.startswith("(", i):
        j = _cf_expr(s, i + 1)
        j = None if j is None else _ws(s, j)
        return j + 1 if j is not None and s.startswith(")", j) else None
    for pattern in (_CF_STRING, _CF_NUMBER, _CF_REF):
        if m := pattern.match(s, i):
            return m.end()
    if not (m := _CF_NAME.match(s, i)):
        return None
    j = _ws(s, m.end())
    return _cf_args(s, j + 1) if s.startswith("(", j) else m.end()


def _cf_args(s: str, i: int) -> int | None:
    """End of `[arg (',' arg)*] ')'` from just after `(`; an arg is an expression or unquoted text."""
    if s.startswith(")", _ws(s, i)):
        return _ws(s, i) + 1
    while True:
        j = _cf_expr(s, i)
        j = None if j is None else _ws(s, j)
        if j is None or j >= len(s) or s[j] not in ",)":
            j = _cf_text(s, i, nested=False)
        if j is None or j >= len(s):
            return None
        if s[j] == ")":
            return j + 1
        i = j + 1


def _cf_text(s: str, i: int, nested: bool) -> int | None:
    """End of unquoted text (`In Progress`, `N/A`, `TELECON (ALL)`): no quotes, parentheses balanced."""
    start = i
    while i < len(s) and not (s[i] == ")" or (s[i] == "," and not nested)):
        if s[i] == '"' or (s[i] == "'" and not s[start:i].strip()):  # `client's name` is text, `'abc` is not
            return None
        if s[i] == "(":
            j = _cf_text(s, i + 1, nested=True)
            if j is None or j >= len(s):
                return None
            i = j
        i += 1
    return i if nested or s[start:i].strip() else None


def valid(rule: str) -> bool:
    """The rule parses in this grammar of the CF rule language (as in CFRuleBenchmarks.json):

    rule    := expr                      (a call or an operator somewhere, not a lone value)
    expr    := operand (OP operand)*     OP: = <> <= >= == != < > + - * / ^ &
    operand := ('+' | '-')* ( '(' expr ')' | STRING | NUMBER | REF | NAME [ '(' [arg (',' arg)*] ')' ] )
    arg     := expr | TEXT
    STRING  := "..." ("" escapes a quote) | '...'       NUMBER := 12, 2.5, 1e3, 10%
    REF     := [Sheet!]$A$1[:$B$2] | A:C | c[1]           NAME := letters, digits, `_` and `.`
    TEXT    := unquoted text up to `,` or `)`, parentheses inside balanced (`In Progress`, `N/A`, `x (y)`)
    """
    s = rule.strip()
    end = _cf_expr(s, 0) if s else None
    return end is not None and _ws(s, end) == len(s) and ("(" in s or _CF_OP.search(s) is not None)


_CF_TOKEN = re.compile(
    r'(?P<string>"(?:[^"]|"")*"?)'
    # References are not names: a sheet prefix (`Sheet1!`), a cell (`A1`, `$B$2`), a column range (`A:C`), `c[1]`.
    r"|(?P<cell>\$?[A-Za-z_][\w.]*!|\$?[A-Za-z]{1,3}\$?\d+(?![\w.(\[])"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w.(])|[A-Za-z]\[\d+\])"
    r"|(?P<number>\d[\d.]*(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)(?P<call>\s*\()?"
    r"|(?P<open>\()|(?P<close>\))"
)


def _is_cf_literal_call(func: str) -> bool:
    # The CF corpora write text operands unquoted (`TextEquals(In Progress)`): words there are data, not code.
    func = func.lower()
    return "text" in func or "equal" in func or func.endswith("with")


def maskable_spans(code: str) -> list[tuple[int, int]]:
    """Sorted (start, end) character spans of the function and name tokens of a rule, text operands and cell
    references left out."""
    spans, literal = [], [False]  # literal[-1]: are we inside the argument list of a text-matching call?
    for m in _CF_TOKEN.finditer(code):
        if m.group("name"):
            if not literal[-1]:
                spans.append(m.span("name"))
            if m.group("call"):
                literal.append(literal[-1] or _is_cf_literal_call(m.group("name")))
        elif m.group("open"):
            literal.append(literal[-1])
        elif m.group("close") and len(literal) > 1:
            literal.pop()
    return sorted(set(spans))


def normalise(rule: str) -> str:
    """Whitespace runs become one space; the rule is lowercased and spaces around punctuation dropped."""
    return re.sub(r"\s*([^\w\s])\s*", r"\1", normalise_space(rule).lower())


def tokens(rule: str) -> list[str]:
    """The rule's tokens in normal form (words, numbers, each other character), for the ranking's consensus."""
    return re.findall(r"\w+|[^\w\s]", normalise(rule))


_CF_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(([^()]*)\)")
_CF_VALUE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def values(rule: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the values a rule's innermost calls take: "number" (its digits, a `%` left out) or
    "text" (an argument of a text-matching call, quotes and spaces left out)."""
    out = []
    for m in _CF_CALL.finditer(rule):
        text_call = _is_cf_literal_call(m.group(1))
        pos = m.start(2)
        for part in m.group(2).split(","):
            a, b = pos, pos + len(part)
            pos = b + 1
            while a < b and rule[a] in " \"'":
                a += 1
            while b > a and rule[b - 1] in " \"'":
                b -= 1
            if a == b:
                continue
            if number := _CF_VALUE_NUMBER.fullmatch(rule, a, b - (rule[b - 1] == "%")):
                out.append(("number", number.start(), number.end()))
            elif text_call:
                out.append(("text", a, b))
    return out
