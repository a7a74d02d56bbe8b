"""The file system that sandboxed commands run on: a home folder and a /tmp, the same files every time.

It holds what everyday requests name: text files, logs, a CSV, source files in several languages, scripts
(executable or not), hidden files, files with spaces, empty files and folders, large files, symbolic links,
archives (tar, tar.gz, zip, gz), files of several permissions, and times from minutes to a year old, so that
`find -mtime +7`, `-size +1M`, `-perm 777`, `-empty` and `tar -xzf` all have something to find. Times are set
relative to `now`, so a command that compares with the clock sees the same ages on every run.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

MINUTE, HOUR, DAY = 60, 3600, 86400

LOG = [
    "2026-12-01 08:00:01 INFO server started on port 8080",
    "2026-12-01 08:00:05 INFO connected to database",
    "2026-12-01 08:15:42 WARNING disk usage at 85%",
    "2026-12-01 09:02:13 ERROR failed to open /var/data/cache.db",
    "2026-12-01 09:02:14 INFO retrying in 5 seconds",
    "2026-12-01 09:02:19 ERROR connection refused from 192.168.1.20",
    "2026-12-02 10:30:00 INFO user alice logged in from 10.0.0.5",
    "2026-12-02 10:31:07 INFO user bob logged in from 10.0.0.7",
    "2026-12-02 11:45:59 WARNING slow query took 2300 ms",
    "2026-12-02 12:00:00 ERROR timeout while reading /home/user/data.csv",
    "2026-12-03 07:12:30 INFO backup finished",
    "2026-12-03 07:13:02 INFO server stopped",
]
ACCESS = [
    f'{ip} - - [02/Dec/2026:10:{m:02d}:00 +0000] "GET {path} HTTP/1.1" {code} {size}'
    for m, (ip, path, code, size) in enumerate(
        [
            ("10.0.0.5", "/index.html", 200, 5120),
            ("10.0.0.7", "/about.html", 200, 2048),
            ("192.168.1.20", "/admin", 403, 128),
            ("10.0.0.5", "/images/logo.png", 200, 10240),
            ("172.16.0.3", "/missing", 404, 64),
            ("10.0.0.5", "/index.html", 200, 5120),
            ("192.168.1.20", "/login", 200, 900),
            ("10.0.0.9", "/index.html", 304, 0),
        ]
    )
]
TEXT = """hello world
this is a test file
it has several lines of text
some lines mention error and warning
numbers like 42 and 1024 appear too
Hello World in capitals
the quick brown fox jumps over the lazy dog
foo bar baz
the end
"""
CSV = "name,age,city,salary\n" + "".join(
    f"{n},{a},{c},{s}\n"
    for n, a, c, s in [
        ("alice", 34, "London", 52000),
        ("bob", 28, "Paris", 48000),
        ("carol", 45, "Berlin", 61000),
        ("dave", 23, "London", 39000),
        ("eve", 37, "Madrid", 57000),
        ("frank", 52, "Paris", 72000),
        ("grace", 31, "Berlin", 50500),
        ("heidi", 29, "Rome", 44000),
        ("ivan", 41, "London", 66000),
        ("judy", 26, "Madrid", 41000),
    ]  # fmt: skip
)
NAMES = "charlie\nalice\nbob\nalice\ndave\nbob\neve\ncharlie\nalice\n"
NUMBERS = "".join(f"{(i * 37) % 101}\n" for i in range(1, 21))
PY = 'import sys\n\n\ndef main():\n    print("hello from main")\n\n\nif __name__ == "__main__":\n    main()\n'
C = '#include <stdio.h>\n\nint main(void) {\n    printf("hello\\n");\n    return 0;\n}\n'
JAVA = (
    'public class Main {\n    public static void main(String[] args) {\n        System.out.println("hi");\n    }\n}\n'
)
SCRIPT = '#!/bin/sh\necho "hello from script"\n'


def _write(path: Path, data: bytes, age: float, now: float, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    os.utime(path, (now - age, now - age))


def _tar(files: dict[str, str], gz: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT) as t:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(text.encode()), 1764547200, 0o644
            t.addfile(info, io.BytesIO(text.encode()))
    return buf.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 12, 1, 0, 0, 0)), text)
    return buf.getvalue()


@functools.cache
def contents() -> tuple[dict[str, tuple[bytes, float, int]], dict[str, tuple[bytes, float, int]]]:
    """(home, tmp): path -> (bytes, age in seconds, permissions), built once per process."""
    archived = {"docs/readme.txt": "read me\n", "docs/notes.txt": "a note\n", "src/app.py": PY}
    home = {
        "file.txt": (TEXT, 2 * HOUR),
        "a.txt": ("apple\nbanana\ncherry\n", 3 * DAY),
        "b.txt": ("apple\nblueberry\ncherry\ndate\n", 3 * DAY),
        "test.txt": ("test line one\ntest line two\n", 10 * MINUTE),
        "notes.md": ("# Notes\n\n- buy milk\n- call bob\n", 8 * DAY),
        "README": ("This folder is a sandbox fixture.\n", 30 * DAY),
        "data.csv": (CSV, 2 * DAY),
        "names.txt": (NAMES, 2 * DAY),
        "numbers.txt": (NUMBERS, 2 * DAY),
        "log.txt": ("\n".join(LOG) + "\n", 1 * HOUR),
        "access.log": ("\n".join(ACCESS) + "\n", 1 * HOUR),
        "hello.py": (PY, 5 * DAY),
        "main.c": (C, 5 * DAY),
        "Main.java": (JAVA, 5 * DAY),
        "index.html": ("<html><head><title>Home</title></head><body>Hello</body></html>\n", 9 * DAY),
        "style.css": ("body { color: black; }\n", 9 * DAY),
        "config.json": ('{"name": "app", "port": 8080, "debug": false}\n', 4 * DAY),
        "config.yml": ("name: app\nport: 8080\n", 4 * DAY),
        "my file.txt": ("a file with a space in its name\n", 6 * DAY),
        "empty.txt": ("", 1 * DAY),
        ".bashrc": ("alias ll='ls -l'\nexport EDITOR=vi\n", 100 * DAY),
        ".hidden": ("hidden\n", 20 * DAY),
        "docs/readme.txt": ("Documentation for the project.\n", 40 * DAY),
        "docs/guide.md": ("# Guide\n\nStep one.\nStep two.\n", 12 * DAY),
        "docs/old.txt": ("old document\n", 400 * DAY),
        "docs/report.pdf": (b"%PDF-1.4\n% fixture\n", 15 * DAY),
        "src/main.c": (C, 3 * DAY),
        "src/util.c": ("int add(int a, int b) { return a + b; }\n", 3 * DAY),
        "src/util.h": ("int add(int a, int b);\n", 3 * DAY),
        "src/app.py": (PY, 1 * DAY),
        "src/test_app.py": ("def test_ok():\n    assert True\n", 1 * DAY),
        "src/Makefile": ("all:\n\tcc -o app main.c util.c\n", 3 * DAY),
        "src/lib/helper.py": ("def helper():\n    return 1\n", 20 * DAY),
        "src/lib/module.js": ("export const x = 1;\n", 20 * DAY),
        "logs/app.log": ("\n".join(LOG[:6]) + "\n", 30 * MINUTE),
        "logs/app.log.1": ("\n".join(LOG[6:]) + "\n", 2 * DAY),
        "logs/error.log": ("\n".join(x for x in LOG if "ERROR" in x) + "\n", 1 * DAY),
        "logs/old.log": ("old entries\n", 30 * DAY),
        "logs/debug.log": ("", 10 * DAY),
        "images/photo.jpg": (b"\xff\xd8\xff\xe0fixture-jpeg", 50 * DAY),
        "images/logo.png": (b"\x89PNG\r\n\x1a\nfixture-png", 50 * DAY),
        "images/scan.JPG": (b"\xff\xd8\xff\xe0fixture-JPG", 70 * DAY),
        "backup/file.txt.bak": (TEXT, 15 * DAY),
        "backup/data.csv.bak": (CSV, 15 * DAY),
        "dir1/common.txt": ("same\n", 5 * DAY),
        "dir1/only1.txt": ("one\n", 5 * DAY),
        "dir2/common.txt": ("same\n", 5 * DAY),
        "dir2/only2.txt": ("two\n", 5 * DAY),
        "temp/a.tmp": ("tmp\n", 3 * DAY),
        "temp/b.tmp": ("tmp\n", 40 * DAY),
        "temp/file.txt~": ("editor backup\n", 3 * DAY),
        "big.bin": (bytes(range(256)) * 8192, 2 * DAY),  # 2 MiB
        "medium.dat": (b"0123456789abcdef" * 12800, 2 * DAY),  # 200 KiB
        "archive.tar.gz": (_tar(archived, gz=True), 7 * DAY),
        "backup.tar": (_tar({"file.txt": TEXT, "data.csv": CSV}, gz=False), 7 * DAY),
        "bundle.zip": (_zip({"bundle/one.txt": "one\n", "bundle/two.txt": "two\n"}), 7 * DAY),
        "file.gz": (gzip.compress(TEXT.encode(), mtime=0), 7 * DAY),
        "secret.txt": ("password=hunter2\n", 5 * DAY, 0o600),
        "public.txt": ("anyone may write\n", 5 * DAY, 0o777),
        "script.sh": (SCRIPT, 3 * DAY, 0o755),
        "run.sh": (SCRIPT, 3 * DAY),
        "src/build.sh": (SCRIPT, 3 * DAY, 0o755),
    }
    tmp = {
        "cache.tmp": ("cache\n", 10 * DAY),
        "session_1": ("s1\n", 1 * HOUR),
        "report.txt": ("temporary report\n", 2 * DAY),
        "nonempty/keep.txt": ("keep\n", 2 * DAY),
        "old.log": ("old\n", 20 * DAY),
    }

    def encoded(files: dict) -> dict[str, tuple[bytes, float, int]]:
        return {
            name: (data.encode() if isinstance(data, str) else data, age, mode[0] if mode else 0o644)
            for name, (data, age, *mode) in files.items()
        }

    return encoded(home), encoded(tmp)


def build(home: Path, tmp: Path, now: float) -> None:
    """Writes the fixture into `home` (the sandbox's /home/user, its working folder) and `tmp` (its /tmp)."""
    files, tmp_files = contents()
    for root, table, folders in (
        (home, files, ("empty_dir", "projects/empty", "temp/empty")),
        (tmp, tmp_files, ("empty_a", "empty_b", "nested/empty_c")),
    ):
        root.mkdir(parents=True)
        for name, (data, age, mode) in table.items():
            _write(root / name, data, age, now, mode)
        for folder in folders:
            (root / folder).mkdir(parents=True)
    (home / "link_to_file.txt").symlink_to("file.txt")
    (home / "docs_link").symlink_to("docs")
