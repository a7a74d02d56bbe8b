"""The `cfusion` entry point. `gen` and `explain` go to a running server first (cfusion.server.client, which
imports nothing heavy); everything else, and anything the server cannot answer, runs in-process (cli/app.py)."""

from __future__ import annotations

import os
import sys

ANSWERS = ("gen", "explain")  # commands that write nothing but their output


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] in ANSWERS:
        from cfusion.server.client import forward

        code = forward(argv)
        if code is not None:
            sys.exit(code)
    from cfusion.cli.app import run

    code = run(argv)
    if argv and argv[0] in ANSWERS:
        # Tearing the interpreter down after torch costs 0.2 to 0.3 s of a cold answer on a 2-core CPU; these commands
        # have nothing to close but their output, so it is flushed and the process ends here.
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # the reader went away (`| head`): nothing more can be said
            code = code or 1
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
