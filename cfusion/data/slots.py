"""Value slots: the numbers and quoted text of a request stand as V0, V1 ... in what the model reads and writes.

A model with `value_slots` on never has to spell a value out: it writes `GreaterThan(V0)`, and the slot is filled
with the request's first value (`greater than 2305`). Copying a long number token by token is where a small
diffusion model tears values (`Between(689,27)`); choosing a slot is one token. Which slot goes where is learned:
in training, a code value equal to one of the request's values becomes its slot, and the rest stays as written.
A value is found by its form (a number standing alone, or text in quotes) or, for a model with `tagged_slots`, by
its place: in training, the request words that a code value copies; in generation, those the model's value tagger
marks (cfusion.core.tagger). Never by a list of English words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from cfusion import langs

# Quoted text opens and closes outside words (`the client's 'late' rows`: the apostrophe opens nothing).
_VALUE = re.compile(r"""(?<!\w)(["'`])([^"'`\n]{1,80})\1(?!\w)|(?<![\w.,])(-?\d+(?:[.,]\d+)*)(?![\w])""")
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,500 and 12,000.5: thousands separators, not a list
_SLOT = re.compile(r"(?<![\w.])V(\d{1,2})(?![\w])")


def slot(i: int) -> str:
    return f"V{i}"


def _found(request: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int, str, str]]:
    """(start, end, value, quote) of the request's values: by form, then each of `spans` that overlaps none before."""
    out = [
        (m.start(), m.end(), m.group(2), m.group(1))
        if m.group(2) is not None
        else (m.start(), m.end(), m.group(3).replace(",", "") if _GROUPED.fullmatch(m.group(3)) else m.group(3), "")
        for m in _VALUE.finditer(request)
    ]
    for s, e in sorted(spans):
        if s < e and all(e <= a or s >= b for a, b, _, _ in out):
            out.append((s, e, request[s:e], ""))
    return sorted(out)


def blank(request: str) -> str:
    """The request with each value found by form written as `x` (quotes kept): what it asks, whatever it names."""
    return _VALUE.sub(lambda m: f"{m.group(1)}x{m.group(1)}" if m.group(2) is not None else "x", request)


def form_ranges(request: str) -> list[tuple[int, int]]:
    """The char ranges of the values found by their form alone (numbers, quoted text), quotes included."""
    return [m.span() for m in _VALUE.finditer(request)]


def slot_request(request: str, spans: Sequence[tuple[int, int]] = ()) -> tuple[str, list[str]]:
    """The request with each distinct value replaced by its slot (quotes kept), and the values in slot order. Values
    are found by form, and `spans` (char ranges: copied words, or the tagger's) add more. A number written with
    thousands separators is held without them (`over 1,500` fills `GreaterThan(1500)`)."""
    values: list[str] = []
    parts, last = [], 0
    for s, e, value, quote in _found(request, spans):
        if value not in values:
            values.append(value)
        parts += [request[last:s], f"{quote}{slot(values.index(value))}{quote}"]
        last = e
    return "".join(parts) + request[last:], values


def copied_spans(request: str, code: str, lang: str) -> list[tuple[int, int]]:
    """The char ranges of the request that a value of `code` (Language.values) copies: its text, standing as whole
    words. What the value tagger learns to mark, and what a model with `tagged_slots` reads as slots in training."""
    out = []
    for _, s, e in langs.get(lang).values(code, request):
        m = re.search(r"(?<!\w)" + re.escape(code[s:e]) + r"(?!\w)", request)
        if m and (m.start(), m.end()) not in out:
            out.append((m.start(), m.end()))
    return sorted(out)


def rewrite(code: str, spans: list[tuple[str, int, int]], new: dict[str, str]) -> str:
    """`code` with each (kind, start, end) value span whose text is a key of `new` replaced by its value."""
    for _, s, e in sorted(spans, key=lambda x: x[1], reverse=True):  # right to left, so the offsets hold
        if code[s:e] in new:
            code = code[:s] + new[code[s:e]] + code[e:]
    return code


def slot_code(code: str, request: str, values: list[str], lang: str) -> str:
    """`code` with each of its values (Language.values) that equals one of the request's `values` as that slot."""
    return rewrite(code, langs.get(lang).values(code, request), {v: slot(i) for i, v in enumerate(values)})


def slot_pair(request: str, code: str, lang: str, copied: bool = False) -> tuple[str, str]:
    """A training pair as a model with value slots reads and writes it; `copied` (tagged_slots): the request words
    that the code copies are slots too."""
    slotted, values = slot_request(request, copied_spans(request, code, lang) if copied else ())
    return slotted, slot_code(code, request, values, lang)


def carry(request: str, code: str, known: str, lang: str, cast: Callable[[str, str], str] | None = None) -> str:
    """A recalled `code`, the answer to the `known` request, with this request's values in place of the known one's:
    the known request's k-th value (by form, slot_request) becomes this request's k-th wherever the code uses it
    (Language.values), and a known value past this request's stays. `cast(value, kind)` writes a value for the
    kind of place it takes ("name", "string", "number"). `sort list `xs` by key 'age'` recalled for `sort list
    `people` by key 'name'` gives `people.sort(key=lambda d: d['name'])`."""
    _, theirs = slot_request(known)
    _, mine = slot_request(request)
    spans = langs.get(lang).values(code, known)
    kinds: dict[str, str] = {}
    for kind, s, e in spans:
        kinds.setdefault(code[s:e], kind)
    new = {v: cast(mine[i], kinds[v]) if cast else mine[i] for i, v in enumerate(theirs[: len(mine)]) if v in kinds}
    return rewrite(code, spans, new) if new else code


def fill(code: str, values: list[str]) -> str:
    """Generated code with its slots filled by the request's values; a slot past them stays as written."""
    return _SLOT.sub(lambda m: values[int(m.group(1))] if int(m.group(1)) < len(values) else m.group(0), code)


def unfilled(code: str, values: list[str]) -> bool:
    """Whether `code` names a slot past the request's values: one that `fill` leaves as written (`top(V1)` for a
    request of one value), which no request gave and no user could run."""
    return any(int(m.group(1)) >= len(values) for m in _SLOT.finditer(code))
