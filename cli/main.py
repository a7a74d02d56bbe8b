"""The `cfusion` command line: parse, call the library, print. Results on stdout; progress and errors on stderr."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import typer

from cfusion import LANGS
from cfusion.errors import CfusionError, ModelNotInstalledError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline natural-language-to-code with a CodeFusion-style diffusion model.",
)
WEIGHTS = Path(__file__).resolve().parent.parent / "cfusion" / "weights"


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _installed_model(lang: str) -> Path:
    import cfusion

    folder = Path(cfusion.__file__).resolve().parent / "weights" / lang
    if not (folder / "config.json").is_file():
        raise ModelNotInstalledError(
            f"no model is installed for {lang}",
            hint=f"train one with `cfusion train --stage finetune --lang {lang} --data pairs.jsonl --out runs/{lang}` "
            f"and pass `--model runs/{lang}`",
        )
    return folder


def _device(name: str) -> str:
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise CfusionError("--device cuda was asked for, but CUDA is not available", hint="use --device cpu")
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


@app.command()
def gen(
    request: str = typer.Argument(..., help="What the code should do, in English; '-' reads it from stdin."),
    lang: str = typer.Option("bash", "--lang", "-l", help=f"Target language: {', '.join(LANGS)}."),
    k: int = typer.Option(5, "-k", help="Number of candidates (sampled in one batch, deduplicated, ranked)."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (1..1200; default: the model's)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the initial noise."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or training run folder."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of one candidate per line."),
):
    """Generate code for a request. The code is printed, never executed.

    Example: cfusion gen "delete empty directories under /tmp" --lang bash -k 3
    """
    if request == "-":
        request = sys.stdin.read()
    request = request.strip()
    if not request:
        raise UsageError("the request is empty", hint='say what the code should do, e.g. cfusion gen "list txt files"')
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    dev = _device(device)
    import torch

    from cfusion.bundle import load_model
    from cfusion.generate import DEFAULT_STEPS, Generator

    err = _stderr()
    torch.set_grad_enabled(False)
    t0 = time.perf_counter()
    net, tok, folder = load_model(model if model is not None else _installed_model(lang), dev)
    g = Generator(net, tok)
    steps = steps if steps is not None else DEFAULT_STEPS
    g.check(lang, k, steps)
    if g.feat.too_long(request):
        err.print(
            f"warning: the request is longer than the {g.cfg.max_request_len} tokens the encoder reads; "
            "the rest is ignored"
        )
    t1 = time.perf_counter()
    cands = g.generate([request], lang, k=k, steps=steps, seed=seed)[0]
    t2 = time.perf_counter()
    if as_json:
        print(
            json.dumps(
                {
                    "request": request,
                    "lang": lang,
                    "model": str(folder),
                    "k": k,
                    "steps": steps,
                    "seed": seed,
                    "device": dev,
                    "ms": round(1000 * (t2 - t1), 1),
                    "candidates": [{"code": c.code, "score": round(c.score, 4), "votes": c.votes} for c in cands],
                }
            )
        )
    else:
        for c in cands:
            print(c.code)
        err.print(
            f"[dim]{len(cands)} candidate(s) in {1000 * (t2 - t1):.0f} ms ({steps} steps on {dev}; "
            f"model loaded in {1000 * (t1 - t0):.0f} ms). Review before running.[/dim]"
        )
    if not cands:
        raise CfusionError("the model produced no candidate", hint="try more steps or a larger -k")


@app.command()
def train(
    stage: str = typer.Option(..., "--stage", help="pretrain (code snippets, one per line) or finetune (JSONL pairs)."),
    data: list[Path] = typer.Option(..., "--data", help="Training file(s); repeat for several."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints/, model/, metrics.jsonl."),
    lang: str = typer.Option("bash", "--lang", "-l", help=f"{', '.join(LANGS)}."),
    preset: str = typer.Option("small", "--preset", help="tiny, small or base."),
    config: Path | None = typer.Option(None, "--config", help="JSON file of model fields over the preset."),
    init: Path | None = typer.Option(None, "--init", help="Start from this model (e.g. a pre-training run)."),
    steps: int = typer.Option(1000, "--steps", help="Total optimizer steps."),
    batch_size: int = typer.Option(64, "--batch-size", help="Global batch size (split across GPUs)."),
    lr: float = typer.Option(5e-4, "--lr", help="Peak AdamW learning rate."),
    warmup: int = typer.Option(100, "--warmup", help="Warm-up steps."),
    ema_decay: float = typer.Option(0.999, "--ema-decay", help="EMA decay of the saved weights."),
    ckpt_every: int = typer.Option(500, "--ckpt-every", help="Checkpoint every N steps."),
    log_every: int = typer.Option(10, "--log-every", help="Log to metrics.jsonl every N steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, "--seed"),
    set_: list[str] = typer.Option([], "--set", help="Model field override, e.g. --set encoder_trainable=true."),
):
    """Train a model: pre-training on snippets, then fine-tuning on (request, code) pairs.

    Example: cfusion train --stage finetune --lang bash --data train.jsonl --out runs/bash --preset small
    Under torchrun the same command trains on every GPU (DistributedDataParallel).
    """
    from cfusion.checkpoint import read_latest
    from cfusion.train import TrainArgs
    from cfusion.train import train as run_training

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
        ckpt_every=ckpt_every,
        log_every=log_every,
        seed=seed,
        device=device,
        overrides=overrides,
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = _stderr()
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

        folder = run_training(args, progress=progress, log=lambda m: bar.console.print(m) if main_rank else None)
    if main_rank:
        print(folder)


def main() -> None:
    """Entry point: turns every error into one line on stderr and an exit code (1 failure, 2 usage)."""
    try:
        app(standalone_mode=False)
    except CfusionError as e:
        _fail(str(e), e.hint, e.exit_code, e)
    except KeyboardInterrupt:
        _fail("interrupted", None, 130, None)
    except Exception as e:
        # Typer vendors its own copy of click, so its exceptions are recognised by shape, not by class.
        name = type(e).__name__
        if name == "Exit":
            sys.exit(e.exit_code)
        if name == "Abort":
            _fail("aborted", None, 130, None)
        if hasattr(e, "format_message"):
            _fail(e.format_message(), "see --help", getattr(e, "exit_code", 2), e)
        # Anything unforeseen still ends in one line; CFUSION_DEBUG=1 shows the traceback.
        _fail(f"unexpected {name}: {str(e).splitlines()[0] if str(e) else ''}", None, 1, e)


def _fail(message: str, hint: str | None, code: int, exc: BaseException | None) -> None:
    if os.environ.get("CFUSION_DEBUG") and exc is not None:
        import traceback

        traceback.print_exception(exc)
    line = f"Error: {message}" + (f" (hint: {hint})" if hint else "")
    print(line.replace("\n", " "), file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
