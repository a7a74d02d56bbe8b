"""`cfusion serve` with the shipped model, through the installed entry point, as a user meets it: gen answers the same
through a server as in-process; a killed server, a stale socket and a refused request fall back in-process and say
so; `gen --shell` starts a server when none runs; --status and --stop manage it. Each test uses a private runtime
folder (CFUSION_RUNTIME_DIR), so no test meets another's server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest
from conftest import CFUSION

REQUEST = "find all txt files under the current directory"


def run(env, *args, input=None, timeout=300):
    return subprocess.run([CFUSION, *args], env=env, input=input, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env(tmp_path):
    e = {**os.environ, "CFUSION_RUNTIME_DIR": str(tmp_path / "run")}
    yield e
    run(e, "serve", "--stop", timeout=60)


def started(env) -> dict:
    proc = run(env, "serve", "--detach")
    assert proc.returncode == 0, proc.stderr
    status = run(env, "serve", "--status")
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)


def without_timing(text: str) -> str:
    """stderr less its timing line, which differs between any two runs."""
    return "\n".join(line for line in text.splitlines() if "candidate(s) in" not in line)


def test_gen_through_the_server_answers_as_in_process(env):
    info = started(env)
    assert info["languages"] == ["bash", "python", "cf"] and info["protocol"] == 1  # every installed model, warm
    served = run(env, "gen", REQUEST, "-k", "3")
    alone = run(env, "gen", REQUEST, "-k", "3", "--no-server")
    assert served.returncode == alone.returncode == 0
    assert served.stdout == alone.stdout and len(served.stdout.splitlines()) == 3
    assert without_timing(served.stderr) == without_timing(alone.stderr)
    a = json.loads(run(env, "gen", REQUEST, "--json").stdout)
    b = json.loads(run(env, "gen", REQUEST, "--json", "--no-server").stdout)
    assert a["candidates"] == b["candidates"] and a["confident"] is b["confident"] is True
    # One gen and one gen --json: the --no-server ones ran in-process.
    assert json.loads(run(env, "serve", "--status").stdout)["served"] == 2
    # Usage errors come back from the server as they would in-process, and stdin still works.
    bad = run(env, "gen", REQUEST, "-k", "0")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: -k must be in 1..64")
    piped = run(env, "gen", "-", "-k", "2", input=REQUEST + "\n")
    assert piped.returncode == 0 and piped.stdout.splitlines() == served.stdout.splitlines()[:2]
    explained = run(env, "explain", "rm -rf /tmp/x", "--check")
    assert explained.returncode == 3 and "deletes" in explained.stdout + explained.stderr


def test_a_request_over_the_servers_limits_is_answered_in_process(env):
    started(env)
    proc = run(env, "gen", REQUEST, "-k", "20", "--steps", "2")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) >= 5
    assert "the server refused the request: -k is at most 16" in proc.stderr and "answering in-process" in proc.stderr


def test_a_killed_server_falls_back_and_is_replaced(env):
    pid = started(env)["pid"]
    os.kill(pid, signal.SIGKILL)  # no clean-up: the socket file stays behind
    time.sleep(0.5)
    sock = os.path.join(env["CFUSION_RUNTIME_DIR"], "server.sock")
    assert os.path.exists(sock)
    proc = run(env, "gen", REQUEST, "-k", "2")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 2 and "Traceback" not in proc.stderr
    assert "nothing listens" in proc.stderr and "answering in-process" in proc.stderr
    again = started(env)  # a new server takes the stale socket over
    assert again["pid"] != pid


def test_a_server_that_answers_badly_falls_back(env, tmp_path):
    """Something else listening on the socket, answering garbage: gen still answers, in-process, and says why."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "server.sock"))
    listener.listen(1)

    def answer():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"garbage\n")
        conn.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    proc = run(env, "gen", REQUEST, "-k", "2")
    listener.close()
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 2
    assert "answered badly" in proc.stderr and "answering in-process" in proc.stderr


def test_gen_shell_starts_a_server_and_marks_destructive_candidates(env):
    proc = run(env, "gen", "--shell", "delete all txt files in the current folder", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and all(line.endswith("# cfusion: deletes or overwrites data") for line in lines)
    assert run(env, "serve", "--status").returncode == 0  # started for the presses that follow
    lost = run(env, "gen", "--shell", "xq zz 93 ;;; pflorp vlem")
    assert lost.returncode == 4 and lost.stdout == "" and "no confident answer" in lost.stderr


def test_status_and_stop_without_a_server(env):
    proc = run(env, "serve", "--status")
    assert proc.returncode == 1 and "no cfusion server is running" in proc.stderr
    proc = run(env, "serve", "--stop")
    assert proc.returncode == 0 and "no cfusion server is running" in proc.stderr
    proc = run(env, "serve", "--status", "--stop")
    assert proc.returncode == 2 and proc.stderr.startswith("Error: ") and "Traceback" not in proc.stderr


def test_a_detached_server_exits_after_its_idle_minutes(env):
    assert run(env, "serve", "--detach", "--idle", "0.05").returncode == 0  # 3 s
    assert run(env, "serve", "--status").returncode == 0
    end = time.monotonic() + 60
    while run(env, "serve", "--status").returncode == 0 and time.monotonic() < end:
        time.sleep(0.5)
    assert run(env, "serve", "--status").returncode == 1
    assert not os.path.exists(os.path.join(env["CFUSION_RUNTIME_DIR"], "server.sock"))
    bad = run(env, "serve", "--idle", "0")
    assert bad.returncode == 2 and bad.stderr.startswith("Error: --idle must be a positive number")
