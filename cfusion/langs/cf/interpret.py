"""What a conditional-formatting rule highlights in a column of cells (Excel's semantics), and execution match: a
predicted rule scores 1 when it highlights exactly the cells a reference highlights, on the item's own cells and on
probe columns built from both rules.

Execution match, as this project computes it (`exec_match`):
- The paper scores CF by execution against the benchmark's `Labels`. In the released test split every `Labels` is
  `[0]` and 60 tables have only a header row, so labels are never read here: the prediction is compared with each
  reference by running both.
- Against one reference: both rules are run on the item's value column (`Pair.cells`, when the item has one) and on
  deterministic probe columns built from the constants of both rules (see `probe_columns`: numbers around each numeric
  constant, each text operand as is, in other case and inside other text, blanks, non-numbers, error values,
  repeated values, and columns of ranked numbers for top/bottom rules). They match iff they highlight the same cells
  of every column. The score is 1.0 iff the prediction matches some reference.
- A prediction that does not parse (grammar.valid) scores 0. One that parses but cannot be evaluated (an unknown
  function, a formula such as `SUMPRODUCT(...)>1`) scores 0 against every evaluable reference; against a
  non-evaluable one, exact match decides as below.
- A reference that cannot be evaluated falls back to exact match in the normal form (grammar.normalise). Of the
  released references, 11 of 712 train and 12 of 178 test are such: train, the 3 Office-JS snippets,
  `GreaterThan(13 Days)` and five like it, `GreaterThan($E$13)`, `TextEquals()`; test, `--`, the empty rule,
  `if(NOT(isBlank(...)`, `SUMPRODUCT(...)>1`, `$A2=$A3`, `LastMonth(c[0])`, `Bottom(c[1])` (no count) and 5 rules
  that read two or three columns.

Semantics (`highlights`), one column at a time; `c[k]` names column k of the table, counted from 0:
- A cell is blank when its text is empty or only spaces (Excel's `LEN(TRIM(A1))=0`), an error when it is one of
  Excel's error values (`#DIV/0!`, `#N/A`, ...), numeric when it is a number or text that reads as one (`12`,
  `-3.5`, `1e3`, `10%` = 0.1): cells read from a CSV or from the benchmark's tables are all text.
- GreaterThan, LessThan, ...Equal(s), Between (bounds inclusive, in either order), NotBetween: numeric cells only.
  Excel itself ranks text above every number and reads a blank as 0, so that "greater than 100" would highlight
  text cells too; a request for cells above 100 does not mean those.
- Equals/NotEquals: a numeric operand matches numeric cells of that value; a text operand (`Equals(Yes)`) matches
  cells whose text equals it, ignoring case, as Excel's `=` does. NotEquals is NOT(Equals) over every cell.
- Text rules (TextContains, TextEquals, TextStartsWith, EndsWith, NotContains, ...) compare the cell's text,
  numbers included, ignoring case, as Excel's SEARCH does. Operands are unquoted text (`TextEquals(In Progress)`,
  all of `Non-pooled, en` when the commas leave more than one) or quoted (`'A'`, `"a,b"`).
- Duplicate(s)/Unique: non-blank cells whose value (a number, else the text ignoring case) occurs more than once /
  once. Top/Bottom(n), Top/Bottom(n%), TopPercent/BottomPercent(p): numeric cells at or beyond the n-th largest
  (smallest) number, ties included; p% of the numeric cells is rounded down, at least 1. Above/BelowAverage: numeric
  cells strictly above/below the mean of the numeric cells.
- ColorScale, DataBar, IconSet format every numeric cell (their arguments, styles, are not read).
- AND, OR, NOT combine rules cell by cell; LEN(c[k]) may be compared (`GreaterThan(LEN(c[0]), 6)`).
Function names are case-insensitive. Anything else raises CFError naming the function.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from cfusion.errors import CfusionError
from cfusion.langs.base import check_refs
from cfusion.langs.cf import grammar

# The token patterns are the grammar's own, so that what parses there reads the same way here.
_STRING, _NAME, _ws = grammar._CF_STRING, grammar._CF_NAME, grammar._ws
_NUMBER = re.compile(r"[+-]?" + grammar._CF_NUMBER.pattern)
_COLUMN = re.compile(r"[cC]\[(\d+)\]")
ERRORS = frozenset(
    "#NULL! #DIV/0! #VALUE! #REF! #NAME? #NUM! #N/A #GETTING_DATA #SPILL! #CALC! #FIELD! #BLOCKED! #CONNECT! #BUSY! "
    "#UNKNOWN!".split()
)


class CFError(CfusionError):
    """A rule this interpreter cannot evaluate; `function` names the function at fault, when there is one."""

    def __init__(self, message: str, function: str | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.function = function


# ---- parsing: a rule is a call whose arguments are calls or text ----


@dataclass(frozen=True)
class Arg:
    """One argument as written (stripped), and the call it is when it is one (`TextEquals(p)` inside `OR(...)`)."""

    text: str
    call: Call | None = None


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Arg, ...]
    inner: str = ""  # the text between the parentheses, as written

    @property
    def key(self) -> str:
        return self.name.lower()

    def walk(self):
        """This call and every call in its arguments."""
        yield self
        for a in self.args:
            if a.call is not None:
                yield from a.call.walk()


def _arg_end(s: str, i: int) -> int:
    """Index of the `,` or `)` that ends the argument starting at i; a quote opens a string only where an argument
    starts (`client's name` is text), as in the grammar."""
    depth, start = 0, True
    while i < len(s):
        if start and (m := _STRING.match(s, i)):
            i, start = m.end(), False
            continue
        ch = s[i]
        if ch in ",)" and depth == 0:
            return i
        depth += (ch == "(") - (ch == ")")
        start = ch in "(," or (start and ch.isspace())
        i += 1
    raise CFError("unbalanced parentheses")


def _call(s: str, i: int) -> tuple[Call, int] | None:
    """The call `NAME(args)` at i and the index after its `)`, or None when there is none at i."""
    m = _NAME.match(s, i)
    if not m or not s.startswith("(", m.end()):
        return None
    args, j = [], m.end() + 1
    if s.startswith(")", _ws(s, j)):
        return Call(m.group(), (), s[j : _ws(s, j)]), _ws(s, j) + 1
    while True:
        end = _arg_end(s, j)
        text = s[j:end].strip()
        inner = _call(text, 0) if text else None
        args.append(Arg(text, inner[0] if inner and inner[1] == len(text) else None))
        if s[end] == ")":
            return Call(m.group(), tuple(args), s[m.end() + 1 : end]), end + 1
        j = end + 1


@lru_cache(maxsize=4096)
def parse(rule: str) -> Call:
    """The rule as a call tree; CFError when it does not parse or is not a call (`$A2=$A3`, `SUMPRODUCT(...)>1`)."""
    s = rule.strip()
    if not grammar.valid(s):
        raise CFError(f"the rule does not parse: {_short(s)!r}")
    found = _call(s, 0)
    if found is None or found[1] != len(s):
        name = next((m.group(1) for m in re.finditer(r"([^\W\d][\w.]*)\s*\(", s)), None)
        what = f"a formula ({name}...)" if name else "a formula"
        raise CFError(f"cannot evaluate {what}: only rule calls such as GreaterThan(5) are evaluated", name)
    return found[0]


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


# ---- cells ----


@dataclass(frozen=True)
class Cell:
    text: str  # as Excel shows it
    num: float | None  # the number, for numbers and numeric text

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def error(self) -> bool:
        return self.text.strip().upper() in ERRORS


def number(text: str) -> float | None:
    """The number a text reads as (`12`, `-3.5`, `1e3`, `10%` = 0.1), or None."""
    t = text.strip()
    if not _NUMBER.fullmatch(t):
        return None
    x = float(t.rstrip("%")) / (100 if t.endswith("%") else 1)
    return x if math.isfinite(x) else None


def cell_text(value: object) -> str:
    """A table value as Excel shows it: TRUE/FALSE for booleans, 5 for 5.0, blank for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _cell(value: object) -> Cell:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(cell_text(value), float(value) if math.isfinite(value) else None)
    text = cell_text(value)
    return Cell(text, number(text))


