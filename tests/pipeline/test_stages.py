"""The pipeline's stages: ranking weights loaded with the model, a ranking that never changes its input, and an edit
stage that adapts each recalled command at most once per request."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from cfusion.core.bundle import installed_model
from cfusion.errors import CheckpointError
from cfusion.langs import Rules
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.edit import Edits
from cfusion.pipeline.generator import answers
from cfusion.pipeline.rank import RANK_FILE, RankWeights, rank


def recalled(code: str, sim: float, known: str = "k", rerank: float | None = None) -> Candidate:
    return Candidate(code, None, 0, True, similarity=sim, known=known, rerank=rerank)


def pool() -> list[Candidate]:
    return [
        recalled("ps -o pid= --ppid $PPID | xargs kill -9", 0.80, "kill the children", 1.0),
        recalled("kill -9 1234", 0.75, "kill the process with pid 1234", 0.5),
        recalled("du -sh /tmp", 0.30, "show the size of /tmp", -1.0),
        Candidate("kill -9 1", -0.1, 3, True),
    ]


def test_the_shipped_weights_say_which_sets_chose_each_of_them():
    w = RankWeights.load(installed_model("bash"))
    names = {f.name for f in dataclasses.fields(w)} - {"tuned_on"}
    assert set(w.tuned_on) == names
    assert all("dev" in w.chosen_on(name) for name in names)  # each was chosen, or kept, on dev sets
    assert dataclasses.replace(w, tuned_on=RankWeights().tuned_on) == RankWeights()  # the defaults are the shipped


def test_weights_load_from_the_model_folder_and_fail_clearly(tmp_path):
    assert RankWeights.load(tmp_path) == RankWeights()  # no rank.json: the defaults
    (tmp_path / RANK_FILE).write_text(RankWeights(fits=0.0, tuned_on="dev").to_json())
    assert RankWeights.load(tmp_path) == RankWeights(fits=0.0, tuned_on="dev")
    assert RankWeights(tuned_on={"fits": "dev"}).chosen_on("fits") == "dev"
    (tmp_path / RANK_FILE).write_text(json.dumps({"fits": 1.0, "tuned_on": {"fitz": "dev"}}))
    with pytest.raises(CheckpointError, match="no such weight: fitz"):
        RankWeights.load(tmp_path)
    (tmp_path / RANK_FILE).write_text(json.dumps({"fitz": 1.0}))
    with pytest.raises(CheckpointError, match="rank.json"):
        RankWeights.load(tmp_path)
    (tmp_path / RANK_FILE).write_text(json.dumps({"rerank_temperature": 0.0}))
    with pytest.raises(CheckpointError, match="rerank_temperature"):
        RankWeights.load(tmp_path)


def test_weights_passed_to_the_ranking_change_its_choice():
    fits = Rules(fits=lambda code, adapted: float(code == "kill -9 1234"))
    recalled_only = [recalled(c.code, c.similarity, c.known) for c in pool()[:2]]  # `ps`, a little more similar
    assert rank(recalled_only, "bash")[0].code.startswith("ps")
    assert rank(recalled_only, "bash", RankWeights(), fits)[0].code == "kill -9 1234"
    assert rank(recalled_only, "bash", RankWeights(fits=0.0), fits)[0].code.startswith("ps")


def test_ranking_returns_evidence_and_leaves_its_input_as_it_was():
    cands = pool()
    before = copy.deepcopy(cands)
    ranked = rank(cands, "bash", RankWeights(), Rules(fits=lambda code, adapted: 0.5))
    assert cands == before
    assert sorted(c.code for c in ranked) == sorted(c.code for c in cands)
    assert all(c.consensus is not None for c in ranked)  # the consensus score each was given
    assert ranked[0].fits == 0.5 and ranked[0].to_json()["consensus"] == round(ranked[0].consensus, 4)
    assert answers(cands, "kill the process with pid 4242", "bash", 3) and cands == before


def test_each_recalled_command_is_adapted_at_most_once_per_request():
    calls = []

    def adapt(code: str, known: str) -> str:
        calls.append((code, known))
        return code.replace("1234", "4242")

    edits = Edits(adapt)
    cands = pool()
    for _ in range(3):
        assert [edits(c) for c in cands][1] == "kill -9 4242"
    assert sorted(calls) == sorted((c.code, c.known) for c in cands if c.known is not None)
    shown = edits.shown(cands, 3, lambda code: True)
    assert shown[1].code == "kill -9 4242" and shown[1].adapted_from == "kill -9 1234"
    assert len(calls) == 3 and cands[1].code == "kill -9 1234"


def test_a_request_is_ranked_with_one_adaptation_per_candidate(monkeypatch):
    """Through `answers`, the fits bonus, the as-user rule and the shown answers share the edit stage's work."""
    from cfusion.langs.bash import adapt as carry

    calls = []
    real = carry.adapt

    def counted(code, known, request):
        calls.append(code)
        return real(code, known, request)

    monkeypatch.setattr(carry, "adapt", counted)
    cands = pool() + [recalled("su - alice -c 'ls'", 0.6, "run ls as user alice")]
    shown = answers(cands, "run kill -9 4242 as user bob", "bash", 5)
    assert shown and len(calls) == len(set(calls))
