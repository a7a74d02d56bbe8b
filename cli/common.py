"""What the commands share: the console for progress and errors, device choice, loading a generator, the languages."""

from __future__ import annotations

from pathlib import Path

from cfusion import langs
from cfusion.errors import CfusionError, UsageError
from cfusion.pipeline import DEFAULT_STEPS

LANGS = langs.names()
DEFAULT_LANG = "bash"  # the language `gen` and `train` assume when --lang is not given


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


RECALL_HELP = "Known pairs recalled from the model's memory and ranked with the samples; 0: the model alone."
LITERALS_HELP = "Carry the request's file names, paths, numbers and quoted text into recalled commands."


def stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def installed_model(lang: str) -> Path:
    from cfusion.core.bundle import (
        installed_model as _installed,  # imports torch: not at the top, so that --help stays fast
    )

    return _installed(lang)


def device(name: str) -> str:
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise CfusionError("--device cuda was asked for, but CUDA is not available", hint="use --device cpu")
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


def generator(
    model: Path | None, lang: str, device: str, k: int, steps: int | None, kernels: str = "auto", recall: int = 0
):
    """The model at `model`, or the one installed for `lang`, with its memory when it has one, ready on `device` with
    gradients off; the step count (default: DEFAULT_STEPS) checked against it with k and recall. Returns (generator,
    model folder, steps)."""
    import torch

    from cfusion.core.bundle import load_model
    from cfusion.kernels import MODES, check_mode
    from cfusion.pipeline.generator import Generator, load_recall
    from cfusion.pipeline.rank import RankWeights

    if kernels not in MODES:
        raise UsageError(f"--kernels must be one of {', '.join(MODES)}, got {kernels!r}")
    check_mode(kernels)
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(model if model is not None else installed_model(lang), device)
    memory, reranker, sketch = load_recall(folder, net.minilm) if recall else (None, None, None)
    g = Generator(net, tok, kernels, True, memory, reranker, sketch, RankWeights.load(folder))
    steps = steps if steps is not None else DEFAULT_STEPS
    g.check(lang, k, steps, recall)
    return g, folder, steps
