"""`cfusion serve`: keep the installed models loaded and answer `gen` and `explain` on a local socket (cfusion.server).

`cfusion gen` finds a running server by itself; `--status` and `--stop` manage it; `--detach` starts it in the
background and returns once it answers."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import typer

from cfusion.errors import CfusionError, UsageError
from cfusion.server import protocol as P


def serve(
    ctx: typer.Context,
    idle: float = typer.Option(P.IDLE_TIMEOUT_S / 60, "--idle", help="Minutes without a request before it exits."),
    status: bool = typer.Option(False, "--status", help="Say whether a server runs, and what it has loaded."),
    stop: bool = typer.Option(False, "--stop", help="Stop the running server."),
    detach: bool = typer.Option(False, "--detach", help="Start in the background; return once it answers."),
):
    """Serve the installed models on a Unix socket that only you can use, until --idle minutes pass unused.

    Example: cfusion serve --detach   (then `cfusion gen ...` answers in a fraction of the time)
    """
    from cfusion.server import client

    if sum((status, stop, detach)) > 1:
        raise UsageError("--status, --stop and --detach go one at a time", hint="see cfusion serve --help")
    if not idle > 0:
        raise UsageError(f"--idle must be a positive number of minutes, got {idle}")
    path = P.socket_path()
    if status:
        try:
            info = client.call({"op": "status"}, timeout=5.0)
        except client.Unavailable as e:
            print(f"no cfusion server is running ({e})", file=sys.stderr)
            raise typer.Exit(1) from None
        print(json.dumps({k: v for k, v in info.items() if k not in ("v", "ok")}, indent=2))
        return
    if stop:
        try:
            info = client.call({"op": "status"}, timeout=5.0)
            client.call({"op": "stop"}, timeout=5.0)
        except client.Unavailable:
            print("no cfusion server is running", file=sys.stderr)
            return
        end = time.monotonic() + 10
        while path.exists() and time.monotonic() < end:
            time.sleep(0.05)
        print(f"stopped the server (pid {info.get('pid')})", file=sys.stderr)
        return
    if detach:
        try:
            info = client.call({"op": "status"}, timeout=5.0)
            print(f"a server is already running (pid {info.get('pid')}, {path})", file=sys.stderr)
            return
        except client.Unavailable:
            pass
        if not client.spawn(idle):
            log = P.runtime_dir() / "server.log"
            raise CfusionError("the server did not start within a minute", hint=f"see {log}")
        print(f"server started ({path})", file=sys.stderr)
        return
    _serve(idle * 60, ctx.find_root().command)


def _serve(idle_s: float, group) -> None:
    """Serves `group` (the click group of the whole CLI) until stopped."""
    from cfusion.server.server import AlreadyRunning, Server

    server = Server(lambda argv, tty, width: _run(group, argv, tty, width), _info, idle_s)
    try:
        server.lock()
    except AlreadyRunning as e:
        raise CfusionError(f"a server is already running (pid {e})", hint="cfusion serve --stop") from None
    t0 = time.perf_counter()
    loaded = server.worker.submit(_warm).result()  # on the thread that will answer, which then has its OpenMP team
    server.bind()
    print(
        f"cfusion server (pid {os.getpid()}) on {server.path}: {', '.join(loaded) or 'no model'} loaded in "
        f"{time.perf_counter() - t0:.1f} s; exits after {idle_s / 60:g} min unused",
        file=sys.stderr,
        flush=True,
    )
    server.serve()


LOADED: list[str] = []


def _warm() -> list[str]:
    """Loads every installed model (with its memory) and answers one request with each, so that the first client
    does not pay for the load or the first pass."""
    from cfusion.cli.common import LANGS, generator
    from cfusion.errors import ModelNotInstalledError
    from cfusion.pipeline import DEFAULT_RECALL

    for lang in LANGS:
        try:
            g, _, steps = generator(None, lang, _device(), 5, None, "auto", DEFAULT_RECALL)
        except ModelNotInstalledError:
            continue
        g.generate(["list files"], lang, k=5, steps=steps, recall=DEFAULT_RECALL)
        LOADED.append(lang)
    return LOADED


def _device() -> str:
    from cfusion.cli.common import device

    return device("auto")


def _info() -> dict:
    import cfusion

    return {"version": cfusion.__version__, "protocol": P.VERSION, "languages": LOADED}


def _run(group, argv: list[str], tty: bool, width: int) -> tuple[int, str, str]:
    """Runs `cfusion ARGV` as the client would have in-process, within the server's limits (Refused otherwise);
    returns (exit code, stdout, stderr). It runs on the server's one model thread, so changing the environment for
    rich is safe here."""
    from cfusion.cli.common import invoke
    from cfusion.server.client import served
    from cfusion.server.server import Refused

    if not served(argv):
        raise Refused(f"the server runs {' and '.join(P.SERVED)} without {', '.join(P.IN_PROCESS)}")
    if any(len(a.encode()) > P.MAX_TEXT for a in argv):
        raise Refused(f"an argument is longer than the server's {P.MAX_TEXT} bytes")
    over = _over_limits(group, argv)
    if over:
        raise Refused(f"{over} on the server")
    env = {"FORCE_COLOR": "1", "COLUMNS": str(width or 80)} if tty else {}
    saved = {k: os.environ.pop(k, None) for k in ("FORCE_COLOR", "COLUMNS", "NO_COLOR", "TTY_COMPATIBLE")}
    os.environ.update(env)
    out, err, stdin = io.StringIO(), io.StringIO(), sys.stdin
    try:
        sys.stdin = io.StringIO("")
        with redirect_stdout(out), redirect_stderr(err):
            code = invoke(group, argv)
    finally:
        sys.stdin = stdin
        for k in env:
            os.environ.pop(k, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    return code, out.getvalue(), err.getvalue()


def _over_limits(group, argv: list[str]) -> str | None:
    """What in argv passes the server's bounds on k and steps, or None (a bad command line is left to the command,
    which says what is wrong with it)."""
    cmd = group.commands[argv[0]]
    try:
        params = cmd.make_context(argv[0], list(argv[1:]), resilient_parsing=True).params
    except Exception:  # typer's own click: its usage errors are recognised by the command when it runs
        return None
    if (params.get("k") or 0) > P.MAX_K:
        return f"-k is at most {P.MAX_K}"
    if (params.get("steps") or 0) > P.MAX_STEPS:
        return f"--steps is at most {P.MAX_STEPS}"
    return None
