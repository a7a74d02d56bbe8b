"""The CF rule pack: the grammar on hand-picked rules and on the CodeFusion CF benchmark; the normal form."""

import json

import pytest

from cfusion import langs
from cfusion.langs.cf.grammar import valid as cf_valid


@pytest.mark.parametrize(
    "rule, ok",
    [
        ("AND(GreaterThanEqual(25),LessThan(50))", True),
        ("cellValue > 10", True),
        ("TextContains(abc)", True),
        ("TextEquals(In Progress)", True),
        ("TextEquals(enter client's name)", True),
        ("TextContains(TELECON (ALL))", True),
        ("Between(c[0], 9, 18)", True),
        ("TextEquals(c[3], 'Worldwide')", True),
        ('OR(LessThan(1),TextEquals("0%"))', True),
        ("top(10%)", True),
        ("Blanks()", True),
        ("SUMPRODUCT(($D4<=$E$4:$E$8)*($E4>=$D$4:$D$8))>1", True),
        ("$A2=$A3", True),
        ("if(NOT(isBlank($Sheet1!I2), make green, make red)", False),  # unbalanced
        ("TextContains(()", False),
        ('TextEquals(Male",formula2:undefined)', False),
        ("TextContains('abc)", False),
        ("GreaterThan(5) >", False),
        ("--", False),
        ("cellValue", False),  # a value, not a rule
        ("", False),
    ],
)
def test_cf_valid(rule, ok):
    assert cf_valid(rule) is ok


def test_cf_grammar_covers_the_benchmark(shared_data):
    path = shared_data / "codefusion" / "CFRuleBenchmarks.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    data = json.loads(path.read_text())
    for split in ("train", "test"):
        codes = [row["Code"] for row in data[split]]
        share = sum(map(cf_valid, codes)) / len(codes)
        assert share >= 0.95, f"{split}: {share:.3f} of {len(codes)} rules parse"


def test_exact_match_ignores_case_and_spaces_around_punctuation():
    cf = langs.get("cf")
    assert cf.exact("between(1 , 5)", ["Between(1,5)"]) == 1.0
    assert cf.exact("TextEquals(In Progress)", ["TextEquals(InProgress)"]) == 0.0


@pytest.mark.parametrize(
    "rule, ok",
    [
        ("bottom(1)", True),
        ("AND(GreaterThanEqual(25),NOT(TextContains(TELECON (ALL))))", True),
        ("cellValue > 10", True),  # not read as calls: the grammar decides
        ("Between(c[0], 9, 18)", True),
        ("bottomorScale()", False),  # parses, but no such rule
        ("OR(LessThan(1),Colourful(2))", False),
    ],
)
def test_a_usable_rule_calls_only_functions_the_interpreter_knows(rule, ok):
    cf = langs.get("cf")
    assert cf.valid(rule)
    assert cf.usable(rule) is ok
