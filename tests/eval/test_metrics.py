"""Language-neutral scoring: exact match through each pack's normal form, diversity, and the top-k aggregate."""

import math
import random

import pytest

from cfusion import langs
from cfusion.eval.metrics import distinct_ngrams, exact_match, pairwise_edit_distance, score_topk
from cfusion.langs.base import Metrics

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
    # All n-grams match; 8 hypothesis tokens (x = foo ( 1 , 2 )) against 11 reference tokens: brevity penalty only,
    # the same by CoNaLa's tokenizer and by sacrebleu's.
    assert m["conala_bleu@1"] == pytest.approx(100 * math.exp(1 - 11 / 8)) and "nlc2cmd@1" not in m
    assert m["sacrebleu@1"] == pytest.approx(100 * math.exp(1 - 11 / 8)) and "bleu@1" not in m
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


# --- corpus metrics at top-k ---


def test_score_topk_python_keys():
    m = score_topk([["x = 1", "x = 2"]], [["x = 1"]], "python")
    at = [f"{name}@{k}" for name in ("exact", "conala_bleu", "sacrebleu", "codebleu") for k in (1, 3, 5)]
    rest = ["valid@1", "valid_all", "distinct_1", "distinct_2", "distinct_3", "distinct_4", "edit_distance"]
    assert list(m) == at + rest


def test_corpus_at_k_picks_the_best_of_the_first_k():
    # Top-1 differs from the reference in one token: 100 / sqrt(2) (tests/langs/python); the second is exact.
    m = score_topk([["y = f(a, c)", "y = f(a, b)"]], [["y = f(a, b)"]], "python")
    assert m["conala_bleu@1"] == pytest.approx(100 / math.sqrt(2))
    assert m["conala_bleu@3"] == m["conala_bleu@5"] == pytest.approx(100.0)
    assert m["sacrebleu@1"] < m["sacrebleu@3"] == pytest.approx(100.0)
    assert m["codebleu@1"] < m["codebleu@3"] == m["codebleu@5"]


def test_corpus_at_k_ties_go_to_the_earlier_candidate():
    # Request 1's candidates both match nothing (sentence BLEU 0): the earlier, "a b", stays. With request 2 (6
    # tokens, all matching): precisions 6/8, 5/6, 4/4, 3/3 and 8 tokens against 10: (5/8)^(1/4) * exp(1 - 10/8).
    # The later candidate would give 6/12, 5/10, 4/8, 3/6 and no penalty: 50.
    preds = [["a b", "c d e f g h"], ["p q r s t u"]]
    refs = [["x y z w"], ["p q r s t u"]]
    m = score_topk(preds, refs, "python", ks=(1, 3))
    expected = 100 * (5 / 8) ** 0.25 * math.exp(1 - 10 / 8)
    assert m["conala_bleu@1"] == m["conala_bleu@3"] == pytest.approx(expected)


def test_corpus_at_k_picks_conala_bleu_by_its_smoothed_sentence_score():
    # Unsmoothed, "p q r" and "a b c" both score 0 against "a b d" (no 3-gram matches) and the earlier would stay;
    # smoothed, "a b c" wins. With request 2 (5 tokens, all matching): 7/8, 5/6, 3/4, 2/2, 8 tokens against 8.
    preds = [["p q r", "a b c"], ["k l m n o"]]
    refs = [["a b d"], ["k l m n o"]]
    m = score_topk(preds, refs, "python", ks=(1, 3))
    assert m["conala_bleu@1"] == pytest.approx(100 * (5 / 8 * 4 / 6 * 3 / 4) ** 0.25)
    assert m["conala_bleu@3"] == pytest.approx(100 * (7 / 8 * 5 / 6 * 3 / 4) ** 0.25)


def test_corpus_at_k_picks_by_sentence_not_by_corpus():
    # The pick is the best sentence, which need not help the corpus: "q" scores 0 alone, the long candidate above
    # 0; yet with request 2 (10 tokens, all matching) the corpus with "q" scores (10/11)^(1/4) * exp(1 - 18/11)
    # (short: penalty) and the corpus with the long one (14/30 * 12/28 * 10/26 * 8/24)^(1/4), which is lower.
    long = "a b c d " + "x " * 16
    preds = [["q", long], ["k l m n o p r s t u"]]
    refs = [["a b c d e f g h"], ["k l m n o p r s t u"]]
    m = score_topk(preds, refs, "python", ks=(1, 3))
    assert m["conala_bleu@1"] == pytest.approx(100 * (10 / 11) ** 0.25 * math.exp(1 - 18 / 11))
    assert m["conala_bleu@3"] == pytest.approx(100 * (14 / 30 * 12 / 28 * 10 / 26 * 8 / 24) ** 0.25)
    assert m["conala_bleu@3"] < m["conala_bleu@1"]


_SNIPPETS = [
    "x = foo(1, 2)",
    "df.groupby('a').sum()",
    "print(sorted(d.items(), key=lambda kv: kv[1]))",
    "s = ''.join(map(str, lst))",
    "os.path.join(root, name)",
    "re.findall('\\d+', text)",
    "[x for x in lst if x % 2 == 0]",
    "with open('f.txt') as f:\n    lines = f.readlines()",
    "np.zeros((3, 4), dtype=int)",
    "dict(zip(keys, values))",
    "max(lst, key=len)",
    "datetime.strptime(s, '%Y-%m-%d')",
]


def test_corpus_at_k_grows_with_k_on_ranked_candidates():
    # Not a theorem (see above), but what candidates of a model look like: edits of the reference or another snippet.
    pytest.importorskip("codebleu")
    rng = random.Random(0)

    def edit(code):
        toks = code.split(" ")
        for _ in range(rng.randint(0, 2)):
            toks[rng.randrange(len(toks))] = rng.choice(["x", "foo", "(", "lst", "1"])
        return " ".join(toks)

    refs = [[s] for s in _SNIPPETS * 3]
    preds = [[edit(r[0] if rng.random() < 0.6 else rng.choice(_SNIPPETS)) for _ in range(5)] for r in refs]
    m = score_topk(preds, refs, "python")
    for name in ("conala_bleu", "sacrebleu", "codebleu"):
        assert m[f"{name}@1"] < m[f"{name}@3"] <= m[f"{name}@5"], name


def test_corpus_at_k_without_a_sentence_score_scores_the_one_request_corpus(monkeypatch):
    # A corpus metric with no `sentence`: the pick is by the metric of the one-request corpus. Here: the share of
    # predictions that are one of their references, so @3 counts a right second candidate.
    def share_right(preds, refs):
        return 100 * sum(p in r for p, r in zip(preds, refs)) / len(preds)

    monkeypatch.setattr(langs.get("cf"), "metrics", lambda: Metrics({}, {}, {"right": share_right}))
    m = score_topk([["a", "b"], ["c"], []], [["b"], ["c"], ["d"]], "cf", ks=(1, 3))
    assert (m["right@1"], m["right@3"]) == (pytest.approx(100 / 3), pytest.approx(200 / 3))
