"""Python's metrics: CoNaLa's BLEU on hand-worked examples, sacrebleu's BLEU beside it, and CodeBLEU offline."""

import logging
import math
import socket

import pytest

from cfusion.langs.python.metrics import (
    CODEBLEU,
    CONALA_BLEU,
    SACRE_BLEU,
    codebleu,
    codebleu_sentence,
    conala_bleu,
    conala_bleu_sentence,
    conala_tokenize,
    sacre_bleu,
    sacre_bleu_sentence,
)

# --- CoNaLa's tokenizer ---


@pytest.mark.parametrize(
    "code, tokens",
    [
        ('df.groupBy("a")', ["df", ".", "group", "By", "(", "`", "a", "`", ")"]),  # both quotes become a backtick
        ("x = 'a'", ["x", "=", "`", "a", "`"]),
        ("getHTTPResponse", ["get", "HTTPResponse"]),  # only a lower-case letter then an upper-case one splits
        ("aAaA", ["a", "Aa", "A"]),  # non-overlapping, left to right
        ("my_var2 += 1", ["my_var2", "+", "=", "1"]),  # every other character is a token of its own
        ("a\t\tb\n  c", ["a", "b", "c"]),
        ("café", ["caf", "é"]),  # only ASCII letters are word characters
        ("", []),
    ],
)
def test_conala_tokenize(code, tokens):
    assert conala_tokenize(code) == tokens


# --- CoNaLa's BLEU ---


def test_conala_bleu_identical_corpus_is_100():
    corpus = ["x = foo(1, 2)", "df.groupBy('a').sum()", "print(sorted(d.items(), key=lambda kv: kv[1]))"]
    assert conala_bleu(corpus, [[c] for c in corpus]) == pytest.approx(100.0)
    # Quotes and spacing are normalised away before counting.
    assert conala_bleu(['x = "a"'], [["x='a'"]]) == pytest.approx(100.0)


def test_conala_bleu_one_token_changed():
    # y = f ( a , c ) against y = f ( a , b ): 8 tokens each. Matches: 7/8 unigrams, 5/7 bigrams (those with c
    # miss), 4/6 trigrams, 3/5 4-grams; same length, no penalty. BLEU = (7/8 * 5/7 * 4/6 * 3/5)^(1/4) = (1/4)^(1/4).
    assert conala_bleu(["y = f(a, c)"], [["y = f(a, b)"]]) == pytest.approx(100 / math.sqrt(2))


def test_conala_bleu_clips_repeated_ngrams():
    # a a b c d against a b c d e: `a` counts once. Precisions 4/5, 3/4, 2/3, 1/2: BLEU = (1/5)^(1/4).
    assert conala_bleu(["a a b c d"], [["a b c d e"]]) == pytest.approx(100 * 0.2**0.25)


def test_conala_bleu_brevity_penalty():
    # Every n-gram matches; 4 tokens against 6: exp(1 - 6/4).
    assert conala_bleu(["a b c d"], [["a b c d e f"]]) == pytest.approx(100 * math.exp(-0.5))
    # Longer than the reference: no penalty, the precisions pay (6/8, 5/7, 4/6, 3/5).
    expected = 100 * (6 / 8 * 5 / 7 * 4 / 6 * 3 / 5) ** 0.25
    assert conala_bleu(["a b c d e f x y"], [["a b c d e f"]]) == pytest.approx(expected)


def test_conala_bleu_multiple_references_take_the_shortest_length():
    # All n-grams of the prediction (6 tokens) are in the second reference. CoNaLa's length is the SHORTEST
    # reference's (4): no penalty. sacrebleu takes the closest (7): exp(1 - 7/6).
    preds, refs = ["a b c d e f"], [["a b c d", "a b c d e f g"]]
    assert conala_bleu(preds, refs) == pytest.approx(100.0)
    assert sacre_bleu(preds, refs) == pytest.approx(100 * math.exp(1 - 7 / 6))
    # An n-gram counts up to its largest count in any ONE reference, not their sum: `a` 4 times (not 6), `a a` 3
    # times... Precisions 4/5, 3/4, 2/3, 1/2; the shortest reference (2) is shorter: no penalty.
    assert conala_bleu(["a a a a a"], [["a a", "a a a a"]]) == pytest.approx(100 * 0.2**0.25)


