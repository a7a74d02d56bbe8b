"""GPU latency of one request with recall and the reranker, with the request's literals carried into the recalled
commands (cfusion.adapt) or not, and with the sketch's vote (cfusion.recall.sketch) or not, side by side in one run.

The shipped memory and reranker recall and rank (real MiniLM), over a random `small` denoiser (speed does not depend
on its weights). The requests are the 40 LITERALS of everyday_bash.py, each once a run, with the literal parser's cache
cleared before each setting; the settings take turns, three runs each (--runs). Writes OUT/literals_latency.json.

    PYTHONSAFEPATH=1 python benchmarks/literals_latency_gpu.py $OUT FOLDER    # FOLDER: memory.*, rerank.*, sketch.*
"""

import argparse
import json
import sys
from pathlib import Path

import torch

from cfusion.eval.bench import latency, load_generator
from cfusion.langs.bash import literals as lit
from cfusion.pipeline.generator import Generator, load_recall

SETTINGS = ((True, True), (True, False), (False, False))  # (literals, sketch): as shipped, then each left out


def main(out: Path, folder: Path, device: str, runs: int) -> None:
    sys.path.append(str(Path(__file__).parent))  # appended: nothing of the project's is shadowed
    from everyday_bash import LITERALS

    torch.set_grad_enabled(False)
    print(torch.cuda.get_device_name() if device == "cuda" else device)
    g = load_generator(None, "small", device, "triton" if device == "cuda" else "torch", True, True, "bash")
    memory, reranker, sketch = load_recall(folder, g.model.minilm)
    g = Generator(g.model, g.tok, kernels=g.kernels, memory=memory, reranker=reranker, sketch=sketch)
    requests = tuple(r for r, *_ in LITERALS)
    res = []
    for run in range(runs):
        for literals, sketched in SETTINGS[::-1] if run % 2 else SETTINGS:
            lit.found.cache_clear()  # each request's literals parsed cold, as in a fresh process
            g.sketch = sketch if sketched else None
            timing = latency(g, 5, 20, len(requests), requests, literals=literals)
            res.append({"run": run, "literals": literals, "sketch": sketched, **timing})
            print(res[-1], flush=True)
    (out / "literals_latency.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("folder", type=Path, help="a folder with memory.*, rerank.* and sketch.*")
    ap.add_argument("--device", default="cuda", help="cuda; cpu only to try the script")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    main(a.out, a.folder, a.device, a.runs)
