"""`cfusion gen`: candidates for one request, best first, on stdout; timing, findings and provenance on stderr."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from cfusion.cli.common import DEFAULT_LANG, LANGS, LITERALS_HELP, RECALL_HELP, check_lang, generator, stderr
from cfusion.cli.common import device as device_name
from cfusion.errors import CfusionError, UsageError
from cfusion.pipeline import DEFAULT_RECALL


def gen(
    request: str = typer.Argument(..., help="What the code should do, in English; '-' reads it from stdin."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help=f"Target language: {', '.join(LANGS)}."),
    k: int = typer.Option(5, "-k", help="Samples drawn in one batch; candidates shown (best of samples and recalled)."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (1..1200; default: the model's)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the initial noise."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or training run folder."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    clamp: bool = typer.Option(True, "--clamp/--no-clamp", help="Snap each step's estimate to real tokens."),
    kernels: str = typer.Option("auto", "--kernels", help="auto (Triton on CUDA), triton or torch."),
    recall: int = typer.Option(DEFAULT_RECALL, "--recall", help=RECALL_HELP),
    literals: bool = typer.Option(True, "--literals/--no-literals", help=LITERALS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of one candidate per line."),
):
    """Generate code for a request. The code is printed, never executed.

    Example: cfusion gen "delete empty directories under /tmp" --lang bash -k 3
    """
    if request == "-":
        request = sys.stdin.read()
    request = request.strip()
    if not request:
        raise UsageError("the request is empty", hint='say what the code should do, e.g. cfusion gen "list txt files"')
    check_lang(lang)
    dev = device_name(device)
    err = stderr()
    t0 = time.perf_counter()
    g, folder, steps = generator(model, lang, dev, k, steps, kernels, recall)
    if g.feat.too_long(request):
        err.print(
            f"warning: the request is longer than the {g.cfg.max_request_len} tokens the encoder reads; "
            "the rest is ignored"
        )
    t1 = time.perf_counter()
    cands = g.generate([request], lang, k=k, steps=steps, seed=seed, clamp=clamp, recall=recall, literals=literals)[0]
    t2 = time.perf_counter()
    if as_json:
        print(
            json.dumps(
                {
                    "request": request,
                    "lang": lang,
                    "model": str(folder),
                    "k": k,
                    "steps": steps,
                    "seed": seed,
                    "clamp": clamp,
                    "device": dev,
                    "kernels": kernels,
                    "recall": recall if g.memory is not None else 0,
                    "literals": literals,
                    "ms": round(1000 * (t2 - t1), 1),
                    "candidates": [c.to_json() for c in cands],
                }
            )
        )
    else:
        for c in cands:
            print(c.code)
        recalled = sum(c.similarity is not None for c in cands)
        source = f"; {recalled} recalled from known requests" if recalled else ""
        err.print(
            f"[dim]{len(cands)} candidate(s) in {1000 * (t2 - t1):.0f} ms ({steps} steps on {dev}{source}; "
            f"model loaded in {1000 * (t1 - t0):.0f} ms). Review before running.[/dim]"
        )
        for line in findings_lines(cands):  # on stderr: stdout stays one command per line
            err.print(line, highlight=False)
        top = cands[0] if cands else None
        if top is not None and top.similarity is not None:
            line = f'first answer known for: "{top.known}" (similarity {top.similarity:.2f})'
            line += f"; adapted from: {top.adapted_from}" if top.adapted_from else ""
            err.print(line, style="dim", markup=False, highlight=False)
    if not cands:
        raise CfusionError("the model produced no candidate", hint="try more steps or a larger -k")


def findings_lines(cands) -> list:
    """For each shown candidate with findings (Rules.effects): the candidate with the part of it responsible for
    each finding highlighted, then one line per finding. Red: it does what cannot be undone and was not asked for;
    yellow: asked for, or only worth a second look (an unquoted glob)."""
    from rich.text import Text

    out = []
    for i, c in enumerate(cands, 1):
        if not c.findings:
            continue
        head = Text(f"{i}. ")
        code = Text(c.code)
        for f in c.findings:
            if 0 <= f["start"] < f["end"] <= len(c.code):
                code.stylize("bold red" if not f["asked"] else "bold yellow", f["start"], f["end"])
        out.append(head + code)
        for f in c.findings:
            where = f" on {f['host']}" if f.get("host") else ""
            line = f"   {f['label']} ({f['severity']}){where}: {f['reason']}"
            out.append(Text(line + ("" if f["asked"] else ", not asked for"), style="yellow" if f["asked"] else "red"))
    return out
