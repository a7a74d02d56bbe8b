"""The paper's metrics pinned on hand-worked examples, the NLC2CMD README's examples and the real CF rules."""

import json
import math
import random

import pytest

from cfusion.metrics import (
    bash_template_tokens,
    bash_valid,
    bleu,
    cf_valid,
    distinct_ngrams,
    exact_match,
    nlc2cmd_score,
    pairwise_edit_distance,
    python_valid,
    score_topk,
    template_accuracy,
    template_cosines,
    template_match,
)

# --- template tokens ---


@pytest.mark.parametrize(
    "cmd, tokens",
    [
        (
            "find . -name '*.txt' -exec rm -f {} \\; | wc -l",
            ["find", "-name", "-exec", "rm", "-f", "{}", "\\;", "|", "wc", "-l"],
        ),
        ("find . -exec grep -l x {} +", ["find", "-exec", "grep", "-l", "{}", "+"]),
        ("echo $(ls -l) `date` > out.txt 2>&1", ["echo", "$(", "ls", "-l", ")", "`", "date", "`", ">", "2>&1"]),
        ('echo "today $(date +%F)" -n', ["echo", "$(", "date", ")", "-n"]),
        ("grep --include=*.py -rn x 2> /dev/null && (cd y)", ["grep", "--include", "-rn", "2>", "&&", "(", "cd", ")"]),
        ("sudo -u root rm -rf /tmp/x", ["sudo", "-u", "rm", "-rf"]),
        ("find . -print0 | xargs -0 -I {} mv {} /dst", ["find", "-print0", "|", "xargs", "-0", "-I", "{}", "mv", "{}"]),
        ("FOO=1 nohup env X=2 time ls -1", ["nohup", "env", "time", "ls", "-1"]),
        ("xargs --max-args=1 rm -f", ["xargs", "--max-args", "rm", "-f"]),
        ("find . -mtime -3 -size +10M", ["find", "-mtime", "-size"]),  # -3 is the value of -mtime
        ("grep '-v' \"-x\" f", ["grep"]),  # quoted words are arguments
        ("find . \\( -name a -o -name b \\) -print", ["find", "\\(", "-name", "-o", "-name", "\\)", "-print"]),
        ("diff <(sort a) <(sort b)", ["diff", "<(", "sort", ")", "<(", "sort", ")"]),
        # Unparseable: the word scan applies the same rules.
        ("ls -l | ", ["ls", "-l", "|"]),
        ("cat f | grep 'unterminated -v", ["cat", "|", "grep"]),
        ("", []),
    ],
)
def test_bash_template_tokens(cmd, tokens):
    assert bash_template_tokens(cmd) == tokens


# --- template match ---


@pytest.mark.parametrize(
    "pred, refs, expected",
    [
        ("find /home -name '*.txt'", ['find . -name "*.py"'], 1.0),  # only arguments differ
        ("ls -l -a", ["ls -l -h"], 2 / 3),  # {ls, -l, -a} . {ls, -l, -h} = 2 over 3
        ("grep -v x f", ["grep x f"], 1 / math.sqrt(2)),
        ("grep '-v' x f", ["grep -v x f"], 1 / math.sqrt(2)),  # a quoted -v is an argument
        ("ls -l | wc -l", ["ls -l | grep foo"], 4 / math.sqrt(7 * 4)),  # -l twice: (1, 2, 1, 1) . (1, 1, 1, 1)
        ("find . -name '*.log' -exec rm {} \\;", ["find /tmp -name x -exec rm {} +"], 5 / 6),
        ("echo $(date)", ["echo $(whoami)"], 3 / 4),
        # Backquotes and $( ) are different reserved tokens: (echo 1, ` 2, date 1) . (echo, $(, date, ) all 1).
        ("echo `date`", ["echo $(date)"], 2 / math.sqrt(6 * 4)),
        ("ls -l", ["cat x", "ls -l -a"], 2 / math.sqrt(6)),  # max over references
        ("ls -l", ["cat x"], 0.0),
        ("", ["ls"], 0.0),
        ("x=1", ["x=1"], 1.0),  # both templates empty, same string
        ("x=1", ["y=2"], 0.0),
    ],
)
def test_template_match(pred, refs, expected):
    assert template_match(pred, refs) == pytest.approx(expected)


def test_all_pairs_template_matches_equal_the_pairwise_ones():
    cmds = [
        "find . -name '*.txt' -exec rm {} \\;", "ls -la", "ls -l -a /tmp", "x=1", "'quoted'", "echo $(date) > f",
        "sort file | uniq -c | sort -rn", "find . -name '*.txt' -exec rm {} \\;", "du -sh .", "$cmd",
    ]  # fmt: skip
    got = template_cosines(cmds)
    want = [[template_match(a, [b]) for b in cmds] for a in cmds]
    assert got.shape == (len(cmds), len(cmds))
    assert max(abs(g - w) for gr, wr in zip(got.tolist(), want) for g, w in zip(gr, wr)) < 1e-12


