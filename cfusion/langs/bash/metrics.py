"""Bash's benchmark metrics: NL2Bash template match, strict template accuracy and NLC2CMD, several references each."""

from __future__ import annotations

import functools
import re
from collections import Counter
from itertools import zip_longest

from cfusion.langs.base import check_refs, template_cosine
from cfusion.langs.bash.syntax import analyse, split_flag, template_tokens


@functools.lru_cache(maxsize=65536)
def _template_counts(cmd: str) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(template_tokens(cmd)).items()) if cmd.strip() else ()


def template_vector(cmd: str) -> Counter:
    """Counts of a command's template tokens: what template_match compares (parsed once per process)."""
    return Counter(dict(_template_counts(cmd)))


def template_match(pred: str, refs: list[str]) -> float:
    """NL2Bash template match: cosine of the template-token count vectors, max over refs (in [0, 1])."""
    check_refs(refs)
    p = template_vector(pred)
    return max(template_cosine(pred, p, ref, template_vector(ref)) for ref in refs)


def _arg_kind(text: str) -> str:
    """Argument kinds: _NUM (10, -3, +10M, 2.5), _VAR ($x, ${x}), _PATTERN (glob or regex characters),
    _PATH (has `/`, starts with `.` or `~`, or looks like name.ext), _STR (anything else); quotes are ignored."""
    s = text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text
    if re.fullmatch(r"[-+]?\d+(?:\.\d+)?[A-Za-z%]{0,2}", s):
        return "_NUM"
    if s.startswith("$"):
        return "_VAR"
    if re.search(r"[*?\[\]^$|\\{}]", s):
        return "_PATTERN"
    if "/" in s or s[:1] in (".", "~") or re.fullmatch(r"[\w-]+\.[A-Za-z]\w{0,5}", s):
        return "_PATH"
    return "_STR"


@functools.lru_cache(maxsize=65536)
def _canonical_template(cmd: str) -> tuple:
    """Utilities and reserved tokens in order; after each, its flags (bundles split) and argument kinds, sorted."""
    segments: list[tuple[str, list[str]]] = [("", [])]
    for kind, text, owner in analyse(cmd).items:
        if kind in ("util", "op"):
            segments.append((text, []))
        elif kind == "flag":
            segments[-1][1].extend(split_flag(owner, text))
        else:
            segments[-1][1].append(_arg_kind(text))
    return tuple((head, tuple(sorted(tail))) for head, tail in segments if head or tail)


def template_accuracy(pred: str, refs: list[str]) -> float:
    """Strict template accuracy: 1.0 iff pred equals some ref once arguments are kinds and flag order is ignored."""
    check_refs(refs)
    if not pred.strip():
        return 0.0
    mine = _canonical_template(pred)
    return float(any(mine == _canonical_template(ref) for ref in refs))


# --- NLC2CMD (NeurIPS 2020), after IBM/clai utils/metric/metric_utils.py ---


def _flag_set(command: tuple[str, tuple[str, ...]] | None) -> set[str]:
    return set() if command is None else {f for flag in command[1] for f in split_flag(command[0], flag)}


def _nlc2cmd_pair(pred: tuple | None, gold: tuple | None) -> float:
    """S_U * (1 + S_F) / 2 - (1 - S_U) for one aligned pair of utilities (None: padding)."""
    same = float(pred is not None and gold is not None and pred[0].lower() == gold[0].lower())
    fp, fg = _flag_set(pred), _flag_set(gold)
    s_f = 1.0 if not fp and not fg else (2 * len(fp & fg) - len(fp | fg)) / max(1, len(fp), len(fg))
    return same * (1 + s_f) / 2 - (1 - same)


def _nlc2cmd_command(pred: str, gold: str) -> float:
    """Mean over utility pairs aligned in order; the shorter side is padded, so a missing utility scores -1."""
    pairs = list(zip_longest(analyse(pred).commands, analyse(gold).commands))
    return sum(_nlc2cmd_pair(p, g) for p, g in pairs) / len(pairs) if pairs else 0.0


def nlc2cmd_score(preds: list[str], refs: list[str]) -> float:
    """NLC2CMD score of one request's predictions (the competition took up to 5), in [-1, 1].

    Each prediction scores its best reference (confidence 1); the request scores the max if any prediction is
    positive, else their mean. No prediction counts as one empty command, -1 when the reference has a utility.
    """
    check_refs(refs)
    scores = [max(_nlc2cmd_command(p, r) for r in refs) for p in (preds or [""])]
    return max(scores) if max(scores) > 0 else sum(scores) / len(scores)
