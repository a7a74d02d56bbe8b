"""Carrying literals, checked on pairs the rules were not written on: each NL2Bash pair of the shipped memory takes the
commands of its 3 nearest other NL2Bash pairs, adapted to its request (cfusion.adapt). Counts the commands that
change, those that become the pair's own command (exact match) and those that stop being it. Runs on the CPU.

    PYTHONSAFEPATH=1 python benchmarks/adapt_heldout.py [-v]      # -v: print the commands broken
"""

import sys

from cfusion.core.bundle import installed_model
from cfusion.eval.metrics import exact_match
from cfusion.langs.bash.adapt import adapt
from cfusion.recall.memory import Memory


def main(verbose: bool) -> None:
    m = Memory.load(installed_model("bash"))
    main_pairs = [i for i, extra in enumerate(m.extra) if not extra]
    vectors = m.vectors[main_pairs].float()
    sims = vectors @ vectors.T
    sims.fill_diagonal_(-1)  # not itself
    changed = gained = lost = 0
    for a, near in enumerate(sims.topk(3, dim=1).indices.tolist()):
        i = main_pairs[a]
        for j in (main_pairs[b] for b in near):
            known = m.codes[j]
            new = adapt(known, m.requests[j], m.requests[i])
            if new == known:
                continue
            changed += 1
            before, after = (exact_match(c, [m.codes[i]], "bash") for c in (known, new))
            gained += after > before
            lost += after < before
            if verbose and after < before:
                print(f"{m.requests[i]!r}: {known!r} -> {new!r}, the pair's own: {m.codes[i]!r}")
    print(f"{len(main_pairs) * 3} commands: {changed} change, {gained} become the pair's own, {lost} stop being it")


if __name__ == "__main__":
    main("-v" in sys.argv)