def test_template_match_needs_a_reference():
    with pytest.raises(ValueError, match="refs is empty"):
        template_match("ls", [])


# --- strict template accuracy ---


@pytest.mark.parametrize(
    "pred, refs, expected",
    [
        ("find /tmp -name '*.log' -type f", ['find . -type d -name "*.txt"'], 1.0),  # flags reordered, same kinds
        ("ls -al", ["ls -l -a"], 1.0),  # bundled one-letter flags in any order
        ("head -n 5 a.txt", ["head -n 10 b.txt"], 1.0),
        ("head -n 5 a.txt", ["head -n five a.txt"], 0.0),  # _NUM vs _STR
        ("rm /tmp/x", ["rm '*.txt'"], 0.0),  # _PATH vs _PATTERN
        ("echo $HOME", ["echo home"], 0.0),  # _VAR vs _STR
        ("ls -l a", ["ls -l"], 0.0),  # an extra argument
        ("ls -l", ["ls -a"], 0.0),
        ("ls -l | wc -l", ["ls -l; wc -l"], 0.0),  # reserved tokens count
        ("cat a | sort", ["rm b", "cat x | sort"], 1.0),  # any reference
        ("", ["ls"], 0.0),
    ],
)
def test_template_accuracy(pred, refs, expected):
    assert template_accuracy(pred, refs) == expected


# --- NLC2CMD: IBM/clai utils/metric/README.md, each with its documented score ---


@pytest.mark.parametrize(
    "ground_truth, predicted_cmd, metric_val",
    [
        ("find . -type f -ctime -3 | tail -n 5", "find . -type f | tail -n 5", 0.75),
        ("df | grep /dev/disk0s2", "df | grep diskpath", 1.0),  # parameters are not taken into consideration
        (
            "find . -regextype posix-egrep -regex '^.*/[a-z][^/]*$' -type f",
            "find . -type f -regextype posix-egrep -regex '^.*/[a-z][^/]*$' ",
            1.0,  # order of flags does not matter
        ),
        ("mkdir directory", " touch directory", -1.0),  # wrong utility
        ("df --total | tail -n 1", " tail -n 1 | df --total", -1.0),  # order of utilities matters
        ("find / -name linux", " find / -EXdsx -name linux", 0.1666),  # excessive flags: -E -X -d -s -x
    ],
)
def test_nlc2cmd_readme_examples(ground_truth, predicted_cmd, metric_val):
    assert nlc2cmd_score([predicted_cmd], [ground_truth]) == pytest.approx(metric_val, abs=1e-3)


def test_nlc2cmd_hand_worked():
    # {-x,-z,-v,-f} vs {-x,-v,-f}: S_F = (2*3 - 4) / 4 = 0.5, pair = (1 + 0.5) / 2.
    assert nlc2cmd_score(["tar -xzvf a.tgz"], ["tar -xvf a.tar"]) == pytest.approx(0.75)
    # No flags on either side: S_F = 1.
    assert nlc2cmd_score(["pwd"], ["pwd"]) == 1.0
    # Some prediction is positive: the max.
    assert nlc2cmd_score(["rm x", "ls -a"], ["ls -a"]) == 1.0
    # None positive: the mean. "ls -l | wc" vs "ls -a": (ls, ls) S_F = (0 - 2) / 1, pair -0.5; (wc, -) -1.
    assert nlc2cmd_score(["rm x", "ls -l | wc"], ["ls -a"]) == pytest.approx((-1 + (-0.5 - 1) / 2) / 2)
    # Several references: each prediction takes its best.
    # {-p} vs {-p,-v}: S_F = (2 - 2) / 2 = 0, pair 0.5; against touch, -1.
    assert nlc2cmd_score(["mkdir -p d"], ["touch d", "mkdir -p -v d"]) == pytest.approx(0.5)
    # No prediction at all is one empty command.
    assert nlc2cmd_score([], ["ls | wc"]) == -1.0


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


@pytest.mark.parametrize(
    "cmd, ok",
    [
        ("ls -l | wc -l", True),
        ('for f in *.txt; do rm "$f"; done', True),
        ("find . -exec rm {} \\;", True),
        ("ls -l |", False),
        ('echo "abc', False),
        ("if [ -f x ]; then", False),
        ("", False),
        ("   ", False),
    ],
)
def test_bash_valid(cmd, ok):
    assert bash_valid(cmd) is ok


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
    from cfusion.metrics import codebleu

    code = "def add(a, b):\n    return a + b"
    assert codebleu([code], [[code]]) == pytest.approx(100.0)


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
