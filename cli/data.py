"""`cfusion data ...`: turn public corpora into cfusion's JSONL, and build a model's memory, reranker and sketch."""

from __future__ import annotations

from pathlib import Path

import typer

from cfusion.cli.common import DEFAULT_LANG, check_lang, stderr
from cfusion.cli.common import device as device_name
from cfusion.errors import UsageError

app = typer.Typer(no_args_is_help=True, help="Turn public data into cfusion's JSONL (one pair per line).")


def _exported(folder: Path) -> None:
    """Refuses a training checkpoint: commands that rewrite weights in place take a run's exported folder."""
    if any(folder.glob("train_state*")):
        raise UsageError(f"{folder} is a training checkpoint", hint="use the run's exported folder, RUN/model")


def _wrote(pairs, out: Path, what: str) -> None:
    from cfusion.data.pairs import write_jsonl

    write_jsonl(pairs, out)
    stderr().print(f"{len(pairs)} {what} -> {out}")
    print(out)


@app.command("codefusion")
def data_codefusion(
    path: Path = typer.Argument(..., help="BashBenchmarks.json, PythonBenchmarks.json or CFRuleBenchmarks.json."),
    split: str = typer.Option(..., "--split", help="train or test."),
    out: Path = typer.Option(..., "--out"),
    conala: Path | None = typer.Option(None, "--conala", help="CoNaLa folder: fallback for null Python requests."),
):
    """The CodeFusion benchmarks. Example: cfusion data codefusion BashBenchmarks.json --split test --out t.jsonl"""
    from cfusion.data.codefusion import import_codefusion

    if split not in ("train", "test"):
        raise UsageError(f"--split must be train or test, got {split!r}")
    _wrote(import_codefusion(path, split, conala), out, f"{split} pairs")


@app.command("nl2bash")
def data_nl2bash(
    nl: Path = typer.Option(..., "--nl", help="all.nl"),
    cm: Path = typer.Option(..., "--cm", help="all.cm"),
    out: Path = typer.Option(..., "--out"),
):
    """NL2Bash, aligned by line. Example: cfusion data nl2bash --nl all.nl --cm all.cm --out nl2bash.jsonl"""
    from cfusion.langs.bash.importers import import_nl2bash

    _wrote(import_nl2bash(nl, cm), out, "pairs")


@app.command("tldr")
def data_tldr(
    pages: Path = typer.Argument(..., help="tldr's pages/ folder."),
    out: Path = typer.Option(..., "--out"),
    platform: list[str] = typer.Option(["common", "linux"], "--platform", help="Repeat for several."),
):
    """tldr-pages (CC BY 4.0), placeholders filled. Example: cfusion data tldr tldr/pages --out tldr.jsonl"""
    from cfusion.langs.bash.importers import import_tldr

    _wrote(import_tldr(pages, tuple(platform)), out, "pairs")


@app.command("cheatsheets")
def data_cheatsheets(folder: Path = typer.Argument(...), out: Path = typer.Option(..., "--out")):
    """cheat/cheatsheets (CC0). Example: cfusion data cheatsheets cheatsheets/ --out cheat.jsonl"""
    from cfusion.langs.bash.importers import import_cheatsheets

    _wrote(import_cheatsheets(folder), out, "pairs")


@app.command("descriptions")
def data_descriptions(
    tldr: Path = typer.Argument(..., help="tldr's pages/ folder (common/, linux/, osx/ inside)."),
    cheatsheets: Path | None = typer.Option(None, "--cheatsheets", help="cheat/cheatsheets: flags tldr lacks."),
    out: Path = typer.Option(..., "--out", help="Gzipped JSON; cfusion ships cfusion/langs/bash/utilities.json.gz."),
):
    """What utilities and their flags do, for `explain` where the machine has no man page: tldr-pages (CC BY 4.0)
    and cheat/cheatsheets (CC0). Example: cfusion data descriptions tldr/pages --cheatsheets cheatsheets
    --out cfusion/langs/bash/utilities.json.gz
    """
    from cfusion.langs.bash.manual import build_table, write_table

    table = build_table(tldr, cheatsheets)
    size = write_table(table, out)
    pages = table["pages"].values()
    flags = sum(len(p["options"]) for p in pages)
    stderr().print(f"{len(pages)} utilities, {flags} flag spellings, {size / 1e3:.0f} kB -> {out}")
    print(out)


