"""The server: a Unix socket only its owner can use, one thread per client, one request on the models at a time.

What a request does is the caller's `run(argv, tty, width) -> (exit, stdout, stderr)` (cli/serve.py runs the CLI's
own commands); this file owns the socket's life: the lock that makes one server per folder, a stale socket replaced,
the limits, the idle timeout, and a clean exit on `stop`, SIGTERM or SIGINT."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cfusion.server import protocol as P

Run = Callable[[list, bool, int], tuple[int, str, str]]


class Refused(Exception):
    """Raised by `run` for a request outside the server's limits: the client gets an error and answers in-process."""


class Busy(Exception):
    """A request that waited longer than MAX_WAIT_S for the model."""


class AlreadyRunning(Exception):
    """Another server holds this folder's lock; its pid is the message."""


class _Handler(socketserver.StreamRequestHandler):
    server: _Socket

    def handle(self) -> None:
        owner = self.server.owner
        self.request.settimeout(P.READ_TIMEOUT_S)
        uid = _peer_uid(self.request)
        if uid is not None and uid != os.getuid():  # the socket's mode already stops them; say so anyway
            self._send({"ok": False, "error": "this server answers only its owner"})
            return
        while True:
            try:
                line = self.rfile.readline(P.MAX_LINE + 1)
            except (TimeoutError, OSError):
                return
            if not line:
                return
            if len(line) > P.MAX_LINE or not line.endswith(b"\n"):
                self._send({"ok": False, "error": f"the request is longer than {P.MAX_LINE} bytes"})
                return  # the rest of an oversized line cannot be told from the next request
            try:
                reply = owner.answer(P.decode(line))
            except P.ProtocolError as e:
                reply = {"ok": False, "error": str(e)}
            if not self._send(reply) or reply.get("stopping"):
                return

    def _send(self, reply: dict) -> bool:
        try:
            self.wfile.write(P.encode(reply))
            self.wfile.flush()
            return True
        except OSError:
            return False


class _Socket(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 64  # clients that connect while the accept loop is busy (5 by default: EAGAIN for the 6th)
    owner: Server


class Server:
    """serve() answers on folder/server.sock until `stop`, a signal, or `idle` seconds without a request."""

    def __init__(self, run: Run, info: Callable[[], dict], idle: float = P.IDLE_TIMEOUT_S, folder: Path | None = None):
        self.run, self.info, self.idle = run, info, idle
        self.folder = Path(folder or P.runtime_dir())
        self.path = self.folder / "server.sock"
        # One request on the models at a time, always on the same thread: torch already uses every core, and each new
        # thread would build its own OpenMP team (a request ran at 1.7x the time in a fresh thread).
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="cfusion-model")
        self.started = self.last = time.monotonic()
        self.served = 0
        self.busy = 0  # requests being answered or waiting for the model; changed under _count
        self._count = threading.Lock()
        self._lock_file = None
        self._sock: _Socket | None = None
        self._stopped = threading.Event()

    def lock(self) -> None:
        """Takes the folder's lock (one server per folder; released by the OS when this process dies, so a crashed
        server's socket is known stale). AlreadyRunning when another server holds it."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        f = open(self.folder / "server.lock", "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip()
            f.close()
            raise AlreadyRunning(pid or "unknown") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._lock_file = f

    def bind(self) -> None:
        """Binds the socket (mode 0600), replacing a stale one: holding the lock means no live server owns it."""
        if self._lock_file is None:
            self.lock()
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        old = os.umask(0o177)
        try:
            self._sock = _Socket(str(self.path), _Handler)
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self._sock.owner = self

    def serve(self) -> None:
        if self._sock is None:
            self.bind()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
        self.touch()  # idle time counts from here, not from before the models loaded
        threading.Thread(target=self._watch_idle, daemon=True).start()
        try:
            self._sock.serve_forever(poll_interval=0.2)
        finally:
            self.close()

    def stop(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            threading.Thread(target=self._sock.shutdown, daemon=True).start()

    def close(self) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
        if self._sock is not None:
            self._sock.server_close()
        try:
            if self._sock is not None and self.path.exists():
                self.path.unlink()
        finally:
            if self._lock_file is not None:
                self._lock_file.close()

    def touch(self) -> None:
        self.last = time.monotonic()

    def _watch_idle(self) -> None:
        while not self._stopped.wait(min(5.0, max(self.idle / 4, 0.05))):
            if not self.busy and time.monotonic() - self.last > self.idle:
                self.stop()

    def answer(self, message: dict) -> dict:
        op = message.get("op")
        if op == "status":
            return {"ok": True, **self.status()}
        if op == "stop":
            self.stop()
            return {"ok": True, "stopping": True}
        if op != "run":
            return {"ok": False, "error": f"unknown op {op!r} (run, status, stop)"}
        argv, tty, width = message.get("argv"), message.get("tty", False), message.get("width", 0)
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            return {"ok": False, "error": "argv must be a non-empty list of strings"}
        if not isinstance(tty, bool) or not isinstance(width, int) or not 0 <= width <= 10_000:
            return {"ok": False, "error": "tty must be a boolean and width an integer in 0..10000"}
        with self._count:
            self.busy += 1
        try:
            code, out, err = self.worker.submit(self._work, argv, tty, width, time.monotonic()).result()
        except (Refused, Busy) as e:
            return {"ok": False, "error": str(e)}
        finally:
            with self._count:
                self.busy -= 1
            self.touch()  # only answering counts as use: a status poll does not keep an idle server alive
        with self._count:
            self.served += 1
        return {"ok": True, "exit": code, "stdout": out, "stderr": err}

    def _work(self, argv: list, tty: bool, width: int, queued: float) -> tuple[int, str, str]:
        if time.monotonic() - queued > P.MAX_WAIT_S:  # its client has waited long enough: it is told so at once
            raise Busy(f"busy: waited {P.MAX_WAIT_S:.0f} s for the model")
        return self.run(argv, tty, width)

    def status(self) -> dict:
        now = time.monotonic()
        return {
            "pid": os.getpid(),
            "socket": str(self.path),
            "uptime_s": round(now - self.started, 1),
            "served": self.served,
            "idle_timeout_s": self.idle,
            "idle_s": round(now - self.last, 1),
            **self.info(),
        }


def _peer_uid(sock: socket.socket) -> int | None:
    """The connecting process's uid (Linux SO_PEERCRED), or None where the platform does not say."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1]
    except (AttributeError, OSError):
        return None
