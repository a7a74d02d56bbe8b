"""What reading recalled pairs costs at generation: a retrieval-aware model against the same model without
neighbours, side by side in one run, k = 5 with recall (memory, reranker, ranking), random weights of the `small`
preset (speed does not depend on the weights).

Usage: python benchmarks/neighbours_latency.py [--device cuda] [--reps 30]
On CUDA: Triton kernels and CUDA graphs, 10 steps, bf16 (gen's GPU path). On the CPU: 4 steps with int8 products
(gen's path on a CPU with VNNI). The memory holds RANDOM_MEMORY pairs of realistic length (the shipped memory's
requests average about 12 words, its commands about 10 tokens), so a neighbour is as long as a real one.
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from cfusion.core.config import preset
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import CodeTokenizer
from cfusion.eval.bench import RANDOM_MEMORY, REQUEST, latency
from cfusion.pipeline.generator import Generator
from cfusion.recall.memory import Memory, dequantize, quantize
from cfusion.recall.reranker import RerankConfig, Reranker


def generator(n_neighbours: int, device: str, int8: bool) -> Generator:
    torch.manual_seed(0)
    model = CodeFusion(preset("small", max_code_len={"bash": 48}, n_neighbours=n_neighbours)).to(device)
    codes = [
        f"find /var/log/app{i} -name '*.log' -mtime +{i % 30} -exec gzip -9 {{}} \\;" for i in range(RANDOM_MEMORY)
    ]
    requests = [
        f"compress every log file in /var/log/app{i} older than {i % 30} days with gzip" for i in range(len(codes))
    ]
    tok = CodeTokenizer.train(codes[:500] + requests[:500], 2000)
    vectors = dequantize(*quantize(F.normalize(torch.randn(len(codes), model.minilm.width), dim=-1)))
    memory = Memory(requests, codes, ["bash"] * len(codes), vectors)
    reranker = Reranker(RerankConfig(width=model.minilm.width), model.minilm).merge()
    cuda = device == "cuda"
    return Generator(model, tok, "auto" if cuda else "torch", cuda, memory, reranker, None, None, int8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    cuda = a.device == "cuda"
    steps = 10 if cuda else 4
    card = torch.cuda.get_device_name() if cuda else "cpu"
    rows = []
    for r in (0, 4, 0, 4):  # twice each, interleaved, so drift hits both
        gen = generator(r, a.device, int8=not cuda)
        lat = latency(gen, 5, steps, a.reps, (REQUEST, "list the ten largest files in /srv/data"), recall=30)
        rows.append({"n_neighbours": r, **lat})
        print(json.dumps(rows[-1]), flush=True)
    base = sorted(x["p50_ms"] for x in rows if x["n_neighbours"] == 0)[0]
    print(f"\n{card}, k = 5, recall 30, {steps} steps{'' if cuda else ', int8'}")
    print("| neighbours read | p50 ms | p95 ms | p50 against none |")
    print("|---|---|---|---|")
    for x in rows:
        print(f"| {x['n_neighbours']} | {x['p50_ms']:.2f} | {x['p95_ms']:.2f} | {x['p50_ms'] / base:.2f} |")


if __name__ == "__main__":
    main()
