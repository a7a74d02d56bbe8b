"""The `cfusion` command line: parse, call the library, print. Results on stdout; progress and errors on stderr.
One file per command; this one wires them and turns every error into one line."""

from __future__ import annotations

import os
import sys

import typer

from cfusion.cli import bench, data, eval, explain, gen, train
from cfusion.errors import CfusionError

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
app.add_typer(data.app, name="data")


def main() -> None:
    """Entry point: turns every error into one line on stderr and an exit code (1 failure, 2 usage)."""
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as n here
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
    else:
        if isinstance(code, int) and code:
            sys.exit(code)


def _fail(message: str, hint: str | None, code: int, exc: BaseException | None) -> None:
    if os.environ.get("CFUSION_DEBUG") and exc is not None:
        import traceback

        traceback.print_exception(exc)
    line = f"Error: {message}" + (f" (hint: {hint})" if hint else "")
    print(line.replace("\n", " "), file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
