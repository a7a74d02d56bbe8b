"""What the commands share: the console for progress and errors, device choice, loading a generator, the languages."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from cfusion import langs
from cfusion.errors import CfusionError, UsageError
from cfusion.pipeline import DEFAULT_STEPS

LANGS = langs.names()
DEFAULT_LANG = "bash"  # the language `gen` and `train` assume when --lang is not given


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        from cfusion.core.bundle import installed_langs

        installed = ", ".join(installed_langs()) or "none"
        raise UsageError(f"unknown --lang {lang!r}: installed models are {installed} (languages: {', '.join(LANGS)})")
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
    gradients off, on the CPU as its folder's cpu.json says (int8 where the CPU has int8 dot products, and the steps
    for those products); the step count (default: DEFAULT_STEPS, or the folder's CPU steps) checked against it with k
    and recall. Returns (generator, model folder, steps)."""
    from cfusion.kernels import MODES

    if kernels not in MODES:
        raise UsageError(f"--kernels must be one of {', '.join(MODES)}, got {kernels!r}")
    if model is None:  # an installed model does not change while a process runs: loaded once (a server's many requests)
        g, folder, cpu = _installed(installed_model(lang), device, kernels, bool(recall))
    else:
        g, folder, cpu = _load(model, device, kernels, bool(recall))
    if steps is None:
        steps = (cpu.steps_for(g.int8) if g.device.type == "cpu" else None) or DEFAULT_STEPS
    g.check(lang, k, steps, recall)
    return g, folder, steps


def _load(folder: Path, device: str, kernels: str, with_recall: bool):
    import torch

    from cfusion.core.bundle import CpuSettings, load_model
    from cfusion.core.int8 import fast
    from cfusion.kernels import check_mode
    from cfusion.pipeline.generator import Generator, load_recall
    from cfusion.pipeline.rank import RankWeights

    check_mode(kernels)
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(folder, device)
    memory, reranker, sketch = load_recall(folder, net.minilm) if with_recall else (None, None, None)
    cpu = CpuSettings.load(folder)
    int8 = device == "cpu" and cpu.int8 and fast()
    return Generator(net, tok, kernels, True, memory, reranker, sketch, RankWeights.load(folder), int8), folder, cpu


_installed = functools.cache(_load)


def invoke(group, argv: list[str]) -> int:
    """Runs the command line ARGV of the click group behind the Typer app; every error becomes one line on stderr and
    an exit code (1 failure, 2 usage). The server runs its requests through it too, with stdout and stderr captured."""
    try:
        # standalone_mode=False: a command's typer.Exit(n) comes back as n, and errors come here as exceptions.
        code = group.main(args=argv, prog_name="cfusion", standalone_mode=False)
    except CfusionError as e:
        return _fail(str(e), e.hint, e.exit_code, e)
    except KeyboardInterrupt:
        return _fail("interrupted", None, 130, None)
    except Exception as e:
        # Typer vendors its own copy of click, so its exceptions are recognised by shape, not by class.
        name = type(e).__name__
        if name == "Exit":
            return e.exit_code
        if name == "Abort":
            return _fail("aborted", None, 130, None)
        if hasattr(e, "format_message"):
            return _fail(e.format_message(), "see --help", getattr(e, "exit_code", 2), e)
        # Anything unforeseen still ends in one line; CFUSION_DEBUG=1 shows the traceback.
        return _fail(f"unexpected {name}: {str(e).splitlines()[0] if str(e) else ''}", None, 1, e)
    return code if isinstance(code, int) else 0


def _fail(message: str, hint: str | None, code: int, exc: BaseException | None) -> int:
    if os.environ.get("CFUSION_DEBUG") and exc is not None:
        import traceback

        traceback.print_exception(exc)
    line = f"Error: {message}" + (f" (hint: {hint})" if hint else "")
    print(line.replace("\n", " "), file=sys.stderr)
    return code