@app.command("snippets")
def data_snippets(
    root: Path = typer.Argument(..., help="A tree of .py files (e.g. Python's standard library)."),
    out: Path = typer.Option(..., "--out", help="Text file, one snippet per line."),
):
    """One-line Python statements for pre-training. Example: cfusion data snippets /usr/lib/python3.11 --out py.txt"""
    from cfusion.core.checkpoint import write_text_atomic
    from cfusion.langs.python.snippets import extract_python_snippets

    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    snippets = extract_python_snippets(root)
    write_text_atomic(out, "".join(s + "\n" for s in snippets))
    stderr().print(f"{len(snippets)} snippets -> {out}")
    print(out)


@app.command("memory")
def data_memory(
    pairs: list[Path] = typer.Argument(..., help="JSONL pairs to remember; several files add up."),
    model: Path = typer.Option(..., "--model", "-m", help="Model folder; memory.* is written into it."),
    extra: list[Path] = typer.Option([], "--extra", help="JSONL pairs trusted less by the ranking; repeatable."),
):
    """Give a model a memory of known pairs, recalled by `gen` and `eval` beside the sampled candidates.

    Extra pairs are recalled too, but their reranker scores count less, so they answer where the main pairs do not.
    Example: cfusion data memory bash_train.jsonl --extra bash_extra_common.jsonl --model runs/bash/model
    """
    from cfusion.core.bundle import load_model, resolve
    from cfusion.core.features import Featurizer
    from cfusion.data.pairs import read_pairs
    from cfusion.recall.memory import Memory

    folder = resolve(model)
    net, tok, folder = load_model(folder, "cpu")
    known = [p for path in pairs for p in read_pairs(path)]
    more = [p for path in extra for p in read_pairs(path)]
    other = sorted({p.lang for p in known + more} - set(net.cfg.max_code_len))
    if other:
        raise UsageError(f"the model does not generate {', '.join(other)}, but the pairs include it")
    mem = Memory.build(net, Featurizer(net.cfg, tok), known, more)
    mem.save(folder)
    stderr().print(f"{len(mem)} known pairs ({sum(mem.extra)} extra) -> {folder}/memory.*")
    print(folder)


@app.command("quantize")
def data_quantize(model: Path = typer.Option(..., "--model", "-m", help="Model folder, rewritten in place.")):
    """Store a model's weight matrices in 8 bits (one scale per row): half the size of fp16. `gen`, `eval` and
    `bench` load either form. Example: cfusion data quantize --model runs/bash/model
    """
    import torch

    from cfusion.core.bundle import load_model, model_state, quantize_state
    from cfusion.core.checkpoint import load_tensors, save_tensors

    net, _, folder = load_model(model, "cpu")
    _exported(folder)  # training resumes from float weights
    if any(v.dtype == torch.int8 for v in load_tensors(folder, "model").values()):
        raise UsageError(f"{folder} is already quantised")
    before = sum(p.stat().st_size for p in folder.glob("model*.safetensors"))
    save_tensors(quantize_state(model_state(net)), folder, "model")
    after = sum(p.stat().st_size for p in folder.glob("model*.safetensors"))
    stderr().print(f"weights {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB in {folder}")
    print(folder)


