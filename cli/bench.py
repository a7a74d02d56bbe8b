"""`cfusion bench`: the fused kernels against torch, and generation end to end against eager torch and an
autoregressive encoder-decoder, timed side by side in one run."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import typer

from cfusion.cli.common import DEFAULT_LANG, LANGS, check_lang, installed_model, stderr
from cfusion.cli.common import device as device_name
from cfusion.errors import CfusionError, UsageError


def bench(
    model: Path | None = typer.Option(None, "--model", "-m", help="Model for end-to-end timing (default: installed)."),
    preset: str = typer.Option("small", "--preset", help="Shapes of the kernel benchmarks, and the random model."),
    what: str = typer.Option("all", "--what", help="kernels, e2e or all."),
    kernels: str = typer.Option("auto", "--kernels", help="auto (every path), triton or torch."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps per request (default: gen's)."),
    reps: int = typer.Option(30, "--reps", help="Timed repetitions per latency figure."),
    batch: int = typer.Option(256, "--batch", help="Requests per batch for the throughput figure."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help=f"The installed model timed: {', '.join(LANGS)}."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
):
    """Time the fused kernels against torch, and generation end to end against eager torch and an autoregressive
    encoder-decoder. Medians; the baselines are timed in the same run.

    Example: cfusion bench --what e2e --steps 20 --reps 20
    """
    import torch

    from cfusion.core.config import PRESETS
    from cfusion.eval import bench as B
    from cfusion.kernels import MODES, check_mode
    from cfusion.pipeline import DEFAULT_STEPS

    if what not in ("kernels", "e2e", "all"):
        raise UsageError(f"--what must be kernels, e2e or all, got {what!r}")
    if preset not in PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if kernels not in MODES:
        raise UsageError(f"--kernels must be one of {', '.join(MODES)}, got {kernels!r}")
    check_mode(kernels)
    if reps <= 0 or batch <= 0:
        raise UsageError("--reps and --batch must be positive")
    dev = device_name(device)
    torch.set_grad_enabled(False)
    if model is None:
        try:
            model = installed_model(check_lang(lang))
        except CfusionError:
            model = None  # a random model of the preset: speed does not depend on the weights
    steps = steps or DEFAULT_STEPS
    card = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
    result = {"device": card, "torch": torch.__version__, "preset": preset, "model": str(model or "random")}
    err = stderr()
    with err.status("benchmarking the kernels ...") if what != "e2e" else contextlib.nullcontext():
        if what != "e2e":
            result["kernels"] = B.bench_kernels([preset], dev)
    with err.status("benchmarking generation end to end ...") if what != "kernels" else contextlib.nullcontext():
        if what != "kernels":
            result["end_to_end"] = B.bench_end_to_end(model, preset, dev, steps, reps, batch, kernels, lang)
    if as_json:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    con = Console()
    for key, title in (("kernels", "fused ops"), ("end_to_end", f"generation, {steps} steps")):
        rows = result.get(key)
        if not rows:
            continue
        cols = list(dict.fromkeys(c for r in rows for c in r))
        table = Table(title=f"{title} on {card}")
        for c in cols:
            table.add_column(c, justify="left" if c in ("op", "impl", "shape", "note", "preset") else "right")
        for r in rows:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
        con.print(table)
