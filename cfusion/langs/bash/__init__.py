"""The Bash language pack: the tree-sitter-bash parser, NL2Bash template match and NLC2CMD, the request's literals
carried into recalled commands, and what a command does that cannot be undone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cfusion.langs.base import Language, Metrics, Rules
from cfusion.langs.bash import adapt as carry
from cfusion.langs.bash import analyzer, metrics, syntax
from cfusion.langs.bash import effects as fx
from cfusion.langs.bash import literals as lit


class Bash(Language):
    name = "bash"
    codefusion = "Bash"
    consensus = True
    interpreter = ("/bin/bash", "--noprofile", "--norc", "-c")

    def valid(self, code: str) -> bool:
        return syntax.valid(code)

    def usable(self, code: str) -> bool:
        return syntax.usable(code)

    def template(self, code: str) -> list[str]:
        return syntax.template_tokens(code)

    def template_vector(self, code: str) -> Counter:
        return metrics.template_vector(code)

    def maskable_spans(self, code: str) -> list[tuple[int, int]]:
        return syntax.maskable_spans(code)

    def match(self, pred: str, refs: list[str]) -> float:
        return metrics.template_match(pred, refs)

    def metrics(self) -> Metrics:
        per_candidate = {"template_match": metrics.template_match, "template_accuracy": metrics.template_accuracy}
        return Metrics(per_candidate, {"nlc2cmd": metrics.nlc2cmd_score}, {})

    def skeleton(self, request: str) -> str:
        return lit.skeleton(request)

    def effects(self, code: str) -> frozenset[str]:
        return fx.effects(code)

    def explain(self, code: str):
        from cfusion.langs.bash.explain import explain

        return explain(code)

    def parse_error(self, code: str):
        return analyzer.parse_error(code)

    def rules(self, request: str, literals: bool = True) -> Rules:
        """A recalled command takes the request's literals (adapt); it fits by the share of them it holds, less one
        for each effect the request plainly asks for that it lacks (`delete`, `kill`); a known request of the same
        shape answers first (`Show the first 10 lines of file.txt` for `show the first 20 lines of data.csv`); a
        command that does what cannot be undone, unasked, answers first only when nothing else can; a request to
        act as a user puts the commands that switch to that user first."""
        asked = lit.shape(request) if literals else None
        user = fx.runs_as(request)

        def fits(code: str, adapted: Callable[[], str]) -> float:
            share = carry.held(adapted(), request) if literals and lit.found(request) else 0.0
            return share - len(fx.missing(code, request))

        return Rules(
            adapt=(lambda code, known: carry.adapt(code, known, request)) if literals else None,
            fits=fits,
            same=(lambda known: lit.shape(known) == asked) if asked else None,
            safe=lambda code: not fx.unasked(code, request),
            first=(lambda code: fx.switches_to(code, user)) if user is not None else None,
            effects=lambda code: _effects(code, request),
        )


def _effects(code: str, request: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[dict, ...]]:
    """Rules.effects for Bash: the command's effects, those the request did not ask for, and every finding of the
    analyzer as JSON (with its effect, None for a caution that is none, and whether the request asked for it)."""
    effects, unasked = fx.effects(code), fx.unasked(code, request)
    shown = []
    for f in analyzer.findings(code):
        effect = fx.effect(f)
        shown.append({**f.to_json(), "asked": effect is None or effect not in unasked})
    return tuple(sorted(effects)), tuple(sorted(unasked)), tuple(shown)


PACK = Bash()
