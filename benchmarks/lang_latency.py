"""CPU `gen` latency of each installed language, side by side in one process (k = 5, recall on, each model's own CPU
settings from its cpu.json): p50 / p95 ms a request in-process, and each language's ratio to Bash's p50.

Requests: Bash's 100 everyday dev requests (everyday_bash.py) and the first --n requests of each other language's
dev split (benchmarks/make_lang_data.py writes them). Rounds alternate the languages so that a slow spell of the
machine falls on all of them.

    python benchmarks/lang_latency.py .carry/lang [--n 40] [--rounds 2]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from cfusion.cli.common import generator
from cfusion.data.pairs import read_pairs
from cfusion.pipeline import DEFAULT_RECALL

sys.path.insert(0, str(Path(__file__).parent))
from everyday_bash import EARLIER, LATER, LITERALS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path, help="the folder of LANG_dev.jsonl")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--langs", default="bash,python,cf")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    requests = {"bash": [case[0] for case in EARLIER + LATER + LITERALS][: a.n]}
    for lang in a.langs.split(","):
        if lang != "bash":
            requests[lang] = [p.nl for p in read_pairs(a.data / f"{lang}_dev.jsonl")][: a.n]
    gens = {lang: generator(None, lang, "cpu", 5, None, recall=DEFAULT_RECALL) for lang in requests}
    ms: dict[str, list[float]] = {lang: [] for lang in requests}
    for lang, (g, _, steps) in gens.items():  # warm-up: the first call of each builds its caches
        g.generate([requests[lang][0]], lang, k=5, steps=steps, recall=DEFAULT_RECALL)
    for _ in range(a.rounds):
        for lang, (g, _, steps) in gens.items():
            for r in requests[lang]:
                t = time.perf_counter()
                g.generate([r], lang, k=5, steps=steps, recall=DEFAULT_RECALL)
                ms[lang].append(1000 * (time.perf_counter() - t))
    base = statistics.median(ms["bash"]) if "bash" in ms else None
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads; k = 5, recall {DEFAULT_RECALL}")
    print("| language | steps | int8 | requests | p50 ms | p95 ms | p50 / Bash's |")
    print("|---|---|---|---|---|---|---|")
    for lang, xs in ms.items():
        g, _, steps = gens[lang]
        p50, p95 = statistics.median(xs), statistics.quantiles(xs, n=20)[-1]
        ratio = f"{p50 / base:.2f}" if base else "-"
        print(f"| {lang} | {steps} | {g.int8} | {len(xs)} | {p50:.0f} | {p95:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
