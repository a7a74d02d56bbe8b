"""The edit stage: a recalled command takes the request's literals (file names, paths, numbers, quoted text).

The language pack says how (Rules.adapt). Each recalled candidate is adapted at most once per request, when the
ranking or the answers first need it: the fits bonus reads the adapted command, a request to act as a user reads
it, and the answers shown carry it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cfusion.pipeline.candidate import Candidate


class Edits:
    """One request's adapted commands, computed on first use. `adapt(code, known)`: None keeps every command."""

    def __init__(self, adapt: Callable[[str, str], str] | None):
        self._adapt = adapt
        self._done: dict[tuple[str, str], str] = {}

    def __call__(self, c: Candidate) -> str:
        """The candidate's command with the request's literals carried in; a sampled one stays as it is."""
        if self._adapt is None or c.known is None:
            return c.code
        key = (c.code, c.known)
        if key not in self._done:
            self._done[key] = self._adapt(c.code, c.known)
        return self._done[key]

    def shown(self, ranked: list[Candidate], k: int, usable: Callable[[str], bool]) -> list[Candidate]:
        """The first k distinct commands of `ranked` once adapted (`adapted_from` keeps the command as known).
        Adapting after ranking leaves the ranking as it was: an adapted command keeps its validity and its template
        (but for a `-10` flag or a count added to `head`/`tail`), which are all the consensus reads."""
        if self._adapt is None:
            return ranked[:k]
        out, seen = [], set()
        for c in ranked:
            code = self(c)
            if code != c.code:
                c = dataclasses.replace(c, code=code, adapted_from=c.code, valid=usable(code))
            if c.code not in seen:
                seen.add(c.code)
                out.append(c)
                if len(out) == k:
                    break
        return out