def _same(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-12)  # `144.69999999999999` is 144.7, as Excel's 15 digits say


# ---- evaluation ----


@dataclass(frozen=True)
class _Env:
    cells: list[Cell]
    columns: list[list[Cell]] | None  # the table, when c[k] may name any of its columns

    def column(self, k: int) -> list[Cell]:
        if self.columns is None:
            return self.cells
        if k >= len(self.columns):
            raise CFError(f"c[{k}]: the table has {len(self.columns)} column(s)")
        return self.columns[k]


Handler = Callable[[Call, list[Cell], list[Arg]], list[bool]]
T = TypeVar("T")
_RULES: dict[str, Handler] = {}
_NAMES: dict[str, str] = {}  # each spelling, lowercased -> the first of its call's names (`duplicates` -> `duplicate`)


def _rule(*names: str):
    def register(fn: Handler) -> Handler:
        for name in names:
            _RULES[name.lower()] = fn
            _NAMES[name.lower()] = names[0].lower()
        return fn

    return register


def _eval(call: Call, env: _Env) -> list[bool]:
    if call.key in _LOGIC:
        subs = [a.call for a in call.args]
        if not subs or None in subs or (call.key == "not" and len(subs) != 1):
            raise CFError(f"{call.name} takes {'one rule' if call.key == 'not' else 'rules'} as arguments", call.name)
        return _LOGIC[call.key]([_eval(c, env) for c in subs])
    handler = _RULES.get(call.key)
    if handler is None:
        raise CFError(f"cannot evaluate {call.name}: not a rule this interpreter knows", call.name)
    cells, args = env.cells, list(call.args)
    if args and (m := _COLUMN.fullmatch(args[0].text)):
        cells, args = env.column(int(m.group(1))), args[1:]
    elif args and args[0].call is not None and args[0].call.key == "len":
        cells, args = _len(args[0].call, env), args[1:]
    return handler(call, cells, args)