@app.command("rerank")
def data_rerank(
    model: Path = typer.Option(..., "--model", "-m", help="Model folder with a memory; rerank.* is written into it."),
    steps: int = typer.Option(3000, "--steps", help="Training steps (32 known requests each)."),
    device: str = typer.Option("auto", "--device", help="auto (cuda > mps > cpu), cuda, mps or cpu."),
    seed: int = typer.Option(0, "--seed"),
):
    """Train the reranker that weighs recalled commands for `gen` and `eval`, from the model's memory.

    Each known request learns to rank its nearest other known requests and their commands, read beside it by MiniLM
    with low-rank adapters, by the template match of their commands to its own (plus 1 for the same command,
    arguments included); 5% are held out and the report compares the reranker with similarity alone there. A GPU
    takes about 3 minutes; a CPU, hours.
    Example: cfusion data rerank --model runs/bash/model --device cuda
    """
    from rich.progress import Progress

    from cfusion.core.bundle import load_model
    from cfusion.recall.memory import Memory
    from cfusion.train.reranker import train_reranker

    if steps < 1:
        raise UsageError(f"--steps must be positive, got {steps}")
    net, _, folder = load_model(model, device_name(device))
    memory = Memory.load(folder)
    if memory is None or net.minilm is None:
        raise UsageError(
            f"{folder} has no memory with MiniLM vectors", hint=f"run `cfusion data memory PAIRS --model {folder}`"
        )
    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task("training the reranker", total=steps)
        net, report = train_reranker(
            net.minilm, memory, steps=steps, seed=seed, log=lambda s, r: bar.update(task, completed=s)
        )
    net.save(folder)
    if "val_rerank@1" in report:
        stderr().print(
            f"held-out template match @1: reranker {report['val_rerank@1']:.2f}, nearest {report['val_nearest@1']:.2f}"
        )
    stderr().print(f"loss {report['first_loss']:.3f} -> {report['last_loss']:.3f}; reranker -> {folder}/rerank.*")
    print(folder)


@app.command("sketch")
def data_sketch(
    model: Path = typer.Option(..., "--model", "-m", help="Model folder with a memory; sketch.* is written into it."),
    epochs: int = typer.Option(8, "--epochs", help="Passes over the memory's pairs of that language."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help="The language whose pairs it learns from."),
    seed: int = typer.Option(0, "--seed"),
):
    """Train the sketch that predicts, from a request's words, which template tokens its answer holds; a voter in the
    template consensus of `gen` and `eval`. Learns from the model's memory (requests, commands and stored vectors)
    on the CPU, in about 20 s for the shipped memory.
    Example: cfusion data sketch --model runs/bash/model
    """
    from rich.progress import Progress

    from cfusion.core.bundle import resolve
    from cfusion.recall.memory import Memory
    from cfusion.recall.sketch import SketchConfig
    from cfusion.train.sketch import train_sketch

    if epochs < 1:
        raise UsageError(f"--epochs must be positive, got {epochs}")
    folder = resolve(model)
    memory = Memory.load(folder)
    if memory is None or check_lang(lang) not in memory.langs:
        raise UsageError(
            f"{folder} has no memory of {lang} pairs", hint=f"run `cfusion data memory PAIRS --model {folder}`"
        )
    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task("training the sketch", total=epochs)
        try:
            net, report = train_sketch(
                memory,
                lang,
                cfg=SketchConfig(epochs=epochs, width=memory.vectors.shape[1]),
                seed=seed,
                log=lambda e, r: bar.update(task, completed=e),
            )
        except ValueError as e:  # too few pairs for any word or token to recur
            raise UsageError(str(e), hint="a sketch needs a memory of many pairs") from None
    net.save(folder)
    stderr().print(
        f"{report['pairs']} pairs, {report['words']} words, {report['tokens']} tokens; loss {report['first_loss']:.3f}"
        f" -> {report['last_loss']:.3f} in {report['seconds']:.0f} s; sketch -> {folder}/sketch.*"
    )
    print(folder)


