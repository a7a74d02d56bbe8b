"""Runs a command in a throwaway sandbox and records what it printed and what it changed (`cfusion eval
--exec` only: `gen` never runs anything).

The sandbox is bubblewrap (`bwrap`): new user, PID, network, IPC and UTS namespaces (so no network at all, only an
empty loopback), the system's /usr and /etc read-only, and a fresh fixture file system (`fixture.build`) as the
writable home and /tmp. Nothing else of the machine is visible: not the real home, not /work, not /var. Limits:
wall time (the whole PID namespace is killed at the deadline), 256 processes, 32 MB per written file, 2 GB of
address space, no core files, all set by `prlimit` before bubblewrap starts. Where cfusion runs as root, the sandbox
runs as `nobody`, so that the process limit holds (the kernel does not apply it to root).

Each run gets its own fixture, built the same way, so the reference command and every candidate start from
identical files; `Outcome` holds the exit status, the output and the changes to the fixture, which is all that
execution match compares.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cfusion.errors import CfusionError
from cfusion.eval import fixture

TIMEOUT_S = 5.0
MAX_OUTPUT = 64 * 1024  # bytes of stdout kept; the rest is cut (the file itself is capped at MAX_FILE)
MAX_FILE_KB = 32 * 1024
MAX_PROCESSES = 256
MAX_MEMORY_KB = 2 * 1024 * 1024
NOBODY = 65534
HOME = "/home/user"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
GROUP = "root:x:0:\nuser:x:1000:\n"


class SandboxError(CfusionError):
    """The sandbox cannot run on this machine (no bubblewrap, or no user namespaces)."""


@dataclass(frozen=True)
class Outcome:
    """What a command did: its exit status (None: killed at the deadline), its output, and the changes it made to
    the fixture, path -> what the path became ("removed", or its kind, permissions and content hash; "+touched"
    when only its time changed). `stderr` is kept to tell a reference that complains (about a file the fixture
    lacks, say) from one that runs cleanly; execution match does not compare it."""

    status: int | None
    stdout: str
    changes: tuple[tuple[str, str], ...]
    stderr: str = ""

    @property
    def timed_out(self) -> bool:
        return self.status is None


def _system_binds() -> list[str]:
    args = []
    for d in ("/usr", "/etc", "/opt"):
        if os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def _processes_of(uid: int) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                n += os.stat(f"/proc/{pid}").st_uid == uid
            except OSError:
                pass
    return n


@functools.cache
def unavailable() -> str | None:
    """Why the sandbox cannot run here, or None when it can (checked once, by running `true` inside it)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    if shutil.which("prlimit") is None:
        return "prlimit (util-linux) is not installed"
    try:
        out = run("echo ok", ("/bin/sh", "-c"), timeout=10.0)
    except (OSError, subprocess.SubprocessError) as e:
        return f"bubblewrap does not start: {e}"
    if out.status != 0 or out.stdout != "ok\n":
        return "bubblewrap does not start here (user namespaces may be disabled)"
    return None


def check() -> None:
    """Raises SandboxError, with what to do, when the sandbox cannot run here."""
    if (why := unavailable()) is not None:
        raise SandboxError(f"cannot run commands in a sandbox: {why}")


def snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """path under root -> (kind and permissions and content, mtime); directories' times are left out (they change
    with any entry added or removed)."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            mode = oct(stat.S_IMODE(st.st_mode))
            if stat.S_ISLNK(st.st_mode):
                seen[rel] = (f"link -> {os.readlink(path)}", 0)
            elif stat.S_ISDIR(st.st_mode):
                seen[rel] = (f"dir {mode}", 0)
            elif stat.S_ISREG(st.st_mode):
                seen[rel] = (f"file {mode} {_digest(path)}", int(st.st_mtime))
            else:
                seen[rel] = (f"special {stat.S_IFMT(st.st_mode)}", 0)
    return seen


def _digest(path: str) -> str:
    """A hash of the file's content; for an archive, of its members' names and contents, since the times inside
    (the fixture's are relative to the clock, gzip stores the time it ran) differ from run to run."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "unreadable"
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if tarfile.is_tarfile(io.BytesIO(data)):
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                data = repr(sorted((m.name, t.extractfile(m).read() if m.isfile() else m.type) for m in t)).encode()
        elif zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data = repr(sorted((i.filename, z.read(i)) for i in z.infolist())).encode()
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, ValueError):
        pass  # not an archive after all, or a broken one: its bytes as read
    return hashlib.sha1(data).hexdigest()[:16]


