"""`cfusion train`: pre-training on snippets or fine-tuning on pairs, resumable, on every GPU under torchrun."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from cfusion.cli.common import DEFAULT_LANG, LANGS, stderr
from cfusion.errors import UsageError


def train(
    stage: str = typer.Option(..., "--stage", help="pretrain (code snippets, one per line) or finetune (JSONL pairs)."),
    data: list[Path] = typer.Option(..., "--data", help="Training file(s); repeat for several."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints/, model/, metrics.jsonl, loss.png."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help=f"{', '.join(LANGS)}."),
    preset: str = typer.Option("small", "--preset", help="tiny, small or base."),
    config: Path | None = typer.Option(None, "--config", help="JSON file of model fields over the preset."),
    init: Path | None = typer.Option(None, "--init", help="Start from this model (e.g. a pre-training run)."),
    steps: int = typer.Option(1000, "--steps", help="Total optimizer steps."),
    batch_size: int = typer.Option(64, "--batch-size", help="Global batch size (split across GPUs)."),
    lr: float = typer.Option(5e-4, "--lr", help="Peak AdamW learning rate."),
    warmup: int = typer.Option(100, "--warmup", help="Warm-up steps."),
    ema_decay: float = typer.Option(0.999, "--ema-decay", help="EMA decay of the saved weights."),
    high_noise: float = typer.Option(
        0.0, "--high-noise", help="Share of each batch noised to the top eighth of the schedule (0 to 1)."
    ),
    ckpt_every: int = typer.Option(500, "--ckpt-every", help="Checkpoint every N steps."),
    log_every: int = typer.Option(10, "--log-every", help="Log to metrics.jsonl every N steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    workers: int = typer.Option(-1, "--workers", help="Batch-building processes; -1: 2 on CUDA, 0 on CPU."),
    seed: int = typer.Option(0, "--seed"),
    graphs: bool = typer.Option(
        True, "--graphs/--no-graphs", help="Replay the step from CUDA graphs (one CUDA process; eager otherwise)."
    ),
    set_: list[str] = typer.Option([], "--set", help="Model field override, e.g. --set encoder_trainable=true."),
    memory: list[Path] = typer.Option(
        [], "--memory", help="More known pairs (JSONL) that a retrieval-aware model's neighbours come from."
    ),
):
    """Train a model: pre-training on snippets, then fine-tuning on (request, code) pairs.

    Example: cfusion train --stage finetune --lang bash --data train.jsonl --out runs/bash --preset small
    Under torchrun the same command trains on every GPU (DistributedDataParallel).
    loss.png, redrawn at each checkpoint, plots metrics.jsonl when matplotlib is installed (`cfusion plot` compares).
    """
    from cfusion.core.checkpoint import read_latest
    from cfusion.train.diffusion import TrainArgs
    from cfusion.train.diffusion import train as run_training
    from cfusion.train.plot import loss_plot_hook

    overrides = {}
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set takes key=value, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    if (out / "checkpoints").is_dir() and read_latest(out / "checkpoints") and not resume:
        raise UsageError(
            f"{out} already holds a training run", hint="pass --resume to continue it, or pick another --out"
        )
    args = TrainArgs(
        stage=stage,
        lang=lang,
        data=[str(p) for p in data],
        out=str(out),
        preset=preset,
        config=str(config) if config else None,
        init=str(init) if init else None,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        warmup=min(warmup, steps),
        ema_decay=ema_decay,
        high_noise=high_noise,
        ckpt_every=ckpt_every,
        log_every=log_every,
        seed=seed,
        device=device,
        workers=workers,
        graphs=graphs,
        overrides=overrides,
        memory=[str(p) for p in memory],
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = stderr()
    main_rank = os.environ.get("RANK", "0") == "0"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  {task.fields[rate]} steps/s"),
        TimeRemainingColumn(),
        console=err,
        disable=not main_rank,
    ) as bar:
        task = bar.add_task(stage, total=steps, loss="-", rate="-")

        def progress(done: int, rec: dict):
            bar.update(task, completed=done, loss=f"{rec['loss']:.4f}", rate=f"{rec['steps_per_s']:.2f}")

        # A picture of the losses is a convenience: loss_plot_hook notes its failure once and never stops training.
        redraw = loss_plot_hook(lambda m: bar.console.print(m, style="dim", markup=False))
        folder = run_training(
            args, progress=progress, log=lambda m: bar.console.print(m) if main_rank else None, on_save=redraw
        )
    if main_rank:
        print(folder)
