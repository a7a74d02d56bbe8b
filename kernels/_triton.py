"""Triton, imported only where a kernel can run: with CUDA, or in Triton's CPU interpreter (TRITON_INTERPRET=1, set
before the kernels are imported). A CPU-only process runs the plain-torch references, and skipping the import saves
a quarter of a second of a cold `cfusion gen` on a 2-core CPU. `triton` and `tl` are None where it is not imported."""

from __future__ import annotations

import importlib.util
import os

import torch

INSTALLED = importlib.util.find_spec("triton") is not None
INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
triton = tl = None
if INSTALLED and (INTERPRET or torch.cuda.is_available()):
    triton = importlib.import_module("triton")
    tl = importlib.import_module("triton.language")
