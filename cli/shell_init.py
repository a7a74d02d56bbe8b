"""`cfusion shell-init`: prints the key binding that turns the request typed on a shell's command line into a command,
for the shell to load. The binding only edits the line; it never runs it."""

from __future__ import annotations

import typer

from cfusion.shell import DEFAULT_KEY, DEFAULT_RESTORE_KEY, snippet

KEY_FORMS = "alt-m, ctrl-x,ctrl-t (also C-x C-t, M-m) or the shell's own notation (\\C-x\\C-t, ^X^T, \\cx\\ct)"


def shell_init(
    shell: str = typer.Argument(..., help="bash, zsh or fish.", metavar="SHELL"),
    key: str | None = typer.Option(
        None, "--key", envvar="CFUSION_KEY", help=f"The key that asks cfusion (default: {DEFAULT_KEY}): {KEY_FORMS}."
    ),
    restore_key: str | None = typer.Option(
        None,
        "--restore-key",
        envvar="CFUSION_RESTORE_KEY",
        help=f"The key that puts the request back (default: {DEFAULT_RESTORE_KEY}, i.e. Alt-Shift-m).",
    ),
):
    """Print a key binding for bash, zsh or fish that turns the request typed on the command line into a command.

    Type what the command should do and press Alt-m: the line becomes cfusion's best candidate, cursor at the end.
    Alt-m again: the next candidate. Alt-M (Alt-Shift-m) or the shell's undo: your request back.
    Nothing is run: Enter stays yours. A destructive candidate ends in a comment that says so.
    With no confident answer the line stays as typed, and cfusion's message is shown.
    The first request starts cfusion's server in the background (a few seconds); later ones are quick.
    No default binding of bash, zsh or fish uses Alt-m or Alt-M. Where the terminal does not send Alt as Meta
    (macOS Terminal: "Use Option as Meta key"), choose another key with --key.
    At each press the binding reads CFUSION_BIN (the cfusion to run) and CFUSION_GEN_OPTS (e.g. "-k 3").

    Examples: eval "$(cfusion shell-init bash)"    (in ~/.bashrc)
    eval "$(cfusion shell-init zsh --key ctrl-x,ctrl-t)"    (in ~/.zshrc)
    cfusion shell-init fish | source    (in ~/.config/fish/config.fish)
    """
    print(snippet(shell, key, restore_key), end="")
