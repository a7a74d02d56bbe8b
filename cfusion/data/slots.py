"""Value slots: the numbers and quoted text of a request stand as V0, V1 ... in what the model reads and writes.

A model with `value_slots` on never has to spell a value out: it writes `GreaterThan(V0)`, and the slot is filled
with the request's first value (`greater than 2305`). Copying a long number token by token is where a small
diffusion model tears values (`Between(689,27)`); choosing a slot is one token. Which slot goes where is learned:
in training, a code value equal to one of the request's values becomes its slot, and the rest stays as written.
A value is found by its form alone, never by the request's words: a number standing alone, or text in quotes.
"""

from __future__ import annotations

import re

from cfusion import langs

# Quoted text opens and closes outside words (`the client's 'late' rows`: the apostrophe opens nothing).
_VALUE = re.compile(r"""(?<!\w)(["'`])([^"'`\n]{1,80})\1(?!\w)|(?<![\w.,])(-?\d+(?:[.,]\d+)*)(?![\w])""")
_SLOT = re.compile(r"(?<![\w.])V(\d{1,2})(?![\w])")


def slot(i: int) -> str:
    return f"V{i}"


def slot_request(request: str) -> tuple[str, list[str]]:
    """The request with each distinct value replaced by its slot (quotes kept), and the values in slot order."""
    values: list[str] = []

    def sub(m: re.Match) -> str:
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value not in values:
            values.append(value)
        s = slot(values.index(value))
        return f"{m.group(1)}{s}{m.group(1)}" if m.group(2) is not None else s

    return _VALUE.sub(sub, request), values


def rewrite(code: str, spans: list[tuple[str, int, int]], new: dict[str, str]) -> str:
    """`code` with each (kind, start, end) value span whose text is a key of `new` replaced by its value."""
    for _, s, e in sorted(spans, key=lambda x: x[1], reverse=True):  # right to left, so the offsets hold
        if code[s:e] in new:
            code = code[:s] + new[code[s:e]] + code[e:]
    return code


def slot_code(code: str, request: str, values: list[str], lang: str) -> str:
    """`code` with each of its values (Language.values) that equals one of the request's `values` as that slot."""
    return rewrite(code, langs.get(lang).values(code, request), {v: slot(i) for i, v in enumerate(values)})


def slot_pair(request: str, code: str, lang: str) -> tuple[str, str]:
    """A training pair as a model with value slots reads and writes it."""
    slotted, values = slot_request(request)
    return slotted, slot_code(code, request, values, lang)


def fill(code: str, values: list[str]) -> str:
    """Generated code with its slots filled by the request's values; a slot past them stays as written."""
    return _SLOT.sub(lambda m: values[int(m.group(1))] if int(m.group(1)) < len(values) else m.group(0), code)
