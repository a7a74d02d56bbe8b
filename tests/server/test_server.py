"""The server's socket life without a model: a `run` that echoes stands in for the CLI, so each test takes well under a
second. What it checks: several clients at once, bad and oversized lines answered while serving goes on, limits
refused, a stale socket replaced, one server per folder, the idle timeout, stop, and a socket only its owner can
use."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from cfusion.server import client
from cfusion.server import protocol as P
from cfusion.server.server import AlreadyRunning, Refused, Server


def echo_run(argv, tty, width):
    if argv[-1] == "refuse":
        raise Refused("over the limit")
    time.sleep(0.05)  # long enough for concurrent clients to overlap
    return 0, json.dumps({"argv": argv, "tty": tty, "width": width}) + "\n", "note\n"


@pytest.fixture
def running(tmp_path):
    """A served folder; yields (server, folder) and stops it afterwards."""
    folder = tmp_path / "run"
    server = Server(echo_run, lambda: {"languages": ["test"]}, idle=60, folder=folder)
    server.bind()
    # Server.serve sets signal handlers, which only the main thread may: the socket is served from a thread here.
    thread = threading.Thread(target=server._sock.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, folder
    server.stop()
    thread.join(5)
    server.close()


def raw(path, *lines: bytes) -> list[dict]:
    """Sends the lines on one connection and reads one reply per line."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(path))
    f = s.makefile("rb")
    out = []
    for line in lines:
        s.sendall(line)
        reply = f.readline()
        out.append(json.loads(reply) if reply else None)
    s.close()
    return out


def test_a_run_request_comes_back_with_the_commands_output(running):
    server, folder = running
    reply = client.call({"op": "run", "argv": ["gen", "list files"], "tty": True, "width": 99}, path=server.path)
    assert reply["ok"] and reply["exit"] == 0 and reply["stderr"] == "note\n"
    assert json.loads(reply["stdout"]) == {"argv": ["gen", "list files"], "tty": True, "width": 99}
    status = client.call({"op": "status"}, path=server.path)
    assert status["pid"] == os.getpid() and status["served"] == 1 and status["languages"] == ["test"]


def test_concurrent_clients_each_get_their_own_answer(running):
    server, _ = running
    replies = {}

    def ask(i):
        replies[i] = client.call({"op": "run", "argv": ["gen", f"request {i}"]}, path=server.path)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(replies) == list(range(8))
    for i, reply in replies.items():
        assert json.loads(reply["stdout"])["argv"] == ["gen", f"request {i}"]
    assert time.monotonic() - t0 >= 8 * 0.05  # one request on the model at a time
    assert client.call({"op": "status"}, path=server.path)["served"] == 8


def test_bad_lines_get_an_error_and_the_connection_keeps_serving(running):
    server, _ = running
    good = P.encode({"op": "run", "argv": ["gen", "x"]})
    replies = raw(
        server.path,
        b"not json\n",
        b"[1, 2]\n",
        b'{"v": 2, "op": "run"}\n',
        b'{"v": 1, "op": "dance"}\n',
        b'{"v": 1, "op": "run", "argv": "gen x"}\n',
        b'{"v": 1, "op": "run", "argv": ["gen", "x"], "width": -1}\n',
        P.encode({"op": "run", "argv": ["gen", "refuse"]}),
        good,
    )
    errors = [r["error"] for r in replies[:-1]]
    assert all(r["ok"] is False for r in replies[:-1])
    assert "not a JSON line" in errors[0] and "one JSON object" in errors[1] and "version 2" in errors[2]
    assert "unknown op" in errors[3] and "argv" in errors[4] and "width" in errors[5] and errors[6] == "over the limit"
    assert replies[-1]["ok"] and replies[-1]["exit"] == 0


def test_an_oversized_line_is_refused_and_the_server_serves_the_next_client(running):
    server, _ = running
    (reply,) = raw(server.path, b'{"v": 1, "op": "run", "argv": ["gen", "' + b"x" * P.MAX_LINE + b'"]}\n')
    assert reply["ok"] is False and f"{P.MAX_LINE} bytes" in reply["error"]
    assert client.call({"op": "run", "argv": ["gen", "y"]}, path=server.path)["ok"]


def test_a_silent_client_does_not_block_others(running):
    server, _ = running
    idle = socket.socket(socket.AF_UNIX)
    idle.connect(str(server.path))  # connects and never sends
    try:
        assert client.call({"op": "run", "argv": ["gen", "z"]}, path=server.path, timeout=5)["ok"]
    finally:
        idle.close()


def test_the_socket_and_its_folder_are_private(running):
    server, folder = running
    assert server.path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to act as another user"
)
def test_another_user_cannot_connect(running, tmp_path):
    server, folder = running
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chmod(tmp_path, 0o755)  # let them reach the folder itself: the folder's and socket's modes must stop them
    code = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({str(server.path)!r}); print('connected')"
    proc = subprocess.run(
        ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0 and "connected" not in proc.stdout
    assert "PermissionError" in proc.stderr


def test_a_stale_socket_is_replaced(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(folder / "server.sock"))  # bound and closed without unlinking: what a killed server leaves
    dead.close()
    with pytest.raises(client.Unavailable, match="nothing listens"):
        client.call({"op": "status"}, path=folder / "server.sock")
    server = Server(echo_run, dict, idle=60, folder=folder)
    server.bind()
    thread = threading.Thread(target=server._sock.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        assert client.call({"op": "status"}, path=server.path)["ok"]
    finally:
        server.stop()
        thread.join(5)
        server.close()
    assert not server.path.exists()


def test_one_server_per_folder(running):
    server, folder = running
    second = Server(echo_run, dict, folder=folder)
    with pytest.raises(AlreadyRunning, match=str(os.getpid())):
        second.lock()
    assert client.call({"op": "status"}, path=server.path)["ok"]  # the first one's socket is left alone


def test_stop_and_the_idle_timeout_end_the_process(tmp_path):
    """Real processes: one stopped by request, one that exits by itself after its idle time, both cleaning up."""
    code = (
        "import sys, time; from cfusion.server.server import Server; "
        "s = Server(lambda a, t, w: (0, '', ''), dict, idle=float(sys.argv[2]), folder=sys.argv[1]); s.serve()"
    )
    for idle, stop in ((60, True), (0.5, False)):
        folder = tmp_path / f"run{idle}"
        proc = subprocess.Popen([sys.executable, "-c", code, str(folder), str(idle)])
        try:
            end = time.monotonic() + 20
            while not (folder / "server.sock").exists() and time.monotonic() < end:
                time.sleep(0.02)
            assert client.call({"op": "status"}, path=folder / "server.sock")["ok"]
            if stop:
                assert client.call({"op": "stop"}, path=folder / "server.sock")["ok"]
            assert proc.wait(20) == 0
        finally:
            proc.kill()
        assert not (folder / "server.sock").exists()