def test_conala_bleu_sums_counts_over_the_corpus():
    # Request 1 matches fully (4, 3, 2, 1 n-grams); request 2 (e f against g h) adds 2 unigrams and 1 bigram that
    # miss. Precisions 4/6, 3/4, 2/2, 1/1, lengths 6 and 6: (1/2)^(1/4), not the mean of sentence BLEUs (50).
    assert conala_bleu(["a b c d", "e f"], [["a b c d"], ["g h"]]) == pytest.approx(100 * 0.5**0.25)


def test_conala_bleu_edge_cases():
    assert conala_bleu(["a b c"], [["a b d"]]) == 0.0  # no 3-gram matches: unsmoothed corpus BLEU is 0
    assert conala_bleu([""], [["x = 1"]]) == 0.0
    assert conala_bleu([], []) == 0.0
    with pytest.raises(ValueError, match="reference lists"):
        conala_bleu(["a"], [])
    with pytest.raises(ValueError, match="refs is empty"):
        conala_bleu(["a"], [[]])


def test_conala_bleu_sentence_is_smoothed():
    # a b c against a b d: 2/3 unigrams; orders 2-4 add one: (1+1)/(2+1), (0+1)/(1+1), (0+1)/(0+1).
    assert conala_bleu_sentence("a b c", ["a b d"]) == pytest.approx(100 * (2 / 3 * 2 / 3 * 1 / 2 * 1) ** 0.25)
    assert conala_bleu_sentence("x y", ["a b d"]) == 0.0  # unigrams are never smoothed
    assert conala_bleu_sentence("y = f(a, b)", ["z", "y = f(a, b)"]) == pytest.approx(100.0)


# --- sacrebleu's BLEU ---


def test_sacre_bleu():
    assert sacre_bleu(["x = foo(1, 2)"], [["x = foo(1, 2)"]]) == pytest.approx(100.0)
    assert sacre_bleu(["a b c d"], [["w x y z"]]) == pytest.approx(0.0)
    # References per prediction may differ in number; the matching one counts.
    assert sacre_bleu(["a b c d e", "p q r s t"], [["z z z", "a b c d e"], ["p q r s t"]]) == pytest.approx(100.0)
    assert sacre_bleu([], []) == 0.0
    with pytest.raises(ValueError, match="reference lists"):
        sacre_bleu(["a"], [])
    assert sacre_bleu_sentence("x = foo(1, 2)", ["y", "x = foo(1, 2)"]) == pytest.approx(100.0)
    assert 0 < sacre_bleu_sentence("a b c", ["a b d"]) < 100  # exp smoothing: partial matches score above 0


# --- CodeBLEU ---


def test_codebleu_identical_is_100_without_the_network(monkeypatch):
    pytest.importorskip("codebleu")

    def no_network(*args, **kwargs):
        raise AssertionError("CodeBLEU tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    code = "def add(a, b):\n    return a + b"
    assert codebleu([code], [[code]]) == pytest.approx(100.0)
    assert codebleu_sentence(code, [code]) == pytest.approx(100.0)


def test_codebleu_sentence_is_quiet_and_scores_one_request(caplog):
    pytest.importorskip("codebleu")
    before = logging.root.manager.disable
    with caplog.at_level(logging.WARNING):
        # f(1) has no data flow: codebleu warns on the root logger for every such one-request corpus.
        score = codebleu_sentence("g(1)", ["f(1)"])
        assert not caplog.records and logging.root.manager.disable == before
        assert score == pytest.approx(codebleu(["g(1)"], [["f(1)"]]))
    assert caplog.records  # the corpus score still warns


def test_corpus_metrics_carry_their_sentence_scores():
    preds, refs = ["y = f(a, c)"], [["y = f(a, b)"]]
    for metric, corpus, sentence in [
        (CONALA_BLEU, conala_bleu, conala_bleu_sentence),
        (SACRE_BLEU, sacre_bleu, sacre_bleu_sentence),
        (CODEBLEU, codebleu, codebleu_sentence),
    ]:
        if metric is CODEBLEU:
            pytest.importorskip("codebleu")
        assert metric(preds, refs) == corpus(preds, refs) and metric.sentence is sentence
