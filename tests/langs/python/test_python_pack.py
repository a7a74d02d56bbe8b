"""The Python pack: validity by ast.parse, maskable names, BLEU and CodeBLEU."""

import pytest

from cfusion import langs
from cfusion.langs.python.metrics import bleu
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


# --- BLEU ---


def test_bleu():
    assert bleu(["x = foo(1, 2)"], [["x = foo(1, 2)"]]) == pytest.approx(100.0)
    assert bleu(["a b c d"], [["w x y z"]]) == pytest.approx(0.0)
    # References per prediction may differ in number; the matching one counts.
    assert bleu(["a b c d e", "p q r s t"], [["z z z", "a b c d e"], ["p q r s t"]]) == pytest.approx(100.0)
    assert bleu([], []) == 0.0
    with pytest.raises(ValueError, match="reference lists"):
        bleu(["a"], [])


def test_codebleu_identical_is_100():
    pytest.importorskip("codebleu")
    from cfusion.langs.python.metrics import codebleu

    code = "def add(a, b):\n    return a + b"
    assert codebleu([code], [[code]]) == pytest.approx(100.0)


def test_maskable_spans_are_the_names_also_in_incomplete_code():
    py = langs.get("python")
    code = "x = foo(y, 'bar')"
    assert [code[s:e] for s, e in py.maskable_spans(code)] == ["x", "foo", "y"]
    code = "x = foo(y, 'ba"  # unclosed: the fallback scan still skips the string
    assert [code[s:e] for s, e in py.maskable_spans(code)] == ["x", "foo", "y"]
