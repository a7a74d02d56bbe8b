"""One-line Python statements for pre-training."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from cfusion.langs.python.snippets import extract_python_snippets

# --- Python snippets ---


def test_extract_python_snippets(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        '"""Module docstring."""\n'
        "import os\n"
        "x = 1  # a comment\n"
        "def f(y):\n"
        '    """Docstring."""\n'
        "    total = sum(\n        [y, 1]\n    )\n"
        "    print(y); y += 2\n"
        "    return y * 2\n"
        f"z = '{'a' * 300}'\n"
    )
    (tmp_path / "b.py").write_text("import os\nx = 1\nprint('héllo')\n")
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_c.py").write_text("assert_me = 1\n")
    snippets = extract_python_snippets(tmp_path)
    assert snippets == ["import os", "x = 1", "print('héllo')", "print(y)", "y += 2", "return y * 2"]
    assert extract_python_snippets(tmp_path, exclude_dirs=())[-1] == "assert_me = 1"
    assert extract_python_snippets(tmp_path, max_len=6) == ["x = 1", "y += 2"]


def test_extract_python_snippets_stdlib_package():
    snippets = extract_python_snippets(Path(os.__file__).parent / "json")
    assert len(snippets) > 100 and len(set(snippets)) == len(snippets)
    for s in snippets:
        assert "\n" not in s and s == s.strip()
        ast.parse(s)
