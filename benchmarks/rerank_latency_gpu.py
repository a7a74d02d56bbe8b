"""GPU latency of one request (k = 5, 20 steps) with recall, for memories and reranker shapes side by side.

A random `small` denoiser (speed does not depend on the weights) recalls from real memory folders, and the reranker
is an untrained one of each shape: "c96" reads the known request and its command (96 tokens, shipped), "r8" the
known request alone (64 tokens, an earlier one). For each memory, the shapes alternate with recall without a
reranker, three runs each; then requests/s at batch 256. Writes OUT/lat.json.

    PYTHONSAFEPATH=1 python benchmarks/rerank_latency_gpu.py $OUT cfusion/weights/bash [OLD_MEMORY_FOLDER ...]
"""

import argparse
import json
from pathlib import Path

import torch

from cfusion.eval.bench import latency, load_generator, throughput
from cfusion.recall.memory import Memory
from cfusion.recall.reranker import RerankConfig, Reranker


def main(out: Path, memories: list[Path], shapes: list[str]) -> None:
    torch.set_grad_enabled(False)
    print(torch.cuda.get_device_name())
    g = load_generator(None, "small", "cuda", "triton", True, recall=True, lang="bash")
    known = {"c96": RerankConfig(code=True, max_len=96), "r8": RerankConfig(code=False, max_len=64)}
    rerankers = {name: Reranker(known[name], g.model.minilm).merge().cuda() for name in shapes}
    loaded = {str(m): Memory.load(m) for m in memories}
    res = []
    for run in range(3):
        for where, memory in loaded.items():
            g.memory = memory
            for name in (*rerankers, None):
                g.reranker = rerankers.get(name)
                g._replays.pop("rerank", None)  # the graph is captured for each reranker's shape
                res.append({"run": run, "memory": where, "pairs": len(memory), "reranker": name or "none"})
                res[-1].update(latency(g, 5, 20, 50))
                print(res[-1], flush=True)
    for where, memory in loaded.items():
        g.memory = memory
        for name, net in rerankers.items():
            g.reranker = net
            g._replays.pop("rerank", None)
            res.append({"memory": where, "reranker": name, "batch256_req_per_s": throughput(g, 256, 5, 20)})
            print(res[-1], flush=True)
    (out / "lat.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("memories", type=Path, nargs="+", help="folders with memory.safetensors and memory.json.gz")
    ap.add_argument("--shapes", default="c96", help="reranker shapes, comma-separated: c96, r8")
    a = ap.parse_args()
    main(a.out, a.memories, a.shapes.split(","))
