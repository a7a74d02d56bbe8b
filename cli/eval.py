"""`cfusion eval`: score a model on a JSONL test set with the paper's metrics at top-1/3/5."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from cfusion.cli.common import LITERALS_HELP, RECALL_HELP, check_lang, generator, stderr
from cfusion.cli.common import device as device_name
from cfusion.errors import UsageError
from cfusion.pipeline import DEFAULT_RECALL


def evaluate(
    data: Path = typer.Option(..., "--data", help="JSONL test pairs (refs: further correct answers)."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or training run folder."),
    lang: str | None = typer.Option(None, "--lang", "-l", help="Keep only pairs of this language (default: all)."),
    k: int = typer.Option(5, "-k", help="Candidates per request; metrics are reported at top-1, 3 and 5."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (default: the model's)."),
    seed: int = typer.Option(0, "--seed"),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N pairs (quick runs)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Requests per generation batch."),
    out: Path | None = typer.Option(None, "--out", help="Folder for predictions.jsonl and metrics.json."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    clamp: bool = typer.Option(True, "--clamp/--no-clamp", help="Snap each step's estimate to real tokens."),
    kernels: str = typer.Option("auto", "--kernels", help="auto (Triton on CUDA), triton or torch."),
    recall: int = typer.Option(DEFAULT_RECALL, "--recall", help=RECALL_HELP),
    literals: bool = typer.Option(True, "--literals/--no-literals", help=LITERALS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json instead of a table."),
    execute: bool = typer.Option(
        False,
        "--exec",
        help="Also run references and candidates in a throwaway sandbox (bubblewrap, no network, "
        "a fixture file system) and score execution match, exec@1/3/5, over the requests whose reference runs there.",
    ),
):
    """Score a model on a test set with the paper's metrics at top-1/3/5.

    Example: cfusion eval --model runs/bash --data data/bash_test.jsonl -k 5 --out runs/bash/eval
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from cfusion.data.pairs import read_pairs
    from cfusion.eval.evaluate import evaluate as run_eval
    from cfusion.eval.evaluate import write_results

    if lang is not None:
        check_lang(lang)
    if limit is not None and limit <= 0:
        raise UsageError(f"--limit must be positive, got {limit}")
    pairs = read_pairs(data, lang=lang)[:limit]
    langs = sorted({p.lang for p in pairs})
    if len(langs) > 1:
        raise UsageError(f"{data} mixes languages ({', '.join(langs)})", hint="pass --lang to pick one")
    if execute:
        from cfusion import langs as packs
        from cfusion.eval.sandbox import check

        interpreter = packs.get(langs[0]).interpreter
        if not interpreter:
            raise UsageError(f"--exec runs shell commands; {langs[0]} is scored by its own metrics")
        check()
    dev = device_name(device)
    g, folder, steps = generator(model, langs[0], dev, k, steps, kernels, recall)
    with Progress(
        TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr()
    ) as bar:
        task = bar.add_task("eval", total=len(pairs))
        predictions, metrics = run_eval(
            g, pairs, langs[0], k, steps, seed, batch_size, lambda n: bar.advance(task, n), clamp, recall, literals
        )
        if execute:
            from cfusion.eval.execution import Runner
            from cfusion.eval.execution import score as score_exec

            runs = bar.add_task("exec", total=None)
            found = score_exec(
                [[c["code"] for c in p["candidates"]] for p in predictions],
                [p["refs"] for p in predictions],
                Runner(interpreter),
                progress=lambda n: bar.advance(runs, n),
            )
            metrics["metrics"].update({key: round(v, 2) for key, v in found.items() if key != "exec_n"})
            metrics["exec_n"] = found["exec_n"]
    metrics = {"model": str(folder), "data": str(data), "device": dev, "kernels": kernels, **metrics}
    out = out if out is not None else Path("eval") / f"{langs[0]}-{time.strftime('%Y%m%d-%H%M%S')}"
    write_results(out, predictions, metrics)
    if as_json:
        print(json.dumps(metrics))
        return
    from rich.console import Console
    from rich.table import Table

    runnable = f"; exec@k over the {metrics['exec_n']} that run" if execute else ""
    table = Table(
        title=f"{metrics['n']} {langs[0]} requests{runnable}, k={k}, {steps} steps, {metrics['ms_per_request']} ms each"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics["metrics"].items():
        table.add_row(name, f"{value:.2f}")
    Console().print(table)
    stderr().print(f"[dim]predictions and metrics in {out}[/dim]")
