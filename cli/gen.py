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
    shell: bool = typer.Option(
        False,
        "--shell",
        help="For a shell key binding: candidates only, a destructive one marked by a trailing '# cfusion: ...' "
        "comment; exit 4 and no candidate when no answer is confident; starts a server when none runs.",
    ),
    no_server: bool = typer.Option(False, "--no-server", help="Answer in this process even when a server runs."),
    trace: bool = typer.Option(
        False,
        "--trace",
        help="Also show what the decoder reads at each denoising step of each sample: a table on stderr, "
        '"trace" with --json.',
    ),
    sheet: Path | None = typer.Option(
        None,
        "--sheet",
        help="CF only: a CSV file (header row first); show which cells of one column the top rule highlights, as a "
        'table on stderr, "sheet" with --json.',
    ),
    column: str | None = typer.Option(
        None,
        "--column",
        help="The --sheet column: its header or its letter (A, B, ...); default: the first one the rule highlights in.",
    ),
):
    """Generate code for a request. The code is printed, never executed.

    Example: cfusion gen "delete empty directories under /tmp" --lang bash -k 3

    Example: cfusion gen "list txt files" -k 3 --trace  (how each sample forms, step by step, on stderr)

    Example: cfusion gen --lang cf "highlight cells above 100" --sheet data.csv --column B

    A running `cfusion serve` answers in a fraction of the time; without one, gen loads the model itself.
    """
    if request == "-":
        request = sys.stdin.read()
    request = request.strip()
    if not request:
        raise UsageError("the request is empty", hint='say what the code should do, e.g. cfusion gen "list txt files"')
    check_lang(lang)
    on_sheet = sheet_column(sheet, column, lang, shell)  # before the model loads: a bad sheet fails at once
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
    reads = [] if trace else None
    cands = g.generate(
        [request], lang, k=k, steps=steps, seed=seed, clamp=clamp, recall=recall, literals=literals, trace=reads
    )[0]
    t2 = time.perf_counter()
    from cfusion.pipeline.rank import confident

    sure = confident(cands, k, g.weights)
    if shell:
        if not cands or not sure:
            print(NO_ANSWER, file=sys.stderr)
            raise typer.Exit(NO_CONFIDENT_ANSWER)
        for c in cands:
            print(c.code + marks(c))
        return
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
                    "confident": sure,
                    "candidates": [c.to_json() for c in cands],
                    **({"trace": [r.to_json() for r in reads[0]]} if trace else {}),
                    **({"sheet": sheet_json(*on_sheet, cands[0].code if cands else None)} if on_sheet else {}),
                }
            )
        )
    else:
        if trace:
            err.print(trace_table(reads[0], cands, err.width), soft_wrap=False)  # the caption wraps to the table
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
        if cands and not sure:
            err.print(NO_ANSWER, style="bold yellow", markup=False, highlight=False)
        if top is not None and top.similarity is not None:
            line = f'first answer known for: "{top.known}" (similarity {top.similarity:.2f})'
            line += f"; adapted from: {top.adapted_from}" if top.adapted_from else ""
            err.print(line, style="dim", markup=False, highlight=False)
        if on_sheet and top is not None:
            show_sheet(err, *on_sheet, top.code)
    if not cands:
        raise CfusionError("the model produced no candidate", hint="try more steps or a larger -k")


def sheet_column(sheet: Path | None, column: str | None, lang: str, shell: bool):
    """The sheet that --sheet names and the --column, both read and checked (the column is placed once the top rule
    is known: cf.sheet.pick_column); None without --sheet."""
    if sheet is None:
        if column is not None:
            raise UsageError("--column needs --sheet", hint="cfusion gen --lang cf REQUEST --sheet data.csv --column B")
        return None
    from cfusion.langs.cf import sheet as cf_sheet  # here: only --sheet needs it

    cf_sheet.check_lang(lang)
    if shell:
        raise UsageError("--sheet and --shell cannot be used together")
    data = cf_sheet.read_sheet(sheet)
    cf_sheet.pick_column(data, column)
    return data, column


