"""Language-neutral scoring: exact match through each pack's normal form, diversity, and the top-k aggregate."""

import math
import random

import pytest

from cfusion.eval.metrics import distinct_ngrams, exact_match, pairwise_edit_distance, score_topk

# --- exact match and validity ---


@pytest.mark.parametrize(
    "pred, refs, lang, expected",
    [
        ("ls   -l\n", ["ls -l"], "bash", 1.0),
        ("ls -L", ["ls -l"], "bash", 0.0),
        ("x = 1", ["y = 2", "x  =  1"], "python", 1.0),
        ("x=1", ["x = 1"], "python", 0.0),  # python: whitespace runs only
        ("between(1 , 5)", ["Between(1,5)"], "cf", 1.0),  # cf: case and spaces around punctuation
        ("TextEquals(In Progress)", ["TextEquals(InProgress)"], "cf", 0.0),
        ("", [""], "bash", 0.0),
    ],
)
def test_exact_match(pred, refs, lang, expected):
    assert exact_match(pred, refs, lang) == expected


def test_exact_match_rejects_unknown_language():
    with pytest.raises(ValueError, match="lang must be one of"):
        exact_match("a", ["a"], "sql")


# --- diversity ---


def test_distinct_ngrams():
    cands = ["a b a", "a b"]  # unigrams a b a a b; bigrams ab ba ab; one trigram
    assert distinct_ngrams(cands, 1) == pytest.approx(2 / 5)
    assert distinct_ngrams(cands, 2) == pytest.approx(2 / 3)
    assert distinct_ngrams(cands, 3) == 1.0
    assert distinct_ngrams(cands, 4) == 0.0
    assert distinct_ngrams([], 1) == 0.0


def test_pairwise_edit_distance():
    assert pairwise_edit_distance(["kitten", "sitting"]) == pytest.approx(3 / 7)
    assert pairwise_edit_distance(["abc", "abc", "abd"]) == pytest.approx((0 + 1 / 3 + 1 / 3) / 3)
    assert pairwise_edit_distance(["", "ab"]) == 1.0
    assert pairwise_edit_distance(["", ""]) == 0.0
    assert pairwise_edit_distance(["only one"]) == 0.0
    assert pairwise_edit_distance([]) == 0.0


def _levenshtein_dp(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_edit_distance_matches_the_textbook_dp():
    rng = random.Random(0)
    for _ in range(300):
        # Lengths past 64 cross machine-word boundaries of the bit-parallel version.
        a, b = ("".join(rng.choice("abé ") for _ in range(rng.randint(0, 150))) for _ in range(2))
        expected = _levenshtein_dp(a, b) / max(len(a), len(b), 1)
        assert pairwise_edit_distance([a, b]) == pytest.approx(expected)


# --- the aggregate ---


def test_score_topk_bash_toy():
    preds = [["ls -l", "ls -a"], ["cat f | wc -l"], ["rmdir y", "rmdir x", "rmdir |"]]
    refs = [["ls -a"], ["cat f | wc -l", "wc -l f"], ["rmdir x"]]
    m = score_topk(preds, refs, "bash", ks=(1, 3))
    expected = {
        # request 1: "ls -l" vs "ls -a" is 1/2 by template, -0.5 by NLC2CMD; requests 2 and 3 are right at top-1
        # up to arguments; exact matches at top-1: request 2 only.
        "template_match@1": 100 * (0.5 + 1 + 1) / 3,
        "template_match@3": 100.0,
        "template_accuracy@1": 100 * 2 / 3,
        "template_accuracy@3": 100.0,
        "exact@1": 100 / 3,
        "exact@3": 100.0,
        "nlc2cmd@1": (-0.5 + 1 + 1) / 3,
        "nlc2cmd@3": 1.0,
        "valid@1": 100.0,
        "valid_all": 100 * 5 / 6,  # "rmdir |" does not parse
        # Diversity only over lists of two or more: requests 0 and 2 (request 1 has a single candidate).
        "distinct_1": (3 / 4 + 4 / 6) / 2,
        "distinct_2": 1.0,
        "distinct_3": 0.0,  # neither list has a 3-gram: nothing to average
        "distinct_4": 0.0,
        "edit_distance": (1 / 5 + 1 / 7) / 2,  # one character apart in each list
    }
    assert m.keys() == expected.keys()
    for key, value in expected.items():
        assert m[key] == pytest.approx(value), key


def test_score_topk_python_and_cf():
    m = score_topk([["x = foo(1, 2)", "x=1"], []], [["x = foo(1, 2)"], ["y = 2"]], "python", ks=(1,))
    assert m["exact@1"] == 50.0 and m["valid@1"] == 50.0 and m["valid_all"] == 100.0
    # All n-grams match; 8 hypothesis tokens (x = foo ( 1 , 2 )) against 11 reference tokens: brevity penalty only.
    assert m["bleu@1"] == pytest.approx(100 * math.exp(1 - 11 / 8)) and "nlc2cmd@1" not in m
    m = score_topk([["between(1, 5)", "Between(1"]], [["Between(1,5)"]], "cf", ks=(1, 5))
    assert (m["exact@1"], m["exact@5"], m["valid@1"], m["valid_all"]) == (100.0, 100.0, 100.0, 50.0)
    assert m["edit_distance"] == pytest.approx(5 / 13)  # B for b, then ", 5)" missing


def test_score_topk_rejects_bad_input():
    with pytest.raises(ValueError, match="lang"):
        score_topk([["a"]], [["a"]], "sql")
    with pytest.raises(ValueError, match="reference lists"):
        score_topk([["a"]], [], "bash")
    with pytest.raises(ValueError, match="refs is empty"):
        score_topk([["a"]], [[]], "bash")