_LOGIC: dict[str, Callable[[list[list[bool]]], list[bool]]] = {
    "and": lambda rs: [all(x) for x in zip(*rs)],
    "or": lambda rs: [any(x) for x in zip(*rs)],
    "not": lambda rs: [not x for x in rs[0]],
}


def _len(call: Call, env: _Env) -> list[Cell]:
    if len(call.args) != 1 or not (m := _COLUMN.fullmatch(call.args[0].text)):
        raise CFError(f"{call.name} takes one column, c[k]", call.name)
    return [Cell(str(len(c.text)), float(len(c.text))) for c in env.column(int(m.group(1)))]


def _arity(call: Call, args: list[Arg], n: int) -> None:
    if len(args) != n:
        if inner := next((a.call for a in args if a.call is not None), None):  # `GreaterThan(SUM(c[0]), 6)`
            raise CFError(f"cannot evaluate {inner.name} inside {call.name}", inner.name)
        raise CFError(f"{call.name} takes {n} operand(s), got {len(args)}", call.name)


def _literal(arg: Arg) -> str:
    """The text of an operand: quotes taken off (`'A'`, `"a""b"`); unquoted text as written (`In Progress`)."""
    t = arg.text
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1].replace('""', '"') if t[0] == '"' else t[1:-1]
    return t


def _value(call: Call, arg: Arg) -> str:
    """The literal of a value operand, which a call (`SUM(...)`) cannot be here."""
    if arg.call is not None:
        raise CFError(f"cannot evaluate {arg.call.name} inside {call.name}", arg.call.name)
    return _literal(arg)


def _number(call: Call, arg: Arg) -> float:
    x = number(_value(call, arg))
    if x is None:
        raise CFError(f"{call.name} needs a number, got {_short(arg.text)!r}", call.name)
    return x


