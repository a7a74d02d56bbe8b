"""GPU latency of one request (k = 5, 20 steps) with recall, for the reranker's two shapes side by side.

A random `small` denoiser (speed does not depend on the weights) recalls from a real memory folder, and the
reranker is an untrained one of each shape: "c96" reads the known request and its command (96 tokens, shipped),
"r8" the known request alone (64 tokens, the earlier one). The shapes alternate with recall without a reranker,
three runs each; then requests/s at batch 256. Writes OUT/lat.json.

    PYTHONSAFEPATH=1 python benchmarks/rerank_latency_gpu.py cfusion/weights/bash $OUT
"""

import argparse
import json
from pathlib import Path

import torch

from cfusion.bench import latency, load_generator, throughput
from cfusion.memory import Memory
from cfusion.rerank import RerankConfig, Reranker


def main(memory: Path, out: Path) -> None:
    torch.set_grad_enabled(False)
    print(torch.cuda.get_device_name())
    g = load_generator(None, "small", "cuda", "triton", True, recall=True)
    g.memory = Memory.load(memory)
    shapes = {"c96": RerankConfig(code=True, max_len=96), "r8": RerankConfig(code=False, max_len=64)}
    rerankers = {name: Reranker(cfg, g.model.minilm).merge().cuda() for name, cfg in shapes.items()}
    res = []
    for run in range(3):
        for name in (*rerankers, None):
            g.reranker = rerankers.get(name)
            g._replays.pop("rerank", None)  # the graph is captured for each reranker's shape
            res.append({"run": run, "reranker": name or "none", **latency(g, 5, 20, 50)})
            print(res[-1], flush=True)
    for name, net in rerankers.items():
        g.reranker = net
        g._replays.pop("rerank", None)
        res.append({"reranker": name, "batch256_req_per_s": throughput(g, 256, 5, 20)})
        print(res[-1], flush=True)
    (out / "lat.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("memory", type=Path, help="a folder with memory.safetensors and memory.json.gz")
    ap.add_argument("out", type=Path)
    a = ap.parse_args()
    main(a.memory, a.out)
