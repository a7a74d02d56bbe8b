"""Times the fused argmax_head against its torch reference (and torch.compile, and for attention every SDPA backend) at
the shapes of the small and base presets. Usage: python benchmarks/bench_argmax_head.py [--device cuda]"""

import argparse
import json

import torch

from cfusion.bench import bench_argmax_head
from cfusion.config import preset

ap = argparse.ArgumentParser()
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
a = ap.parse_args()
dtype = torch.bfloat16 if a.device == "cuda" else torch.float32
for name in ("small", "base"):
    for rows in (5, 1280):
        for row in bench_argmax_head(preset(name), rows, a.device, dtype):
            print(json.dumps({"preset": name, **row}))
