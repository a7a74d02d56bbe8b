"""`cfusion gen` names, on stderr, the candidates that cannot be undone, one line per effect."""

from cfusion.cli.gen import effects_lines
from cfusion.langs.bash.effects import DELETES, STOPS
from cfusion.pipeline.candidate import Candidate


def test_gen_names_the_candidates_that_cannot_be_undone_on_one_line_per_effect():
    shown = [Candidate("ls", None, 0, True), Candidate("rm a", None, 0, True), Candidate("rm b; kill 1", None, 0, True)]
    shown[1].effects = shown[1].unasked = (DELETES,)
    shown[2].effects, shown[2].unasked = (DELETES, STOPS), (DELETES,)
    assert effects_lines(shown) == [
        (f"candidates 2, 3 cannot be undone: {DELETES}, not asked for", True),
        (f"candidate 3 cannot be undone: {STOPS}", False),
    ]