def sheet_json(data, column: str | None, rule: str | None) -> dict:
    """The "sheet" field of gen --json: the rows of the sheet's column that the top rule highlights."""
    from cfusion.langs.cf.sheet import pick_column, to_json

    return to_json(rule, data, pick_column(data, column, rule))


def show_sheet(err, data, column: str | None, rule: str) -> None:
    """The top rule and the cells of the sheet's column it highlights, on stderr (stdout keeps one rule a line)."""
    from cfusion.langs.cf.interpret import CFError
    from cfusion.langs.cf.sheet import pick_column, preview
    from cfusion.langs.cf.sheet import table as sheet_table

    k = pick_column(data, column, rule)
    err.print(f"top rule on {data.path}, column {data.name(k)}: {rule}", markup=False, highlight=False)
    try:
        err.print(sheet_table(preview(rule, data, k)), soft_wrap=False)
    except CFError as e:
        err.print(f"cannot preview the top rule: {e}", style="yellow", markup=False, highlight=False)


NO_CONFIDENT_ANSWER = 4  # gen --shell's exit code when no answer is confident: the key binding leaves the line
NO_ANSWER = (
    "cfusion: no confident answer: nothing known is like this request and the model's samples disagree; "
    "try saying what the command should do"
)


def marks(c) -> str:
    """The trailing comment that marks a destructive candidate in a shell's line (gen --shell); empty otherwise."""
    labels: dict[str, bool] = {}  # label -> asked for
    for f in c.findings:
        if f.get("destructive"):
            labels[f["label"]] = labels.get(f["label"], True) and f["asked"]
    text = "; ".join(label + ("" if asked else ", not asked for") for label, asked in labels.items())
    return f"  # cfusion: {text}" if text else ""


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


def trace_table(reads, cands, width: int = 120):
    """The trace of `gen --trace` (sample.reads) as a table `width` columns wide at most: a row per denoising
    estimate, a column per sample, each cell the code the decoder reads from it with the tokens that changed since
    the row above in bold, cut with an ellipsis past about three lines; the last row is the final read. A sample
    whose final code is shown among the candidates is marked with its rank."""
    from rich import box
    from rich.table import Table

    rank = {}
    for i, c in enumerate(cands, 1):
        rank.setdefault(c.code, i)
    table = Table(
        box=box.MINIMAL,
        caption="Each row: the code the decoder reads from that step's denoising estimate, per sample; bold: tokens "
        "changed since the row above. Under the line: the final read, the sample itself; '= #i': it is candidate i.",
        caption_justify="left",
    )
    table.add_column("step", justify="right", no_wrap=True)
    table.add_column("t", justify="right", no_wrap=True)
    for j, code in enumerate(reads[-1].texts, 1):
        table.add_column(f"sample {j}" + (f" = #{rank[code]}" if code in rank else ""), overflow="fold", ratio=1)
    k = len(reads[-1].texts)
    limit = 3 * max(8, (width - 16 - 3 * k) // k)  # the step and t columns take 16, each sample's borders 3
    for i, r in enumerate(reads):
        cells = (_trace_cell(code, tokens, limit) for code, tokens in zip(r.texts, r.tokens))
        table.add_row(str(r.step), str(r.t), *cells, end_section=i == len(reads) - 2)
    return table


def _trace_cell(code: str, tokens: list[tuple[str, bool]], limit: int):
    from rich.text import Text

    if not code:
        return Text("(empty)", style="dim italic")
    cell = Text()
    for piece, changed in tokens:
        cell.append(piece, style="bold" if changed else "dim")
    cell = cell[len(cell.plain) - len(cell.plain.lstrip()) :]  # the code is stripped; its tokens are not
    cell.rstrip()
    if cell.plain != code:  # a character split over two byte-level tokens decodes only as a whole: unstyled
        cell = Text(code)
    cell.truncate(limit, overflow="ellipsis")
    return cell