def _compare(test: Callable[[float, float], bool]) -> Handler:
    def handler(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
        _arity(call, args, 1)
        x = _number(call, args[0])
        return [c.num is not None and test(c.num, x) for c in cells]

    return handler


_rule("GreaterThan")(_compare(lambda v, x: v > x and not _same(v, x)))
_rule("GreaterThanEqual", "GreaterThanEquals", "GreaterThanOrEqual", "GreaterThanOrEqualTo")(
    _compare(lambda v, x: v > x or _same(v, x))
)
_rule("LessThan")(_compare(lambda v, x: v < x and not _same(v, x)))
_rule("LessThanEqual", "LessThanEquals", "LessThanOrEqual", "LessThanOrEqualTo")(
    _compare(lambda v, x: v < x or _same(v, x))
)


@_rule("Between")
def _between(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    _arity(call, args, 2)
    lo, hi = sorted((_number(call, args[0]), _number(call, args[1])))
    return [c.num is not None and (lo < c.num < hi or _same(c.num, lo) or _same(c.num, hi)) for c in cells]


@_rule("NotBetween")
def _not_between(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    inside = _between(call, cells, args)
    return [c.num is not None and not b for c, b in zip(cells, inside)]


@_rule("Equals", "Equal", "EqualTo")
def _equals(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    _arity(call, args, 1)
    text = _value(call, args[0])
    x = number(text)
    if x is not None:
        return [c.num is not None and _same(c.num, x) for c in cells]
    return [c.text.casefold() == text.casefold() for c in cells]


@_rule("NotEquals", "NotEqual", "NotEqualTo")
def _not_equals(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    return [not b for b in _equals(call, cells, args)]


def _text(test: Callable[[str, str], bool], negate: bool = False) -> Handler:
    def handler(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
        if len(args) > 1 and len(args) == len(call.args):  # unquoted text with a comma: `TextContains(Non-pooled, en)`
            args = [Arg(call.inner.strip())]
        _arity(call, args, 1)
        x = _literal(args[0]).casefold()
        return [test(c.text.casefold(), x) != negate for c in cells]

    return handler


_rule("TextContains", "Contains")(_text(lambda t, x: x in t))
_rule("NotContains", "TextNotContains", "TextDoesNotContain", "DoesNotContain")(_text(lambda t, x: x in t, True))
_rule("TextEquals")(_text(lambda t, x: t == x))
_rule("TextStartsWith", "StartsWith", "TextBeginsWith", "BeginsWith")(_text(lambda t, x: t.startswith(x)))
_rule("TextEndsWith", "EndsWith")(_text(lambda t, x: t.endswith(x)))


def _each(test: Callable[[Cell], bool]) -> Handler:
    """A rule without operands that looks at each cell alone."""

    def handler(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
        _arity(call, args, 0)
        return [test(c) for c in cells]

    return handler


_rule("Blanks", "Blank")(_each(lambda c: c.blank))
_rule("NoBlanks", "NotBlanks")(_each(lambda c: not c.blank))
_rule("Errors")(_each(lambda c: c.error))
_rule("NoErrors")(_each(lambda c: not c.error))


def _scale(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    return [c.num is not None for c in cells]  # the arguments are styles (colours, icons): they choose no cells


for _name in ("ColorScale", "DataBar", "IconSet"):  # one semantics, three rules: each keeps its own name
    _rule(_name)(_scale)


def _counts(cells: list[Cell]) -> tuple[list[object], Counter]:
    keys = [None if c.blank else c.num if c.num is not None else c.text.casefold() for c in cells]
    return keys, Counter(k for k in keys if k is not None)


@_rule("Duplicate", "Duplicates")
def _duplicate(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    _arity(call, args, 0)
    keys, n = _counts(cells)
    return [k is not None and n[k] > 1 for k in keys]


@_rule("Unique", "Uniques")
def _unique(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
    _arity(call, args, 0)
    keys, n = _counts(cells)
    return [k is not None and n[k] == 1 for k in keys]


def _ranked(top: bool, percent: bool) -> Handler:
    def handler(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
        _arity(call, args, 1)
        text = _literal(args[0]).strip()
        pct = percent or text.endswith("%")
        n = number(text.rstrip("%"))
        if n is None or n != int(n) or not (1 <= n <= (100 if pct else 1000)):
            what = "a percentage from 1 to 100" if pct else "a whole number from 1 to 1000"
            raise CFError(f"{call.name} needs {what}, got {_short(args[0].text)!r}", call.name)
        nums = sorted((c.num for c in cells if c.num is not None), reverse=top)
        if not nums:
            return [False] * len(cells)
        k = max(1, len(nums) * int(n) // 100) if pct else int(n)
        edge = nums[min(k, len(nums)) - 1]
        return [c.num is not None and (c.num >= edge if top else c.num <= edge) for c in cells]

    return handler


_RANKED = ("top", "bottom", "toppercent", "bottompercent")
_rule("Top")(_ranked(True, False))
_rule("Bottom")(_ranked(False, False))
_rule("TopPercent")(_ranked(True, True))
_rule("BottomPercent")(_ranked(False, True))


def _average(above: bool) -> Handler:
    def handler(call: Call, cells: list[Cell], args: list[Arg]) -> list[bool]:
        _arity(call, args, 0)
        nums = [c.num for c in cells if c.num is not None]
        mean = math.fsum(nums) / len(nums) if nums else 0.0
        beyond = (lambda v: v > mean) if above else (lambda v: v < mean)
        return [c.num is not None and beyond(c.num) and not _same(c.num, mean) for c in cells]

    return handler


_rule("AboveAverage")(_average(True))
_rule("BelowAverage")(_average(False))

FUNCTIONS = tuple(sorted({*_RULES, *_LOGIC, "len"}))  # what `highlights` evaluates, lowercased


def columns_read(call: Call) -> set[int]:
    """The k of every c[k] the rule reads."""
    return {int(m.group(1)) for c in call.walk() for a in c.args if (m := _COLUMN.fullmatch(a.text))}


def highlights(rule: str, cells: Sequence[object], columns: Sequence[Sequence[object]] | None = None) -> list[bool]:
    """Which of `cells` (one column, top to bottom, header excluded) the rule highlights.

    `columns`: the table's columns, each as long as `cells`, for rules that read other columns (`c[2]`). Without
    it, every c[k] names `cells` itself, and a rule that reads two different columns raises CFError.
    """
    call = parse(rule)
    own = [_cell(v) for v in cells]
    table = None
    if columns is not None:
        table = [[_cell(v) for v in col] + [Cell("", None)] * (len(own) - len(col)) for col in columns]
        table = [col[: len(own)] for col in table]
    elif len(read := columns_read(call)) > 1:
        names = ", ".join(f"c[{k}]" for k in sorted(read))
        raise CFError(f"the rule reads several columns ({names}): pass the table's columns")
    return _eval(call, _Env(own, table))


def unknown_calls(rule: str) -> list[str]:
    """The functions the rule calls that this interpreter does not know (`bottomorScale()`), as written; [] also for
    a rule it cannot read as calls."""
    try:
        call = parse(rule)
    except CFError:
        return []
    return [c.name for c in call.walk() if c.key not in FUNCTIONS]


def evaluable(rule: str) -> bool:
    """The rule can be run on a single column (highlights raises no CFError)."""
    try:
        highlights(rule, ["1", "a", ""])
    except CFError:
        return False
    return True


# ---- execution match ----


def _fmt(x: float) -> str:
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def probe_columns(*rules: Call) -> list[list[str]]:
    """Deterministic columns of cells on which two rules that highlight the same cells must agree: numbers around
    each numeric operand (c-1, c-0.5, c, c+0.5, c+1, and `5.0` for 5), 0, negatives and large numbers; each text
    operand as is, in upper, lower and swapped case, inside other text and cut short; blanks, non-numbers and error
    values; the same values repeated (duplicates, ties); ranked numbers around each top/bottom count."""
    nums, texts, counts = {0.0, 1.0, -1.0, 0.25, -1000.0, 1e9}, set(), {1, 2, 3, 10}
    for call in (c for rule in rules for c in rule.walk()):
        for a in call.args:
            if a.call is not None or _COLUMN.fullmatch(a.text):
                continue
            s = _literal(a)
            for x in {number(s), number(s.rstrip("%"))} - {None}:  # `10%` is 0.1 as a value, 10 as a top count
                nums.update((x - 1, x - 0.5, x, x + 0.5, x + 1))
                if call.key in _RANKED and x == int(x) and 0 < x <= 1000:
                    counts.add(int(x))
            texts.update({s, s.upper(), s.lower(), s.swapcase(), f"x{s}y", f"{s} z", f"z {s}", s[1:], s[:-1]})
    numbers = [_fmt(x) for x in sorted(nums)]
    numbers += [f"{_fmt(x)}.0" for x in sorted(nums) if x.is_integer() and abs(x) < 1e15 and x != 0]
    words = sorted(texts | {"", " ", "abc", "Text", "TRUE", "#N/A", "#DIV/0!", "-", "1a"})
    mixed = numbers + words
    cols = [mixed, numbers, words, [v for i, v in enumerate(mixed) for _ in range(1 + i % 2)], ["7", "7", "7"]]
    for n in sorted(counts):
        ranked = [str(i) for i in range(1, n + 3)]
        cols += [ranked, [v for v in ranked for _ in range(2)] + ["", "abc"], ranked[: max(1, n - 1)]]
    cols += [[str(i) for i in range(1, size + 1)] for size in (5, 25, 100)]
    return cols


def _runnable(rule: str) -> Call | None:
    """The parsed rule when it can be run on one column, else None."""
    try:
        highlights(rule, [])  # every CFError comes from the rule itself, whatever the cells
    except CFError:
        return None
    return parse(rule)


def exec_match(pred: str, refs: list[str], cells: Sequence[object] | None = None) -> float:
    """1.0 iff `pred` highlights the same cells as some reference, on `cells` (the item's value column, when given)
    and on the probe columns of both rules; a non-evaluable reference falls back to normalised exact match. The
    module docstring defines the metric."""

    def same(mine: Call, theirs: Call, ref: str) -> bool:
        columns = probe_columns(mine, theirs) + ([list(cells)] if cells else [])
        return all(highlights(pred, col) == highlights(ref, col) for col in columns)

    return _match(pred, refs, _runnable, same)


def _match(pred: str, refs: list[str], read: Callable[[str], T | None], same: Callable[[T, T, str], bool]) -> float:
    """1.0 iff `pred` is valid and the same as some reference: `same(read(pred), read(ref), ref)` where both read,
    their normal forms (grammar.normalise) where the reference does not; the skeleton of both CF matches."""
    check_refs(refs)
    if not grammar.valid(pred):
        return 0.0
    mine = read(pred)
    for ref in refs:
        theirs = read(ref)
        if theirs is None:
            if grammar.normalise(pred) == grammar.normalise(ref):
                return 1.0
        elif mine is not None and same(mine, theirs, ref):
            return 1.0
    return 0.0


def canonical(rule: str) -> str | None:
    """The rule in one spelling, or None when it does not parse as a call: each function by the first of its names
    (`Duplicates` -> `duplicate`, `GreaterThanEquals` -> `greaterthanequal`), a leading `c[k]` dropped when the rule
    reads no other column (`Top(c[1], 2)` -> `top(2)`: the rule formats the column it is given), operands in lower
    case without quotes (rules compare text ignoring case; `5.0` stays apart from `5`, which a text rule tells
    apart), and the rules inside AND and OR in sorted order. Two rules of one canonical form highlight the same
    cells; the converse does not hold (`NOT(Between(1,10))` and `NotBetween(1,10)` stay apart), which execution match
    covers."""
    try:
        call = parse(rule)
    except CFError:
        return None
    one_column = len(columns_read(call)) <= 1

    def operand(a: Arg) -> str:
        return spell(a.call) if a.call is not None else _literal(a).lower()

    def spell(c: Call) -> str:
        args = list(c.args)
        if one_column and args and _COLUMN.fullmatch(args[0].text):
            args = args[1:]
        parts = [operand(a) for a in args]
        if c.key in ("and", "or"):
            parts.sort()
        return f"{_NAMES.get(c.key, c.key)}({','.join(parts)})"

    return spell(call)


def canonical_match(pred: str, refs: list[str]) -> float:
    """1.0 iff `pred` has the canonical form of some reference (`canonical`); a reference with none is matched by
    its normal form (grammar.normalise). The released test rules spell functions and columns as the train rules
    never do (`Duplicates(c[3])` against `Duplicate()`): exact match in text counts those apart, this does not."""
    return _match(pred, refs, canonical, lambda mine, theirs, _: mine == theirs)


def value_column(rule: str, header: Sequence[object]) -> int | None:
    """The column of a benchmark table that a rule formats: the one its c[k] names (when it names one), else the
    column headed `Value` (the CodeFusion tables: Index, Value, ...); None when there is neither or the rule reads
    several columns."""
    try:
        read = columns_read(parse(rule))
    except CFError:
        read = set()
    if len(read) == 1:
        (k,) = read
        return k if k < len(header) else None
    if read:
        return None
    names = [str(h).strip().lower() for h in header]
    return names.index("value") if "value" in names else None
