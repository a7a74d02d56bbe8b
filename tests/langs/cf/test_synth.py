"""The synthetic CF pair generator: deterministic per seed, valid and evaluable rules covering every function family,
the rule's values written in the request, and requests varied enough not to be one template."""

import re
from collections import Counter

import pytest

from cfusion import langs
from cfusion.data.slots import copied_spans
from cfusion.langs.cf.grammar import normalise, values
from cfusion.langs.cf.interpret import evaluable, parse
from cfusion.langs.cf.synth import _IMPLIED, synth_pairs

FAMILIES = {
    "GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual", "Between", "NotBetween", "Equals", "NotEquals",
    "TextEquals", "TextContains", "TextStartsWith", "TextEndsWith", "Blanks", "Errors", "Duplicate", "Unique",
    "top", "top%", "bottom", "bottom%", "aboveAverage", "belowAverage", "ColorScale", "DataBar", "IconSet",
    "AND", "OR", "NOT",
}  # fmt: skip


@pytest.fixture(scope="module")
def pairs():
    return synth_pairs(2000, seed=0)


def families(rule: str) -> set[str]:
    """The function families a rule uses, top/bottom split by whether the count is a percentage."""
    names = {name.lower(): name for name in FAMILIES}
    out = set()
    for call in parse(rule).walk():
        name = names.get(call.key, call.name)
        if call.key in ("top", "bottom") and call.args[0].text.endswith("%"):
            name += "%"
        out.add(name)
    return out


def test_deterministic_per_seed():
    assert synth_pairs(300, seed=3) == synth_pairs(300, seed=3)
    assert synth_pairs(300, seed=3) != synth_pairs(300, seed=4)
    assert len(synth_pairs(17, seed=5)) == 17


def test_rules_are_valid_and_evaluable(pairs):
    cf = langs.get("cf")
    assert len(pairs) == 2000
    for request, rule in pairs:
        assert cf.valid(rule), rule
        assert evaluable(rule), rule
        assert request.strip(), rule


def test_every_family_appears(pairs):
    seen = Counter(f for _, rule in pairs for f in families(rule))
    assert FAMILIES <= set(seen), FAMILIES - set(seen)


def test_values_are_written_in_the_request_unless_implied(pairs):
    implied = 0
    for request, rule in pairs:
        flat = re.sub(r"(?<=\d),(?=\d{3})", "", request)  # "1,500" in a request is 1500 in the rule
        for kind, a, b in values(rule):
            if rule[a:b] in request or (kind == "number" and rule[a:b] in flat):
                continue
            # "negative numbers" is LessThan(0), "the highest price" top(1): only _IMPLIED's rules may leave one out
            assert any(f"{name}({value})" in rule and value == rule[a:b] for name, value in _IMPLIED), (request, rule)
            implied += 1
    assert implied >= 20


def test_units_and_headers_are_not_values(pairs):
    """A unit or currency around a number ("20 kg", "$250") and a column's header ("in the Days Late column") are in
    requests but never in the rule, so that the value tagger learns to leave them out of the values it marks."""
    unit = re.compile(r"(?<=\d) (kg|days|hours|points|units|GB)\b|[$£€](?=\d)")
    header = re.compile(r"in the ([A-Z][\w ]*) column|under the ([A-Z][\w ]*) heading")
    seen = Counter()
    for request, rule in pairs:
        units = [m.span() for m in unit.finditer(request)]
        headers = [m.span(m.lastindex) for m in header.finditer(request)]
        seen.update(unit=len(units), header=len(headers))
        for s, e in units + headers:
            assert not any(a < e and s < b for a, b in copied_spans(request, rule, "cf")), (request, rule)
    assert seen["unit"] >= 40 and seen["header"] >= 20, seen


def test_requests_are_varied(pairs):
    requests = [r for r, _ in pairs]
    prefix, count = Counter(" ".join(r.lower().split()[:3]) for r in requests).most_common(1)[0]
    assert count <= 0.05 * len(requests), (prefix, count)
    assert len(set(requests)) >= 1000


def test_given_rules_are_described_where_the_grammar_can():
    given = ["TextEquals(In Progress)", "NotEquals(0.5)", "AND(GreaterThanEqual(25),LessThan(50))", "bottom(3%)"]
    odd = ["SUMPRODUCT(($D4<=$E$4:$E$8)*($E4>=$D$4:$D$8))>1", "TextEquals($B$5)", "GreaterThan(13 Days)"]
    rules = {normalise(rule) for _, rule in synth_pairs(300, seed=1, rules=given + odd)}
    assert {normalise(r) for r in given} <= rules
    assert not {normalise(r) for r in odd} & rules
