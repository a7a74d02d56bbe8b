"""The sandbox of `cfusion eval --exec`: what a command does stays inside, and what it prints and changes is seen."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cfusion import langs
from cfusion.eval import sandbox

pytestmark = pytest.mark.skipif(sandbox.unavailable() is not None, reason=f"no sandbox: {sandbox.unavailable()}")

CHECKOUT = Path(__file__).resolve().parents[2]


def run(command: str, timeout: float = sandbox.TIMEOUT_S) -> sandbox.Outcome:
    return sandbox.run(command, langs.get("bash").interpreter, timeout)


def test_output_and_changes_are_recorded():
    out = run("cat a.txt; touch new.txt; rm b.txt; chmod +x run.sh; mkdir made")
    assert out.status == 0 and out.stdout == "apple\nbanana\ncherry\n"
    changes = dict(out.changes)
    assert changes["home/user/b.txt"] == "removed"
    assert changes["home/user/new.txt"].startswith("file 0o644 ")
    assert changes["home/user/run.sh"].startswith("file 0o755 ")
    assert changes["home/user/made"] == "dir 0o755"
    assert set(changes) == {"home/user/b.txt", "home/user/new.txt", "home/user/run.sh", "home/user/made"}
    (path, what), *rest = run("touch a.txt").changes
    assert path == "home/user/a.txt" and what.endswith(" +touched") and rest == []


def test_each_run_starts_from_the_same_fixture():
    assert run("rm -r docs src; ls").stdout != run("ls").stdout
    assert run("ls -R").stdout == run("ls -R").stdout
    assert run("find . -mtime +7 -name '*.log' | sort").stdout == "./logs/debug.log\n./logs/old.log\n"


def test_rm_rf_root_stays_inside(tmp_path):
    sentinel = tmp_path / "host-file.txt"
    sentinel.write_text("still here\n")
    # The guard keeps this test harmless if the sandbox ever let the host's files through: then it exits first.
    # rm walks the whole read-only system (about 1 s, several on a loaded machine): the limit is generous, since this
    # test is about what stays inside, not how fast.
    out = run(
        f"[ -e {sentinel} ] && exit 97; rm -rf --no-preserve-root / 2>/dev/null; ls -A /home/user 2>/dev/null | wc -l",
        timeout=60.0,
    )
    assert out.status == 0 and out.stdout.strip() == "0"  # the fixture is gone, inside
    assert ("home/user/file.txt", "removed") in out.changes and ("tmp/cache.tmp", "removed") in out.changes
    assert sentinel.read_text() == "still here\n"
    assert (CHECKOUT / "pyproject.toml").exists() and Path("/usr/bin/env").exists()


def test_the_system_is_read_only_and_the_host_invisible(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    out = run(f"cat {secret}; ls {CHECKOUT}; ls /root; echo x > /usr/cfusion-test && echo wrote; id -un")
    assert out.stdout == "user\n" and "wrote" not in out.stdout
    assert not Path("/usr/cfusion-test").exists()


def test_no_network():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    out = run(f"echo hi > /dev/tcp/127.0.0.1/{port} && echo connected; getent hosts example.com || echo no-dns")
    server.setblocking(False)  # the kernel completes a handshake without accept(): one would be waiting here
    with pytest.raises(BlockingIOError):
        server.accept()
    server.close()
    assert "connected" not in out.stdout and "no-dns" in out.stdout
    assert run(f"echo hi > /dev/tcp/127.0.0.1/{port} || echo refused").stdout == "refused\n"


def marker_processes(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    return [p for p in found if int(p) != os.getpid()]


def test_a_fork_bomb_is_stopped_and_leaves_nothing_behind():
    marker = "cfusion-bomb-marker"
    t0 = time.monotonic()
    out = run(f"bomb() {{ bomb | bomb & }}; bomb # {marker}", timeout=3.0)
    assert time.monotonic() - t0 < 30
    time.sleep(0.5)
    assert marker_processes(marker) == []
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes
    assert out.stdout == ""


def test_time_and_output_limits():
    t0 = time.monotonic()
    assert run("sleep 30", timeout=1.0).timed_out and time.monotonic() - t0 < 10
    assert run("sleep 30 & echo started").stdout == "started\n"  # a background job does not hold the run
    out = run("yes > big.txt; ls -l big.txt | cut -d' ' -f5")
    size = int(out.stdout.split()[-1])
    assert size <= sandbox.MAX_FILE_KB * 1024
    assert len(run("seq 1 1000000").stdout) == sandbox.MAX_OUTPUT
    assert int(run("ulimit -u").stdout) <= len(os.listdir("/proc")) + sandbox.MAX_PROCESSES
