"""`cfusion explain`: what a command does, part by part, and what it destroys. Nothing is run."""

from __future__ import annotations

import json
import sys

import typer

from cfusion.cli.common import DEFAULT_LANG, LANGS, check_lang
from cfusion.errors import UsageError

MAX_CHARS = 65536
EXIT_DESTRUCTIVE = 3


def explain(
    command: str = typer.Argument(..., help="The command to explain; '-' reads it from stdin."),
    check: bool = typer.Option(
        False, "--check", help=f"Print only the findings; exit {EXIT_DESTRUCTIVE} if something is destructive, else 0."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a tree."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help=f"Language of the command: {', '.join(LANGS)}."),
):
    """Explain a command: its structure as a tree, each utility and flag described (the machine's man pages, else
    descriptions shipped from tldr-pages), and what it deletes, stops or weakens in red.

    Examples: cfusion explain "find . -name '*.log' -mtime +7 -delete"
              cfusion explain --check "$cmd" || echo "careful"      (exit 3: destructive; 2: does not parse)
    """
    from cfusion import langs

    if command == "-":
        command = sys.stdin.read()
    command = command.strip()
    if not command:
        raise UsageError("the command is empty", hint='give one, e.g. cfusion explain "rm -rf build"')
    if len(command) > MAX_CHARS:
        raise UsageError(f"the command is {len(command)} characters long; at most {MAX_CHARS} are explained")
    pack = langs.get(check_lang(lang))
    error = pack.parse_error(command)
    if error is not None:
        raise UsageError(f"the command does not parse: {error}")
    tree = pack.explain(command)
    if tree is None:
        raise UsageError(f"explain knows no {lang} yet", hint="explain Bash commands with --lang bash")
    found = _findings(tree)
    destructive = [f for f in found if f.destructive]
    if as_json:
        out = {"command": command, "destructive": bool(destructive)}
        out["findings"] = [f.to_json() for f in found]
        if not check:
            out["tree"] = tree.to_json()
        print(json.dumps(out, ensure_ascii=False))
    elif check:
        for f in found:
            print(str(f), file=sys.stderr)
    else:
        _print(command, tree, found)
    if check and destructive:
        raise typer.Exit(EXIT_DESTRUCTIVE)


def _findings(part) -> list:
    out = list(part.findings)
    for child in part.children:
        out.extend(_findings(child))
    return sorted(out, key=lambda f: (f.start, f.end))


def _print(command: str, tree, found: list) -> None:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    head = Text(command)
    for f in found:
        head.stylize("bold red" if f.destructive else "bold yellow", f.start, f.end)
    root = Tree(head)

    def add(branch, part) -> None:
        label = Text(part.title, style="bold" if part.kind == "command" else "cyan" if part.kind == "flag" else "")
        if part.help:
            label.append(f"  {part.help}", style="default" if part.kind == "command" else "dim")
        if part.source and part.kind == "command":
            label.append(f"  [{part.source.split('/')[-1] if part.source.startswith('man:') else part.source}]", "dim")
        node = branch.add(label)
        for f in part.findings:
            where = f" on {f.host}" if f.host else ""
            node.add(Text(f"{f.label} ({f.severity}){where}: {f.reason}", style="red" if f.destructive else "yellow"))
        for child in part.children:
            add(node, child)

    for f in tree.findings:
        root.add(Text(f"{f.label} ({f.severity}): {f.reason}", style="red" if f.destructive else "yellow"))
    for child in tree.children:
        add(root, child)
    console = Console(highlight=False)
    console.print(root)
    destructive = sum(f.destructive for f in found)
    if destructive:
        console.print(Text(f"{destructive} destructive finding(s): review before running.", style="bold red"))
    else:
        console.print(Text("Nothing destructive found.", style="green"))
