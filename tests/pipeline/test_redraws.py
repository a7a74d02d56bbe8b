"""A request whose draw gives no usable candidate draws again, with the next seed (Generator.generate)."""

from cfusion import langs
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.generator import REDRAWS, Generator, merged
from cfusion.pipeline.rank import RankWeights

# What each request's k = 5 samples give, by seed: "hard" spells its rule wrongly in the first draw.
DRAWS = {"easy": {0: "top(1)"}, "hard": {0: "bottom(Scale()", 1: "bottom(1)"}, "never": {}}


def fake_pools(calls):
    def pools(self, requests, lang, k, steps, seed, eta, clamp, recall, trace=None):
        calls.append((list(requests), seed))
        out = []
        for r in requests:
            code = DRAWS[r].get(seed, "bottomorScale()")
            out.append(([Candidate(code, -1.0, k, langs.get(lang).usable(code))], None))
        return out

    return pools


def generator(monkeypatch, calls) -> Generator:
    monkeypatch.setattr(Generator, "pools", fake_pools(calls))
    g = object.__new__(Generator)  # no model: only the draws are faked
    g.weights = RankWeights()
    return g


def test_only_the_request_without_a_usable_candidate_draws_again(monkeypatch):
    calls = []
    easy, hard = generator(monkeypatch, calls).generate(["easy", "hard"], "cf", k=5, steps=4, seed=0)
    assert calls == [(["easy", "hard"], 0), (["hard"], 1)]
    assert [c.code for c in easy] == ["top(1)"]
    assert [(c.code, c.valid) for c in hard] == [("bottom(1)", True), ("bottom(Scale()", False)]


def test_a_request_that_never_gets_one_stops_after_the_redraws(monkeypatch):
    calls = []
    (never,) = generator(monkeypatch, calls).generate(["never"], "cf", k=5, steps=4, seed=7)
    assert [seed for _, seed in calls] == list(range(7, 7 + REDRAWS + 1))
    assert [(c.code, c.votes, c.valid) for c in never] == [("bottomorScale()", 5 * (REDRAWS + 1), False)]


def test_merged_adds_the_votes_of_a_code_both_draws_gave_and_keeps_the_better_score():
    a = [Candidate("top(1)", -2.0, 3, True), Candidate("top(2)", None, 0, True, similarity=0.9)]
    b = [Candidate("top(1)", -1.0, 2, True), Candidate("top(3)", -0.5, 1, True), Candidate("top(2)", None, 0, True)]
    out = {c.code: (c.votes, c.score) for c in merged(a, b)}
    assert out == {"top(1)": (5, -1.0), "top(2)": (0, None), "top(3)": (1, -0.5)}
