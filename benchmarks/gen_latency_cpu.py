"""In-process `gen` latency on the CPU, k = 5, with and without recall: p50 ms over 20 requests after a warm-up.

It imports cfusion by either layout, so one file times a tree from before the restructure (cfusion.generate) and one
after (cfusion.pipeline); run it under each with PYTHONPATH pointing at an install of that tree, alternating:

    cd /tmp && PYTHONPATH=OLD python /path/to/gen_latency_cpu.py --model MODEL
    cd /tmp && PYTHONPATH=NEW python /path/to/gen_latency_cpu.py --model MODEL
"""

import argparse
import statistics
import time

import torch

try:
    from cfusion.core.bundle import load_model
    from cfusion.pipeline.generator import Generator, load_recall
    from cfusion.pipeline.rank import RankWeights

    LAYOUT = "pipeline"
except ImportError:  # a tree from before the restructure
    from cfusion.bundle import load_model
    from cfusion.generate import Generator, load_recall

    LAYOUT = "generate"

REQUESTS = [
    "find all txt files under the current directory and delete them",
    "show the first 20 lines of data.csv",
    "count lines in every .py file",
    "kill the process with pid 4242",
    "copy config.yaml to /etc/myapp",
]


def main(model: str, reps: int) -> None:
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(model, "cpu")
    memory, reranker, sketch = load_recall(folder, net.minilm)
    extra = {"weights": RankWeights.load(folder)} if LAYOUT == "pipeline" else {}
    g = Generator(net, tok, kernels="torch", memory=memory, reranker=reranker, sketch=sketch, **extra)
    out = {}
    for recall in (30, 0):
        g.generate(REQUESTS[:1], "bash", k=5, recall=recall)
        times = []
        for i in range(reps):
            t = time.perf_counter()
            g.generate([REQUESTS[i % len(REQUESTS)]], "bash", k=5, seed=i, recall=recall)
            times.append(1000 * (time.perf_counter() - t))
        out[f"recall {recall}"] = round(statistics.median(times), 1)
    print(LAYOUT, out)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="model folder, e.g. cfusion/weights/bash")
    p.add_argument("--reps", type=int, default=20)
    a = p.parse_args()
    main(a.model, a.reps)