def diff(before: dict, after: dict) -> tuple[tuple[str, str], ...]:
    changes = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            changes.append((path, "removed"))
        elif path not in before or before[path][0] != after[path][0]:
            changes.append((path, after[path][0]))
        elif before[path][1] != after[path][1]:
            changes.append((path, after[path][0] + " +touched"))
    return tuple(changes)


def _remove(root: str) -> None:
    # A command may have taken the permissions off what it made (chmod 000): give them back, top down, first.
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
    shutil.rmtree(root)


def run(code: str, interpreter: tuple[str, ...], timeout: float = TIMEOUT_S) -> Outcome:
    """Runs `code` inside the sandbox on a fresh fixture, as the last argument of `interpreter` (a language pack's,
    such as a shell and `-c`); never raises for what the code does."""
    work = tempfile.mkdtemp(prefix="cfusion-sandbox-")
    try:
        root = Path(work) / "root"
        home, tmp = root / "home" / "user", root / "tmp"
        fixture.build(home, tmp, now=time.time())
        (Path(work) / "passwd").write_text(PASSWD)
        (Path(work) / "group").write_text(GROUP)
        as_root = os.geteuid() == 0
        if as_root:
            for folder, dirs, files in os.walk(work):
                for name in [".", *dirs, *files]:
                    os.lchown(os.path.join(folder, name), NOBODY, NOBODY)
        before = snapshot(root)
        processes = _processes_of(NOBODY if as_root else os.getuid()) + MAX_PROCESSES
        argv = [
            "prlimit", f"--nproc={processes}", f"--fsize={MAX_FILE_KB * 1024}", f"--as={MAX_MEMORY_KB * 1024}",
            "--core=0", "--",
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            *_system_binds(),
            "--ro-bind", f"{work}/passwd", "/etc/passwd", "--ro-bind", f"{work}/group", "/etc/group",
            "--proc", "/proc", "--dev", "/dev", "--dir", "/var/tmp",
            "--bind", str(root / "home"), "/home", "--bind", str(tmp), "/tmp",
            "--remount-ro", "/",  # bwrap's own root (where /bin and /lib64 are links) is read-only too
            "--uid", "1000", "--gid", "1000", "--hostname", "sandbox", "--chdir", HOME,
            "--setenv", "HOME", HOME, "--setenv", "USER", "user", "--setenv", "LOGNAME", "user",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "TZ", "UTC", "--setenv", "SHELL", "/bin/sh", "--setenv", "TERM", "dumb",
            "--", *interpreter, code,
        ]  # fmt: skip
        user = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if as_root else {}
        with open(Path(work) / "stdout", "w+b") as out, open(Path(work) / "stderr", "w+b") as err:
            if as_root:
                os.chown(out.name, NOBODY, NOBODY)
                os.chown(err.name, NOBODY, NOBODY)
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True, **user
            )
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # bwrap's init is the PID namespace's first process: when it dies, the kernel kills every process
                # in the namespace (a fork bomb included).
                os.killpg(proc.pid, 9)
                proc.wait()
                status = None
            out.seek(0)
            err.seek(0)
            stdout = out.read(MAX_OUTPUT).decode("utf-8", "replace")
            stderr = err.read(MAX_OUTPUT).decode("utf-8", "replace")
        return Outcome(status, stdout, diff(before, snapshot(root)), stderr)
    finally:
        _remove(work)
