"""`cfusion plot`: draws a training run's losses and learning rate again, or compares several runs in one image."""

from __future__ import annotations

from pathlib import Path

import typer

from cfusion.train.plot import SMOOTH  # stdlib only: matplotlib loads when a plot is drawn


def plot(
    runs: list[Path] = typer.Argument(
        ..., metavar="RUN", help="Run folder(s) written by `cfusion train --out`, or their metrics.jsonl."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Image to write (.png, .svg or .pdf). Default: RUN/loss.png; ./runs.png for several."
    ),
    smooth: float = typer.Option(
        SMOOTH,
        "--smooth",
        help="Smoothing of the solid curves (an EMA), 0 to below 1; 0 draws the logged values alone.",
    ),
):
    """Plot the loss terms and learning rate that `cfusion train` logged (needs matplotlib: the plot extra).

    Example: cfusion plot runs/bash
    Example: cfusion plot runs/small runs/base --out compare.png
    Prints the path written.
    """
    from cfusion.train.plot import plot_runs

    print(plot_runs(runs, out, smooth=smooth))
