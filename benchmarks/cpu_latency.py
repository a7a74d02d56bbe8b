"""What the CPU's faster settings cost in answers, and what they save, side by side in one process (k = 5, recall on).

For each setting (fp32 or int8 products, denoising steps) over the 100 everyday requests of everyday_bash.py (a
dev set: none of them is a test-split request): p50 / p95 ms a request in-process, the top answer's agreement with
the fp32 10-step answers, the whole list's agreement, and the everyday hits. Then, for the chosen setting, the
evidence the low-confidence rule reads (best recalled similarity, most votes of one sample) on the everyday requests
and on benchmarks/data/no_answer_dev.txt plus seeded random strings, to choose its thresholds on.

    python benchmarks/cpu_latency.py [--settings fp32:10,int8:10,int8:6,int8:4] [--n 100] [--confidence int8:6]

A setting is PRODUCTS:STEPS[:RECALL] (recall: the recalled pairs, DEFAULT_RECALL by default).
"""

import argparse
import random
import statistics
import string
import sys
import time
from pathlib import Path

import torch

from cfusion.core.bundle import installed_model, load_model
from cfusion.pipeline import DEFAULT_RECALL
from cfusion.pipeline.generator import Generator, load_recall
from cfusion.pipeline.rank import RankWeights

sys.path.insert(0, str(Path(__file__).parent))
from everyday_bash import EARLIER, LATER, LITERALS, hit  # noqa: E402

EVERYDAY = EARLIER + LATER + LITERALS


def no_answer() -> list[str]:
    lines = (Path(__file__).parent / "data" / "no_answer_dev.txt").read_text().splitlines()
    fixed = [x for x in lines if x and not x.startswith("#")]
    rng = random.Random(0)
    chars = string.ascii_letters + string.digits + string.punctuation + " "
    return fixed + ["".join(rng.choice(chars) for _ in range(n)) for n in (8, 32, 128, 512, 1024, 4096)]


def generator(int8: bool) -> Generator:
    net, tok, folder = load_model(installed_model("bash"))
    memory, reranker, sketch = load_recall(folder, net.minilm)
    return Generator(net, tok, "torch", False, memory, reranker, sketch, RankWeights.load(folder), int8=int8)


def run(g: Generator, requests: list[str], steps: int, recall: int = DEFAULT_RECALL) -> tuple[list[list], list[float]]:
    out, ms = [], []
    for r in requests:
        t = time.perf_counter()
        out.append(g.generate([r], "bash", k=5, steps=steps, recall=recall)[0])
        ms.append(1000 * (time.perf_counter() - t))
    return out, ms


def evidence(cands) -> tuple[float, int]:
    sims = [c.similarity for c in cands if c.similarity is not None]
    return (max(sims) if sims else 0.0), max((c.votes for c in cands), default=0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settings", default="fp32:10,int8:10,int8:6,int8:4")
    ap.add_argument("--n", type=int, default=len(EVERYDAY))
    ap.add_argument(
        "--confidence", default="int8:6", help="the setting whose low-confidence evidence is printed ('' for none)"
    )
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    items = EVERYDAY[: args.n]
    requests = [r for r, *_ in items]
    settings = [s.split(":") for s in args.settings.split(",")]
    kinds = {kind for kind, *_ in settings} | ({args.confidence.split(":")[0]} if args.confidence else set())
    gens = {kind: generator(kind == "int8") for kind in sorted(kinds)}  # int8 is slow where the CPU lacks VNNI
    for g in gens.values():
        run(g, requests[:3], 10)  # warm-up
    ref = None
    rows = []
    for kind, steps, *recall in settings:
        recall = int(recall[0]) if recall else DEFAULT_RECALL
        answers, ms = run(gens[kind], requests, int(steps), recall)
        codes = [[c.code for c in a] for a in answers]
        ref = ref or codes
        top = sum(a[:1] == b[:1] for a, b in zip(codes, ref)) / len(ref)
        whole = sum(a == b for a, b in zip(codes, ref)) / len(ref)
        hits = sum(hit(a[0] if a else "", *want) for a, (_, *want) in zip(codes, items))
        p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[-1]
        agree = f"{100 * top:.0f} % | {100 * whole:.0f} %"
        rows.append(f"| {kind} | {steps} | {recall} | {p50:.0f} | {p95:.0f} | {agree} | {hits} |")
        print(rows[-1], flush=True)
    print("\n| products | steps | recall | p50 ms | p95 ms | top-1 = the first setting | all 5 = | everyday hits |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if not args.confidence:
        return
    kind, steps = args.confidence.split(":")
    print(f"\nlow-confidence evidence ({args.confidence}): best similarity, most votes of one sample")
    for name, reqs in (("everyday", requests), ("no answer", no_answer())):
        answers, _ = run(gens[kind], reqs, int(steps))
        for r, a in zip(reqs, answers):
            sim, votes = evidence(a)
            print(f"  {name:9} sim {sim:.2f} votes {votes}  {r[:60]!r}")


if __name__ == "__main__":
    main()
