"""The server's protocol constants, limits and file locations (see cfusion.server for the messages)."""

from __future__ import annotations

import json
import os
from pathlib import Path

VERSION = 1
MAX_LINE = 16 * 1024  # bytes of one request line
MAX_TEXT = 4 * 1024  # bytes of any one argument (the request text)
MAX_K = 16
MAX_STEPS = 100
MAX_WAIT_S = 30.0  # a request waiting longer than this for the model gets "busy"
READ_TIMEOUT_S = 10.0  # a client that connects and sends no full line in this time is dropped
IDLE_TIMEOUT_S = 15 * 60
SERVED = ("gen", "explain")  # the commands a server runs; others are answered in-process
# Options a server does not take: another model or device, and --sheet (a path read in the client's folder).
IN_PROCESS = ("--model", "-m", "--device", "--kernels", "--no-server", "--help", "--sheet")


class ProtocolError(Exception):
    """A request line that is not a valid version-1 request."""


def runtime_dir() -> Path:
    """Where the socket, its lock and the server's log live: $CFUSION_RUNTIME_DIR, else $XDG_RUNTIME_DIR/cfusion
    (a per-user tmpfs), else a private folder in the user's cache. Created with mode 0700."""
    base = os.environ.get("CFUSION_RUNTIME_DIR")
    if base:
        path = Path(base)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "cfusion"
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = cache / "cfusion" / "run"
    return path


def socket_path() -> Path:
    return runtime_dir() / "server.sock"


def encode(message: dict) -> bytes:
    return (json.dumps({"v": VERSION, **message}, ensure_ascii=False) + "\n").encode()


def decode(line: bytes) -> dict:
    """A request or reply line as a dict; ProtocolError when it is not one JSON object of this version."""
    if len(line) > MAX_LINE:
        raise ProtocolError(f"the request is longer than {MAX_LINE} bytes")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not a JSON line: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a request is one JSON object")
    if message.get("v") != VERSION:
        raise ProtocolError(f"protocol version {message.get('v')!r} is not supported (this server speaks {VERSION})")
    return message
