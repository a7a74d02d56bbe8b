"""Bash's metrics pinned on hand-worked examples and the NLC2CMD README's examples; its validity check."""

import math

import pytest

from cfusion import langs
from cfusion.langs.base import template_cosines
from cfusion.langs.bash.metrics import nlc2cmd_score, template_accuracy, template_match, template_vector
from cfusion.langs.bash.syntax import template_tokens as bash_template_tokens
from cfusion.langs.bash.syntax import valid as bash_valid

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
    got = template_cosines(cmds, [template_vector(c) for c in cmds])
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


def test_the_pack_reads_templates_and_scores_with_template_match():
    bash = langs.get("bash")
    assert bash.template("sudo find . -name x -delete") == ["sudo", "find", "-name", "-delete"]
    assert bash.match("ls -a", ["ls -l"]) == pytest.approx(0.5)
    assert bash.consensus and not langs.get("python").consensus
