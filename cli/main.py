"""The `cfusion` entry point. `gen` and `explain` go to a running server first (cfusion.server.client, which
imports nothing heavy); everything else, and anything the server cannot answer, runs in-process (cli/app.py)."""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] in ("gen", "explain"):
        from cfusion.server.client import forward

        code = forward(argv)
        if code is not None:
            sys.exit(code)
    from cfusion.cli.app import run

    sys.exit(run(argv))


if __name__ == "__main__":
    main()
