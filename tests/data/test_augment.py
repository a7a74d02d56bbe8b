"""Literal swapping: the values a request and its code share are replaced alike, and nothing else changes."""

import re

from cfusion import langs
from cfusion.data.augment import shared_values, swap_literals
from cfusion.data.pairs import Pair


def cf(nl, code):
    return Pair(nl, code, "cf")


def py(nl, code):
    return Pair(nl, code, "python")


def test_cf_values_are_numbers_and_text_operands():
    pack = langs.get("cf")
    rule = "AND(GreaterThanEqual(25), LessThan(50%))"
    assert [(k, rule[s:e]) for k, s, e in pack.values(rule)] == [("number", "25"), ("number", "50")]
    rule = 'OR(TextContains(Bull), TextEquals("In Progress"))'
    assert [(k, rule[s:e]) for k, s, e in pack.values(rule)] == [("text", "Bull"), ("text", "In Progress")]
    assert pack.values("Duplicate()") == []


def test_python_values_are_numbers_strings_and_quoted_names():
    pack = langs.get("python")
    code = "df['col'].fillna(0, x=y)"
    found = [(k, code[s:e]) for k, s, e in pack.values(code, "fill nans of `df` with 0")]
    assert found == [("name", "df"), ("string", "col"), ("number", "0")]
    # A name the request does not quote is code, not a value: `fillna`, `x`, `y` never count.
    assert [code[s:e] for k, s, e in pack.values(code, "fill nans") if k == "name"] == []
    assert pack.values("print('unclosed", "") == []


def test_shared_values_need_the_value_as_a_whole_word_of_the_request():
    assert shared_values(cf("greater than 2305", "GreaterThan(2305)")) == [("number", "2305")]
    assert shared_values(cf("greater than 23050", "GreaterThan(2305)")) == []
    assert shared_values(cf("highlight duplicates", "Duplicate()")) == []


def test_swapped_copies_carry_the_new_values_into_request_and_code():
    pairs = [
        cf("Format cells between 25 and 50", "Between(25,50)"),
        cf("Color cells that contain Bull", "TextContains(Bull)"),
        cf("Color cells that contain Bear", "TextContains(Bear)"),
        cf("Highlight duplicates", "Duplicate()"),
    ]
    out = swap_literals(pairs, copies=3, seed=1)
    assert out and all(p.lang == "cf" for p in out)
    assert not any(p.code == "Duplicate()" for p in out)  # nothing shared: no copies
    for p in out:
        if p.code.startswith("Between"):
            lo, hi = map(int, re.findall(r"\d+", p.code))
            assert lo < hi and (lo, hi) != (25, 50)  # new numbers, old order
            assert p.nl == f"Format cells between {lo} and {hi}"
        else:
            word = re.search(r"TextContains\((\w+)\)", p.code).group(1)
            assert p.nl == f"Color cells that contain {word}"
            assert word in ("Bull", "Bear")  # drawn from the other pairs' text values
    assert swap_literals(pairs, copies=3, seed=1) == out  # deterministic


def test_python_swaps_quoted_names_and_strings_everywhere_they_occur():
    pairs = [
        py("prepend string 'hello' to all items in list `a`", "['hello{0}'.format(i) for i in a]"),
        py("sort list `xs` by key 'age'", "xs.sort(key=lambda d: d['age'])"),
    ]
    out = swap_literals(pairs, copies=2, seed=0)
    assert out
    for p in out:
        names = re.findall(r"`(\w+)`", p.nl)
        assert names and all(re.search(rf"\b{n}\b", p.code) for n in names)
        assert langs.get("python").valid(p.code)
