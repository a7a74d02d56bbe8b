"""Execution match for code that runs as a process (shell commands): a candidate is right when, run in the
sandbox on the fixture, it does what the reference does.

Two runs match when both finish with the same exit status, they print the same lines (in any order: `find` and
`ls -R` list the same files in different orders) and they leave the same changes in the fixture (files added,
removed, rewritten, their permissions, or only their times touched). A reference is runnable when it prints or
changes something without writing to stderr, exits 0 (or 1 with an answer, as `diff` does), and does the same
twice (so no clock, PID or random output); requests whose references are not runnable are left out of the score.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from cfusion.eval import sandbox
from cfusion.eval.sandbox import Outcome


def same(a: Outcome, b: Outcome) -> bool:
    """Both finished with the same exit status, printed the same lines and made the same changes."""
    if a.timed_out or b.timed_out or a.status != b.status:
        return False
    return _lines(a.stdout) == _lines(b.stdout) and a.changes == b.changes


def _lines(text: str) -> list[str]:
    return sorted(line.rstrip() for line in text.splitlines() if line.strip())


def meaningful(out: Outcome) -> bool:
    """Printed or changed something without a complaint on stderr, and succeeded (or, like `diff` and `cmp`
    finding a difference, exited 1 with an answer printed)."""
    if out.stderr.strip() or out.status not in (0, 1):
        return False
    return bool(out.changes) or bool(out.stdout.strip()) if out.status == 0 else bool(out.stdout.strip())


class Runner:
    """Runs each distinct command once (references twice, to see that they repeat), in parallel, and remembers."""

    def __init__(self, interpreter: tuple[str, ...], workers: int | None = None, timeout: float = sandbox.TIMEOUT_S):
        sandbox.check()
        self.interpreter = interpreter
        self.workers = workers or max(2, os.cpu_count() or 2)
        self.timeout = timeout
        self.outcomes: dict[str, Outcome] = {}
        self.repeats: dict[str, bool] = {}

    def _run(self, command: str) -> Outcome:
        return sandbox.run(command, self.interpreter, self.timeout)

    def run(self, commands: Iterable[str], progress: Callable[[int], None] | None = None) -> None:
        todo = [c for c in dict.fromkeys(commands) if c not in self.outcomes]
        with ThreadPoolExecutor(self.workers) as pool:
            for command, out in zip(todo, pool.map(self._run, todo)):
                self.outcomes[command] = out
                if progress:
                    progress(1)

    def runnable(self, references: Iterable[str]) -> dict[str, bool]:
        """reference -> whether it is runnable (meaningful, and the same when run again)."""
        refs = list(dict.fromkeys(references))
        self.run(refs)
        again = [r for r in refs if r not in self.repeats and meaningful(self.outcomes[r])]
        with ThreadPoolExecutor(self.workers) as pool:
            for ref, out in zip(again, pool.map(self._run, again)):
                self.repeats[ref] = same(self.outcomes[ref], out)
        return {r: meaningful(self.outcomes[r]) and self.repeats.get(r, False) for r in refs}


UNRUNNABLE = -1  # first_matches' answer for a request none of whose references runs


def first_matches(
    candidates: list[list[str]],
    references: list[list[str]],
    runner: Runner,
    k: int,
    progress: Callable[[int], None] | None = None,
) -> list[int | None]:
    """Per request, the index of the first of its first k candidates that matches one of its runnable references:
    None when none does, UNRUNNABLE when no reference runs (only candidates of runnable requests are run)."""
    ok = runner.runnable(r for refs in references for r in refs)
    rows = [(cands[:k], [r for r in refs if ok[r]]) for cands, refs in zip(candidates, references)]
    runner.run((c for cands, refs in rows if refs for c in cands), progress)
    out: list[int | None] = []
    for cands, refs in rows:
        hits = [i for i, c in enumerate(cands) if any(same(runner.outcomes[c], runner.outcomes[r]) for r in refs)]
        out.append(UNRUNNABLE if not refs else hits[0] if hits else None)
    return out


def score(
    candidates: list[list[str]],
    references: list[list[str]],
    runner: Runner,
    ks: tuple[int, ...] = (1, 3, 5),
    progress: Callable[[int], None] | None = None,
) -> dict:
    """exec@k in percent over the requests with a runnable reference (`exec_n` of them): a request is solved at k
    when one of its first k candidates matches one of its runnable references."""
    found = [m for m in first_matches(candidates, references, runner, max(ks), progress) if m != UNRUNNABLE]
    n = len(found)
    result = {f"exec@{k}": 100.0 * sum(m is not None and m < k for m in found) / max(1, n) for k in ks}
    return {**result, "exec_n": n}