@app.command("tagger")
def data_tagger(
    model: Path = typer.Option(..., "--model", "-m", help="Model folder with tagged_slots; rewritten in place."),
    data: list[Path] = typer.Option(..., "--data", help="JSONL pairs to learn from (repeatable): its fine-tuning's."),
    dev: Path | None = typer.Option(None, "--dev", help="JSONL pairs to score the tagger on after training."),
    epochs: int = typer.Option(10, "--epochs", help="Passes over the pairs."),
    lang: str = typer.Option(DEFAULT_LANG, "--lang", "-l", help="The pairs' language."),
    seed: int = typer.Option(0, "--seed"),
):
    """Train the value tagger of a model with tagged slots: which request words are values that the code copies
    (`cells containing FB`). Learns on the CPU from the pairs' requests and the words their code copies, in under a
    minute; the model's other weights are kept as stored.
    Example: cfusion data tagger --model runs/cf/model --data cf_train.jsonl --lang cf
    """
    import torch
    from rich.progress import Progress

    from cfusion.core.bundle import load_model, model_state, quantize_state
    from cfusion.core.checkpoint import load_tensors, save_tensors
    from cfusion.data.pairs import read_pairs
    from cfusion.train.tagger import tag_scores, train_tagger

    if epochs < 1:
        raise UsageError(f"--epochs must be positive, got {epochs}")
    lang = check_lang(lang)
    pairs = [(p.nl, p.code) for path in data for p in read_pairs(path, lang=lang)]
    dev_pairs = [(p.nl, p.code) for p in read_pairs(dev, lang=lang)] if dev else None
    net, _, folder = load_model(model, "cpu")
    if net.tagger is None:
        raise UsageError(f"{folder} reads no tagged slots", hint="fine-tune it with --set tagged_slots=true first")
    _exported(folder)
    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task("training the value tagger", total=epochs)
        report = train_tagger(net, pairs, lang, epochs=epochs, seed=seed, progress=lambda n: bar.advance(task, n))
    stored = load_tensors(folder, "model")
    tagger = {k: v for k, v in model_state(net).items() if k.startswith("tagger.")}
    stored.update(quantize_state(tagger) if any(v.dtype == torch.int8 for v in stored.values()) else tagger)
    save_tensors(stored, folder, "model")
    stderr().print(
        f"{report['pairs']} pairs, {report['copied']} copied values; loss {report['last_loss']:.4f} in "
        f"{report['seconds']:.0f} s; value tagger -> {folder}"
    )
    if dev_pairs:
        s = tag_scores(net, dev_pairs, lang)
        stderr().print(
            f"on {dev}: precision {s['precision']:.3f}, recall {s['recall']:.3f}, F1 {s['f1']:.3f} "
            f"({s['gold']} values copied without quotes or digits)"
        )
    print(folder)


@app.command("runnable")
def data_runnable(
    data: Path = typer.Argument(..., help="JSONL pairs of shell commands."),
    out: Path = typer.Option(..., "--out", help="JSONL: the pairs whose command runs in the sandbox."),
):
    """Keep the pairs whose command runs meaningfully in `eval --exec`'s sandbox: it succeeds without complaint,
    prints or changes something, and does the same twice. Example: cfusion data runnable dev.jsonl --out run.jsonl"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from cfusion import langs
    from cfusion.data.pairs import read_pairs
    from cfusion.eval.execution import Runner

    pairs = read_pairs(data)
    interpreters = {langs.get(p.lang).interpreter for p in pairs}
    if len(interpreters) != 1 or not next(iter(interpreters)):
        raise UsageError(f"{data}: only shell commands, of one language, can run in the sandbox")
    runner = Runner(next(iter(interpreters)))
    with Progress(TextColumn("run"), BarColumn(), MofNCompleteColumn(), console=stderr()) as bar:
        task = bar.add_task("run", total=len({p.code for p in pairs}))
        runner.run([p.code for p in pairs], lambda n: bar.advance(task, n))
    ok = runner.runnable(p.code for p in pairs)
    _wrote([p for p in pairs if ok[p.code]], out, f"of {len(pairs)} pairs run in the sandbox")


@app.command("decontaminate")
def data_decontaminate(
    train: Path = typer.Argument(..., help="JSONL training pairs."),
    test: list[Path] = typer.Option(..., "--test", help="JSONL test set(s) to protect; repeat for several."),
    out: Path = typer.Option(..., "--out"),
):
    """Drop training pairs whose command or request occurs in a test set, and say how many went."""
    from cfusion.data.decontaminate import decontaminate
    from cfusion.data.pairs import read_pairs

    kept = read_pairs(train)
    held_out = [p for path in test for p in read_pairs(path)]
    kept, report = decontaminate(kept, held_out)
    stderr().print(
        f"dropped {report['dropped']} of {report['dropped'] + report['kept']} pairs "
        f"({report['dropped_code']} by command, {report['dropped_nl']} by request)"
    )
    _wrote(kept, out, "pairs kept")
