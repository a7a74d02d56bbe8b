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
