"""The Typer app: one file per command, wired here; run() turns every error into one line and an exit code."""

from __future__ import annotations

import typer
import typer.main

from cfusion.cli import bench, data, eval, explain, gen, plot, serve, shell_init, train
from cfusion.cli.common import invoke

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline natural-language-to-code with a CodeFusion-style diffusion model.",
)
app.command()(gen.gen)
app.command()(explain.explain)
app.command("eval")(eval.evaluate)
app.command()(train.train)
app.command()(bench.bench)
app.command()(plot.plot)
app.command()(serve.serve)
app.command("shell-init")(shell_init.shell_init)
app.add_typer(data.app, name="data")


def run(argv: list[str]) -> int:
    """Runs `cfusion ARGV` in this process: its exit code, every error turned into one line (common.invoke)."""
    return invoke(typer.main.get_command(app), argv)
