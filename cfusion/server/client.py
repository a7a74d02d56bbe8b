"""The client side: forward a `cfusion gen` or `explain` command line to a running server and print its reply.

Runs before anything heavy is imported (no torch, typer or rich), so that a warm answer costs one Python start-up
and one round trip. Whenever the server cannot answer, the command runs in-process instead."""

from __future__ import annotations

import os
import socket
import sys
import time

from cfusion.server import protocol as P

CLIENT_TIMEOUT_S = (
    P.MAX_WAIT_S + 60
)  # the server's own wait for the model, then a generation bounded by MAX_K, MAX_STEPS
SPAWN_WAIT_S = 60.0  # a server started by `gen --shell` loads its models for a few seconds


class Unavailable(Exception):
    """No server answered, or it answered with something other than a version-1 reply."""


def call(message: dict, timeout: float = CLIENT_TIMEOUT_S, path=None) -> dict:
    """Sends one request and returns the server's reply (a dict with "ok"); Unavailable when none comes."""
    path = str(path or P.socket_path())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(P.encode(message))
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise Unavailable("the server closed the connection without answering")
            buf += chunk
    except FileNotFoundError:
        raise Unavailable(f"no server socket at {path}") from None
    except ConnectionRefusedError:
        raise Unavailable(f"nothing listens at {path} (a server that stopped without cleaning up)") from None
    except PermissionError:
        raise Unavailable(f"the socket {path} belongs to another user") from None
    except TimeoutError:
        raise Unavailable(f"the server did not answer within {timeout:.0f} s") from None
    except OSError as e:
        raise Unavailable(f"the server could not be reached: {e.strerror or e}") from None
    finally:
        s.close()
    try:
        reply = P.decode(buf)
    except P.ProtocolError as e:
        raise Unavailable(f"the server answered badly: {e}") from None
    if not isinstance(reply.get("ok"), bool):
        raise Unavailable("the server answered badly: no 'ok' field")
    return reply


def served(argv: list[str]) -> bool:
    """Whether a server may answer this command line (gen or explain, without options that need a process)."""
    if not argv or argv[0] not in P.SERVED:
        return False
    return not any(a in P.IN_PROCESS or a.split("=", 1)[0] in P.IN_PROCESS for a in argv[1:])


def forward(argv: list[str]) -> int | None:
    """Runs `cfusion ARGV` on the server: prints its output and returns its exit code. None means: run it in-process
    (not a served command, no server, or one that did not answer, which is said on stderr), with argv as left here
    (a request read from stdin replaces its '-'). `gen --shell` starts a
    server in the background when none runs, for the key presses that follow."""
    if not served(argv):
        return None
    path = P.socket_path()
    if not path.exists():
        if "--shell" not in argv or not spawn():
            return None
    if "-" in argv[1:]:  # the request from stdin, read here where stdin is; in place, for an in-process fallback
        argv[argv.index("-", 1)] = sys.stdin.read()
    tty = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    try:
        width = os.get_terminal_size(sys.stderr.fileno()).columns if tty else 0
    except OSError:
        width = 0
    try:
        reply = call({"op": "run", "argv": argv, "tty": tty, "width": width})
        if not reply["ok"]:
            raise Unavailable(f"the server refused the request: {reply.get('error', 'no reason given')}")
        out, err, code = reply["stdout"], reply["stderr"], reply["exit"]
        if not (isinstance(out, str) and isinstance(err, str) and isinstance(code, int)):
            raise Unavailable("the server answered badly: missing stdout, stderr or exit")
    except Unavailable as e:
        print(f"cfusion: {e}; answering in-process", file=sys.stderr)
        return None
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return code


def spawn(idle_min: float | None = None, wait: float = SPAWN_WAIT_S) -> bool:
    """Starts `cfusion serve` in the background (its own session, output to the runtime folder's server.log; `idle_min`
    its idle timeout, the default when None) and waits until it answers; False when it did not come up in time."""
    import subprocess

    folder = P.runtime_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = open(folder / "server.log", "ab")
    except OSError:
        return False
    with log:
        subprocess.Popen(
            [sys.executable, "-m", "cfusion.cli.main", "serve", *(["--idle", str(idle_min)] if idle_min else [])],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    return wait_ready(wait)


def wait_ready(wait: float) -> bool:
    """Polls the server's status until it answers or `wait` seconds pass."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            if call({"op": "status"}, timeout=2.0)["ok"]:
                return True
        except Unavailable:
            pass
        time.sleep(0.05)
    return False
