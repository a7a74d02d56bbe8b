"""Value slots: a request's numbers and quoted text become V0, V1 ...; training pairs and generated code follow."""

import torch

from cfusion.core.tokenizer import PAD_ID, CodeTokenizer
from cfusion.data.slots import blank, carry, copied_spans, fill, slot_pair, slot_request, unfilled
from cfusion.langs.cf.grammar import valid
from cfusion.pipeline.sample import candidates


def test_numbers_and_quoted_text_become_slots_in_order_of_first_appearance():
    text, values = slot_request('cells between 689 and 927, or "N/A", or 689 again')
    assert text == 'cells between V0 and V1, or "V2", or V0 again'
    assert values == ["689", "927", "N/A"]


def test_an_apostrophe_inside_a_word_opens_no_quote():
    assert slot_request("color the client's rows marked 'late'") == ("color the client's rows marked 'V0'", ["late"])


def test_numbers_inside_words_and_cell_references_stay():
    text, values = slot_request("cells C6-C35 of sheet2 above 1,500 and 2.5")
    assert text == "cells C6-C35 of sheet2 above V0 and V1"
    assert values == ["1500", "2.5"]  # held without its thousands separator, as code writes it


def test_thousands_separators_are_dropped_but_other_commas_kept():
    assert slot_request("over 1,234,567.5 or 2,5 or 12,34")[1] == ["1234567.5", "2,5", "12,34"]
    assert slot_pair("anything over 1,500", "GreaterThan(1500)", "cf") == ("anything over V0", "GreaterThan(V0)")


def test_given_spans_become_slots_after_the_values_found_by_form():
    request = "cells containing FB or 'late' above 10"
    fb = (request.index("FB"), request.index("FB") + 2)
    late = (request.index("late"), request.index("late") + 4)  # inside quotes: found by form already
    assert slot_request(request, [fb, late]) == ("cells containing V0 or 'V1' above V2", ["FB", "late", "10"])


def test_copied_words_are_slots_only_when_asked():
    request, code = "Color cells that have value equal to On Hold", "TextEquals(On Hold)"
    assert copied_spans(request, code, "cf") == [(37, 44)]
    assert slot_pair(request, code, "cf") == (request, code)
    assert slot_pair(request, code, "cf", copied=True) == ("Color cells that have value equal to V0", "TextEquals(V0)")
    # a word inside another word is no copy
    assert copied_spans("highlight Holdings", "TextEquals(Hold)", "cf") == []


def test_a_training_pair_slots_only_the_code_values_the_request_holds():
    assert slot_pair("between 25 and 50", "AND(GreaterThanEqual(25),LessThan(50%))", "cf") == (
        "between V0 and V1",
        "AND(GreaterThanEqual(V0),LessThan(V1%))",
    )
    assert slot_pair("contains 'FB'", "TextContains(FB)", "cf") == ("contains 'V0'", "TextContains(V0)")
    # 100 is not in the request: the model has to write it out.
    assert slot_pair("above 5", "AND(GreaterThan(5),LessThan(100))", "cf")[1] == "AND(GreaterThan(V0),LessThan(100))"
    assert slot_pair("sort list `xs` by key 'age'", "xs.sort(key=lambda d: d['age'])", "python") == (
        "sort list `V0` by key 'V1'",
        "V0.sort(key=lambda d: d['V1'])",
    )


def test_fill_puts_the_values_back_and_leaves_unknown_slots():
    assert fill("Between(V0,V1)", ["689", "927"]) == "Between(689,927)"
    assert fill("GreaterThan(V3)", ["1"]) == "GreaterThan(V3)"
    assert fill("CV0 + V0x", ["7"]) == "CV0 + V0x"  # only whole slots
    request, code = "between 10 and 2000", "Between(10,2000)"
    slotted, values = slot_request(request)
    assert fill(slot_pair(request, code, "cf")[1], values) == code


def test_a_slot_past_the_values_is_unfilled():
    assert not unfilled("Between(V0,V1)", ["689", "927"])
    assert unfilled("Top(V1)", ["3"])
    assert unfilled("V0", [])
    assert not unfilled("CV1 + V1x", [])  # only whole slots


def test_a_sample_with_an_unfilled_slot_is_no_valid_candidate():
    tok = CodeTokenizer.train(["Top(V0)", "Top(V1)", "GreaterThan(V0)"] * 20, 300)
    rows = [tok.encode(c) + [PAD_ID] for c in ("Top(V1)", "Top(V0)")]
    ids = torch.tensor(rows)
    found = candidates(tok, ids, torch.zeros(ids.shape), range(2), valid, ["3"])
    assert {c: x.valid for c, x in found.items()} == {"Top(V1)": False, "Top(3)": True}
    assert valid("Top(V1)")  # what the grammar alone would have let through


def test_carry_puts_the_requests_values_where_the_known_ones_stood():
    known, code = "color cells between 10 and 20", "Between(10,20)"
    assert carry("color cells between 5 and 7.5", code, known, "cf") == "Between(5,7.5)"
    assert carry("color cells between two values", code, known, "cf") == code  # no value to carry
    cast = lambda value, kind: f"<{value}>"  # noqa: E731
    assert carry("sort `ys`", "xs.sort()", "sort `xs`", "python", cast) == "<ys>.sort()"


def test_blank_writes_each_value_as_x_and_keeps_the_quotes():
    assert blank("sort list `people` by key 'name', first 5") == "sort list `x` by key 'x', first x"
    assert blank("the client's rows") == "the client's rows"
