"""The package's shape (ARCHITECTURE.md): no language named outside the language packs, imports that only go down
the layers, and no import cycle between modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where each installed package lives in the checkout: cfusion/, and kernels/ and cli/ installed under it.
PACKAGES = {"cfusion": ROOT / "cfusion", "cfusion.kernels": ROOT / "kernels", "cfusion.cli": ROOT / "cli"}
LANG_NAMES = ("bash", "python", "cf")
# layer -> the layers it must never import (ARCHITECTURE.md, "Import direction")
NEVER = {
    "kernels": {"core", "langs", "recall", "pipeline", "train", "eval", "data", "cli"},
    "core": {"langs", "recall", "pipeline", "train", "eval", "data", "cli"},
    "langs": {"core", "recall", "pipeline", "train", "eval", "cli"},
    "data": {"recall", "pipeline", "train", "eval", "cli"},
    "recall": {"pipeline", "train", "eval", "cli"},
    "pipeline": {"train", "eval", "cli"},
    "train": {"eval", "cli"},
    "eval": {"train", "cli"},
}


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            if "weights" in path.relative_to(folder).parts:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


def imports(path: Path) -> set[str]:
    """The cfusion modules a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cfusion"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("cfusion"))
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cfusion"


def test_no_language_is_named_outside_the_language_packs():
    pattern = re.compile(rf"\b({'|'.join(LANG_NAMES)})\b")
    offenders = []
    for module, path in modules().items():
        if layer(module) in ("langs", "cli"):  # the CLI names its default --lang
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if pattern.search(node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not offenders, "\n".join(offenders)


def test_imports_go_down_the_layers():
    wrong = []
    for module, path in modules().items():
        for target in imports(path):
            if layer(target) in NEVER.get(layer(module), ()):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_module_import_cycle():
    mods = modules()
    # a module's own packages are imported before it whatever it imports: no edge to them
    graph = {m: {t for t in imports(p) if t in mods and t != m and not m.startswith(t + ".")} for m, p in mods.items()}
    # importing a.b.c also imports its packages a.b and a: those edges count too
    for m in list(graph):
        graph[m] |= {
            p for t in list(graph[m]) for p in _parents(t) if p in mods and p != m and not m.startswith(p + ".")
        }
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle.extend(stack[stack.index(t) :] + [t] if t in stack else [m, t])
                return True
            if t not in state and visit(t, stack + [t]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


@pytest.mark.parametrize("name", LANG_NAMES)
def test_every_language_is_a_registered_pack(name):
    from cfusion import langs

    pack = langs.get(name)
    assert pack.name == name and name in langs.names()
    with pytest.raises(ValueError, match="lang must be one of bash, python, cf"):
        langs.get("zsh")


def test_every_package_is_installed():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {m for m, p in modules().items() if p.name == "__init__.py"}
    assert listed == found
