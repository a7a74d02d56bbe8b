"""Times the fused cross_attention against SDPA (every backend), eager torch and torch.compile at
the shapes of the small and base presets. Usage: python benchmarks/bench_cross_attention.py [--device cuda]"""

import argparse
import json

import torch

from cfusion.bench import bench_cross_attention
from cfusion.config import preset

ap = argparse.ArgumentParser()
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
a = ap.parse_args()
dtype = torch.bfloat16 if a.device == "cuda" else torch.float32
for name in ("small", "base"):
    for rows in (5, 1280):
        for row in bench_cross_attention(preset(name), rows, a.device, dtype):
            print(json.dumps({"preset": name, **row}))
