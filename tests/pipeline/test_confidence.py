"""Low confidence is said: the rule on hand-made candidates, and gen on the shipped model, where a random 4 KB string
gets the message (and `--shell` exit 4) while a well-known request does not."""

import json
import random
import string

from conftest import cfusion

from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.rank import RankWeights, confident

W = RankWeights(confident_similarity=0.5, confident_votes=0.6)


def cand(votes=0, similarity=None):
    return Candidate(f"cmd{votes}{similarity}", -1.0 if votes else None, votes, True, similarity)


def test_similar_recall_or_agreeing_samples_make_an_answer_confident():
    assert confident([cand(similarity=0.5), cand(votes=1)], 5, W)
    assert confident([cand(votes=3), cand(similarity=0.2)], 5, W)
    assert not confident([cand(votes=2), cand(votes=2), cand(similarity=0.49)], 5, W)
    assert not confident([], 5, W)
    assert confident([cand(votes=2)], 3, W)  # 2 of 3 samples agree


def test_the_shipped_weights_carry_the_thresholds_and_where_they_were_chosen():
    from cfusion.core.bundle import installed_model

    w = RankWeights.load(installed_model("bash"))
    assert 0 < w.confident_similarity < 1 and 0 < w.confident_votes <= 1
    assert "no_answer_dev" in w.chosen_on("confident_similarity") == w.chosen_on("confident_votes")


def test_gen_says_when_no_answer_is_confident():
    rng = random.Random(1)
    noise = "".join(rng.choice(string.ascii_letters + string.digits + " ") for _ in range(4096))
    proc = cfusion("gen", noise, "--json", "--no-server", "-k", "3")
    assert proc.returncode == 0 and json.loads(proc.stdout)["confident"] is False
    proc = cfusion("gen", noise, "--no-server", "-k", "3")
    assert proc.returncode == 0 and "no confident answer" in proc.stderr
    proc = cfusion("gen", "--shell", noise, "--no-server", "-k", "3")
    assert proc.returncode == 4 and proc.stdout == "" and "no confident answer" in proc.stderr
    proc = cfusion("gen", "print the current date", "--no-server", "-k", "3")
    assert proc.returncode == 0 and "no confident answer" not in proc.stderr
