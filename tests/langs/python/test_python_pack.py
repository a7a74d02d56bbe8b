"""The Python pack: validity by ast.parse and maskable names (its metrics: test_python_metrics.py)."""

import pytest

from cfusion import langs
from cfusion.langs.python.syntax import valid as python_valid


@pytest.mark.parametrize(
    "code, ok",
    [
        ("def f(x):\n    return x", True),
        ('print("\\d")', True),  # an invalid escape warns but parses
        ("def f(x) return x", False),
        ("x = (1,", False),
        ("a\x00b", False),
        ("", False),
    ],
)
def test_python_valid(code, ok):
    assert python_valid(code) is ok


def test_maskable_spans_are_the_names_also_in_incomplete_code():
    py = langs.get("python")
    code = "x = foo(y, 'bar')"
    assert [code[s:e] for s, e in py.maskable_spans(code)] == ["x", "foo", "y"]
    code = "x = foo(y, 'ba"  # unclosed: the fallback scan still skips the string
    assert [code[s:e] for s, e in py.maskable_spans(code)] == ["x", "foo", "y"]


def adapt(request: str, code: str, known: str) -> str:
    return langs.get("python").rules(request).adapt(code, known)


def test_a_recalled_snippet_takes_the_requests_names_strings_and_numbers():
    known, code = "sort list `xs` by key 'age'", "xs.sort(key=lambda d: d['age'])"
    assert adapt("sort list `people` by key 'name'", code, known) == "people.sort(key=lambda d: d['name'])"
    assert adapt("get the first 5 items of list `b`", "a[:3]", "get the first 3 items of list `a`") == "b[:5]"
    # A value past the request's own stays as the known request gave it.
    assert adapt("add 5 to each", "x + 3", "add 3 to each of `x`") == "x + 5"


def test_a_value_that_is_no_name_takes_a_names_place_as_a_string():
    code = adapt("request page 'https://example.com/a b'", "r = requests.get(url)", "request http url `url`")
    assert code == "r = requests.get('https://example.com/a b')"


def test_a_snippet_that_would_not_parse_stays_as_it_was():
    known, code = "split string `s` on 'a'", "s.split('a')"
    assert adapt("split string 5 on 'b'", code, known) == code  # `5.split('b')` would not parse
    assert langs.get("python").rules("split `t`", literals=False).adapt is None
