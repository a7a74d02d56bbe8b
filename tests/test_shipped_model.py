"""The Bash model that ships inside the package: it loads offline and answers well-known requests with valid
commands of the expected utility. It is weak (see MODEL.md); these are the requests it gets right today, kept as a
regression check, not a quality claim."""

import json
from pathlib import Path

import pytest
from conftest import cfusion

import cfusion as pkg
from cfusion.bundle import load_model
from cfusion.generate import Generator
from cfusion.metrics import VALIDATORS

WEIGHTS = Path(pkg.__file__).resolve().parent / "weights" / "bash"


@pytest.fixture(scope="module")
def shipped() -> Generator:
    model, tok, _ = load_model(WEIGHTS)
    return Generator(model, tok)


def test_shipped_weights_fit_the_budget():
    size = sum(p.stat().st_size for p in WEIGHTS.iterdir())
    assert size < 48e6, size
    assert all(p.stat().st_size < 16 * 2**20 for p in WEIGHTS.iterdir())


@pytest.mark.parametrize(
    "request_,utility,flag",
    [
        ("find all txt files under the current directory", "find", "-type f"),
        ("delete empty directories under /tmp", "find", "/tmp"),
        ("find all files modified in the last 7 days", "find", "-mtime"),
    ],
)
def test_top_candidate_is_valid_and_uses_the_expected_utility(shipped, request_, utility, flag):
    top = shipped.generate([request_], "bash", k=5)[0][0]
    assert top.valid and VALIDATORS["bash"](top.code)
    assert top.code.split()[0] == utility and flag in top.code, top.code


def test_the_right_utility_is_among_the_candidates(shipped):
    cands = shipped.generate(["print the current date"], "bash", k=5)[0]
    assert any(c.code.split()[0] == "date" for c in cands), [c.code for c in cands]


def test_gen_uses_the_shipped_model_without_model_flag():
    proc = cfusion("gen", "find all txt files under the current directory", "--lang", "bash", "--json", check=True)
    out = json.loads(proc.stdout)
    assert Path(out["model"]).resolve() == WEIGHTS and out["steps"] == 20
    assert out["candidates"] and out["candidates"][0]["code"].startswith("find ")
