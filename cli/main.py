"""The `cfusion` command line: parse, call the library, print. Results on stdout; progress and errors on stderr."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import typer

from cfusion import LANGS
from cfusion.errors import CfusionError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline natural-language-to-code with a CodeFusion-style diffusion model.",
)


DEFAULT_RECALL = 30  # cfusion.generate.DEFAULT_RECALL, not imported so that --help stays fast
RECALL_HELP = "Known pairs recalled from the model's memory and ranked with the samples; 0: the model alone."
LITERALS_HELP = "Carry the request's file names, paths, numbers and quoted text into recalled Bash commands."


def _stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _installed_model(lang: str) -> Path:
    from cfusion.bundle import installed_model  # imports torch: not at the top, so that --help stays fast

    return installed_model(lang)


def _device(name: str) -> str:
    import torch

    if name not in ("auto", "cpu", "cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise CfusionError("--device cuda was asked for, but CUDA is not available", hint="use --device cpu")
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


def _generator(
    model: Path | None, lang: str, device: str, k: int, steps: int | None, kernels: str = "auto", recall: int = 0
):
    """The model at `model`, or the one installed for `lang`, with its memory when it has one, ready on `device` with
    gradients off; the step count (default: DEFAULT_STEPS) checked against it with k and recall. Returns (generator,
    model folder, steps)."""
    import torch

    from cfusion.bundle import load_model
    from cfusion.generate import DEFAULT_STEPS, Generator, load_recall
    from cfusion.kernels import MODES, check_mode

    if kernels not in MODES:
        raise UsageError(f"--kernels must be one of {', '.join(MODES)}, got {kernels!r}")
    check_mode(kernels)
    torch.set_grad_enabled(False)
    net, tok, folder = load_model(model if model is not None else _installed_model(lang), device)
    memory, reranker, sketch = load_recall(folder, net.minilm) if recall else (None, None, None)
    g = Generator(net, tok, kernels=kernels, memory=memory, reranker=reranker, sketch=sketch)
    steps = steps if steps is not None else DEFAULT_STEPS
    g.check(lang, k, steps, recall)
    return g, folder, steps


@app.command()
def gen(
    request: str = typer.Argument(..., help="What the code should do, in English; '-' reads it from stdin."),
    lang: str = typer.Option("bash", "--lang", "-l", help=f"Target language: {', '.join(LANGS)}."),
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
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    dev = _device(device)
    err = _stderr()
    t0 = time.perf_counter()
    g, folder, steps = _generator(model, lang, dev, k, steps, kernels, recall)
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
        for line, unasked in _effects_lines(cands):  # on stderr: stdout stays one command per line
            err.print(line, style="red" if unasked else "yellow", markup=False, highlight=False)
        top = cands[0] if cands else None
        if top is not None and top.similarity is not None:
            line = f'first answer known for: "{top.known}" (similarity {top.similarity:.2f})'
            line += f"; adapted from: {top.adapted_from}" if top.adapted_from else ""
            err.print(line, style="dim", markup=False, highlight=False)
    if not cands:
        raise CfusionError("the model produced no candidate", hint="try more steps or a larger -k")


def _effects_lines(cands) -> list[tuple[str, bool]]:
    """One line per effect that cannot be undone (cfusion.effects) and whether the request asked for it, naming the
    candidates that have it: `candidates 2, 3 cannot be undone: deletes files or data`."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for i, c in enumerate(cands, 1):
        for effect in c.effects:
            groups.setdefault((effect, effect in c.unasked), []).append(str(i))
    out = []
    for (effect, unasked), numbers in groups.items():
        which = f"candidate{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"
        out.append((f"{which} cannot be undone: {effect}{', not asked for' if unasked else ''}", unasked))
    return out


@app.command("eval")
def evaluate(
    data: Path = typer.Option(..., "--data", help="JSONL test pairs (refs: further correct answers)."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or training run folder."),
    lang: str | None = typer.Option(None, "--lang", "-l", help="Keep only pairs of this language (default: all)."),
    k: int = typer.Option(5, "-k", help="Candidates per request; metrics are reported at top-1, 3 and 5."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps (default: the model's)."),
    seed: int = typer.Option(0, "--seed"),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N pairs (quick runs)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Requests per generation batch."),
    out: Path | None = typer.Option(None, "--out", help="Folder for predictions.jsonl and metrics.json."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    clamp: bool = typer.Option(True, "--clamp/--no-clamp", help="Snap each step's estimate to real tokens."),
    kernels: str = typer.Option("auto", "--kernels", help="auto (Triton on CUDA), triton or torch."),
    recall: int = typer.Option(DEFAULT_RECALL, "--recall", help=RECALL_HELP),
    literals: bool = typer.Option(True, "--literals/--no-literals", help=LITERALS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json instead of a table."),
):
    """Score a model on a test set with the paper's metrics at top-1/3/5.

    Example: cfusion eval --model runs/bash --data data/bash_test.jsonl -k 5 --out runs/bash/eval
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from cfusion.data import read_pairs
    from cfusion.evaluate import evaluate as run_eval
    from cfusion.evaluate import write_results

    if lang is not None and lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    if limit is not None and limit <= 0:
        raise UsageError(f"--limit must be positive, got {limit}")
    pairs = read_pairs(data, lang=lang)[:limit]
    langs = sorted({p.lang for p in pairs})
    if len(langs) > 1:
        raise UsageError(f"{data} mixes languages ({', '.join(langs)})", hint="pass --lang to pick one")
    dev = _device(device)
    g, folder, steps = _generator(model, langs[0], dev, k, steps, kernels, recall)
    with Progress(
        TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=_stderr()
    ) as bar:
        task = bar.add_task("eval", total=len(pairs))
        predictions, metrics = run_eval(
            g, pairs, langs[0], k, steps, seed, batch_size, lambda n: bar.advance(task, n), clamp, recall, literals
        )
    metrics = {"model": str(folder), "data": str(data), "device": dev, "kernels": kernels, **metrics}
    out = out if out is not None else Path("eval") / f"{langs[0]}-{time.strftime('%Y%m%d-%H%M%S')}"
    write_results(out, predictions, metrics)
    if as_json:
        print(json.dumps(metrics))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{metrics['n']} {langs[0]} requests, k={k}, {steps} steps, {metrics['ms_per_request']} ms each"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics["metrics"].items():
        table.add_row(name, f"{value:.2f}")
    Console().print(table)
    _stderr().print(f"[dim]predictions and metrics in {out}[/dim]")


@app.command()
def train(
    stage: str = typer.Option(..., "--stage", help="pretrain (code snippets, one per line) or finetune (JSONL pairs)."),
    data: list[Path] = typer.Option(..., "--data", help="Training file(s); repeat for several."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints/, model/, metrics.jsonl."),
    lang: str = typer.Option("bash", "--lang", "-l", help=f"{', '.join(LANGS)}."),
    preset: str = typer.Option("small", "--preset", help="tiny, small or base."),
    config: Path | None = typer.Option(None, "--config", help="JSON file of model fields over the preset."),
    init: Path | None = typer.Option(None, "--init", help="Start from this model (e.g. a pre-training run)."),
    steps: int = typer.Option(1000, "--steps", help="Total optimizer steps."),
    batch_size: int = typer.Option(64, "--batch-size", help="Global batch size (split across GPUs)."),
    lr: float = typer.Option(5e-4, "--lr", help="Peak AdamW learning rate."),
    warmup: int = typer.Option(100, "--warmup", help="Warm-up steps."),
    ema_decay: float = typer.Option(0.999, "--ema-decay", help="EMA decay of the saved weights."),
    high_noise: float = typer.Option(
        0.0, "--high-noise", help="Share of each batch noised to the top eighth of the schedule (0 to 1)."
    ),
    ckpt_every: int = typer.Option(500, "--ckpt-every", help="Checkpoint every N steps."),
    log_every: int = typer.Option(10, "--log-every", help="Log to metrics.jsonl every N steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last checkpoint."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    workers: int = typer.Option(-1, "--workers", help="Batch-building processes; -1: 2 on CUDA, 0 on CPU."),
    seed: int = typer.Option(0, "--seed"),
    set_: list[str] = typer.Option([], "--set", help="Model field override, e.g. --set encoder_trainable=true."),
):
    """Train a model: pre-training on snippets, then fine-tuning on (request, code) pairs.

    Example: cfusion train --stage finetune --lang bash --data train.jsonl --out runs/bash --preset small
    Under torchrun the same command trains on every GPU (DistributedDataParallel).
    """
    from cfusion.checkpoint import read_latest
    from cfusion.train import TrainArgs
    from cfusion.train import train as run_training

    overrides = {}
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set takes key=value, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    if (out / "checkpoints").is_dir() and read_latest(out / "checkpoints") and not resume:
        raise UsageError(
            f"{out} already holds a training run", hint="pass --resume to continue it, or pick another --out"
        )
    args = TrainArgs(
        stage=stage,
        lang=lang,
        data=[str(p) for p in data],
        out=str(out),
        preset=preset,
        config=str(config) if config else None,
        init=str(init) if init else None,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        warmup=min(warmup, steps),
        ema_decay=ema_decay,
        high_noise=high_noise,
        ckpt_every=ckpt_every,
        log_every=log_every,
        seed=seed,
        device=device,
        workers=workers,
        overrides=overrides,
    )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = _stderr()
    main_rank = os.environ.get("RANK", "0") == "0"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  {task.fields[rate]} steps/s"),
        TimeRemainingColumn(),
        console=err,
        disable=not main_rank,
    ) as bar:
        task = bar.add_task(stage, total=steps, loss="-", rate="-")

        def progress(done: int, rec: dict):
            bar.update(task, completed=done, loss=f"{rec['loss']:.4f}", rate=f"{rec['steps_per_s']:.2f}")

        folder = run_training(args, progress=progress, log=lambda m: bar.console.print(m) if main_rank else None)
    if main_rank:
        print(folder)


@app.command()
def bench(
    model: Path | None = typer.Option(None, "--model", "-m", help="Model for end-to-end timing (default: installed)."),
    preset: str = typer.Option("small", "--preset", help="Shapes of the kernel benchmarks, and the random model."),
    what: str = typer.Option("all", "--what", help="kernels, e2e or all."),
    kernels: str = typer.Option("auto", "--kernels", help="auto (every path), triton or torch."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps per request (default: gen's)."),
    reps: int = typer.Option(30, "--reps", help="Timed repetitions per latency figure."),
    batch: int = typer.Option(256, "--batch", help="Requests per batch for the throughput figure."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
):
    """Time the fused kernels against torch, and generation end to end against eager torch and an autoregressive
    encoder-decoder. Medians; the baselines are timed in the same run.

    Example: cfusion bench --what e2e --steps 20 --reps 20
    """
    import torch

    from cfusion import bench as B
    from cfusion.config import PRESETS
    from cfusion.generate import DEFAULT_STEPS
    from cfusion.kernels import MODES, check_mode

    if what not in ("kernels", "e2e", "all"):
        raise UsageError(f"--what must be kernels, e2e or all, got {what!r}")
    if preset not in PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if kernels not in MODES:
        raise UsageError(f"--kernels must be one of {', '.join(MODES)}, got {kernels!r}")
    check_mode(kernels)
    if reps <= 0 or batch <= 0:
        raise UsageError("--reps and --batch must be positive")
    dev = _device(device)
    torch.set_grad_enabled(False)
    if model is None:
        try:
            model = _installed_model("bash")
        except CfusionError:
            model = None  # a random model of the preset: speed does not depend on the weights
    steps = steps or DEFAULT_STEPS
    card = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
    result = {"device": card, "torch": torch.__version__, "preset": preset, "model": str(model or "random")}
    err = _stderr()
    with err.status("benchmarking the kernels ...") if what != "e2e" else contextlib.nullcontext():
        if what != "e2e":
            result["kernels"] = B.bench_kernels([preset], dev)
    with err.status("benchmarking generation end to end ...") if what != "kernels" else contextlib.nullcontext():
        if what != "kernels":
            result["end_to_end"] = B.bench_end_to_end(model, preset, dev, steps, reps, batch, kernels)
    if as_json:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    con = Console()
    for key, title in (("kernels", "fused ops"), ("end_to_end", f"generation, {steps} steps")):
        rows = result.get(key)
        if not rows:
            continue
        cols = list(dict.fromkeys(c for r in rows for c in r))
        table = Table(title=f"{title} on {card}")
        for c in cols:
            table.add_column(c, justify="left" if c in ("op", "impl", "shape", "note", "preset") else "right")
        for r in rows:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
        con.print(table)


data_app = typer.Typer(no_args_is_help=True, help="Turn public data into cfusion's JSONL (one pair per line).")
app.add_typer(data_app, name="data")


def _wrote(pairs, out: Path, what: str) -> None:
    from cfusion.importers import write_jsonl

    write_jsonl(pairs, out)
    _stderr().print(f"{len(pairs)} {what} -> {out}")
    print(out)


@data_app.command("codefusion")
def data_codefusion(
    path: Path = typer.Argument(..., help="BashBenchmarks.json, PythonBenchmarks.json or CFRuleBenchmarks.json."),
    split: str = typer.Option(..., "--split", help="train or test."),
    out: Path = typer.Option(..., "--out"),
    conala: Path | None = typer.Option(None, "--conala", help="CoNaLa folder: fallback for null Python requests."),
):
    """The CodeFusion benchmarks. Example: cfusion data codefusion BashBenchmarks.json --split test --out t.jsonl"""
    from cfusion.importers import import_codefusion

    if split not in ("train", "test"):
        raise UsageError(f"--split must be train or test, got {split!r}")
    _wrote(import_codefusion(path, split, conala), out, f"{split} pairs")


@data_app.command("nl2bash")
def data_nl2bash(
    nl: Path = typer.Option(..., "--nl", help="all.nl"),
    cm: Path = typer.Option(..., "--cm", help="all.cm"),
    out: Path = typer.Option(..., "--out"),
):
    """NL2Bash, aligned by line. Example: cfusion data nl2bash --nl all.nl --cm all.cm --out nl2bash.jsonl"""
    from cfusion.importers import import_nl2bash

    _wrote(import_nl2bash(nl, cm), out, "pairs")


@data_app.command("tldr")
def data_tldr(
    pages: Path = typer.Argument(..., help="tldr's pages/ folder."),
    out: Path = typer.Option(..., "--out"),
    platform: list[str] = typer.Option(["common", "linux"], "--platform", help="Repeat for several."),
):
    """tldr-pages (CC BY 4.0), placeholders filled. Example: cfusion data tldr tldr/pages --out tldr.jsonl"""
    from cfusion.importers import import_tldr

    _wrote(import_tldr(pages, tuple(platform)), out, "pairs")


@data_app.command("cheatsheets")
def data_cheatsheets(folder: Path = typer.Argument(...), out: Path = typer.Option(..., "--out")):
    """cheat/cheatsheets (CC0). Example: cfusion data cheatsheets cheatsheets/ --out cheat.jsonl"""
    from cfusion.importers import import_cheatsheets

    _wrote(import_cheatsheets(folder), out, "pairs")


@data_app.command("snippets")
def data_snippets(
    root: Path = typer.Argument(..., help="A tree of .py files (e.g. Python's standard library)."),
    out: Path = typer.Option(..., "--out", help="Text file, one snippet per line."),
):
    """One-line Python statements for pre-training. Example: cfusion data snippets /usr/lib/python3.11 --out py.txt"""
    from cfusion.checkpoint import write_text_atomic
    from cfusion.importers import extract_python_snippets

    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    snippets = extract_python_snippets(root)
    write_text_atomic(out, "".join(s + "\n" for s in snippets))
    _stderr().print(f"{len(snippets)} snippets -> {out}")
    print(out)


@data_app.command("memory")
def data_memory(
    pairs: list[Path] = typer.Argument(..., help="JSONL pairs to remember; several files add up."),
    model: Path = typer.Option(..., "--model", "-m", help="Model folder; memory.* is written into it."),
    extra: list[Path] = typer.Option([], "--extra", help="JSONL pairs trusted less by the ranking; repeatable."),
):
    """Give a model a memory of known pairs, recalled by `gen` and `eval` beside the sampled candidates.

    Extra pairs are recalled too, but their reranker scores count less, so they answer where the main pairs do not.
    Example: cfusion data memory bash_train.jsonl --extra bash_extra_common.jsonl --model runs/bash/model
    """
    from cfusion.bundle import load_model, resolve
    from cfusion.data import read_pairs
    from cfusion.features import Featurizer
    from cfusion.memory import Memory

    folder = resolve(model)
    net, tok, folder = load_model(folder, "cpu")
    known = [p for path in pairs for p in read_pairs(path)]
    more = [p for path in extra for p in read_pairs(path)]
    other = sorted({p.lang for p in known + more} - set(net.cfg.max_code_len))
    if other:
        raise UsageError(f"the model does not generate {', '.join(other)}, but the pairs include it")
    mem = Memory.build(net, Featurizer(net.cfg, tok), known, more)
    mem.save(folder)
    _stderr().print(f"{len(mem)} known pairs ({sum(mem.extra)} extra) -> {folder}/memory.*")
    print(folder)


@data_app.command("quantize")
def data_quantize(model: Path = typer.Option(..., "--model", "-m", help="Model folder, rewritten in place.")):
    """Store a model's weight matrices in 8 bits (one scale per row): half the size of fp16. `gen`, `eval` and
    `bench` load either form. Example: cfusion data quantize --model runs/bash/model
    """
    import torch

    from cfusion.bundle import load_model, model_state, quantize_state
    from cfusion.checkpoint import load_tensors, save_tensors

    net, _, folder = load_model(model, "cpu")
    if any(folder.glob("train_state*")):  # training resumes from float weights
        raise UsageError(f"{folder} is a training checkpoint", hint="quantize the run's exported folder, RUN/model")
    if any(v.dtype == torch.int8 for v in load_tensors(folder, "model").values()):
        raise UsageError(f"{folder} is already quantised")
    before = sum(p.stat().st_size for p in folder.glob("model*.safetensors"))
    save_tensors(quantize_state(model_state(net)), folder, "model")
    after = sum(p.stat().st_size for p in folder.glob("model*.safetensors"))
    _stderr().print(f"weights {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB in {folder}")
    print(folder)


@data_app.command("rerank")
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

    from cfusion.bundle import load_model
    from cfusion.memory import Memory
    from cfusion.rerank import train_reranker

    if steps < 1:
        raise UsageError(f"--steps must be positive, got {steps}")
    net, _, folder = load_model(model, _device(device))
    memory = Memory.load(folder)
    if memory is None or net.minilm is None:
        raise UsageError(
            f"{folder} has no memory with MiniLM vectors", hint=f"run `cfusion data memory PAIRS --model {folder}`"
        )
    with Progress(console=_stderr(), transient=True) as bar:
        task = bar.add_task("training the reranker", total=steps)
        net, report = train_reranker(
            net.minilm, memory, steps=steps, seed=seed, log=lambda s, r: bar.update(task, completed=s)
        )
    net.save(folder)
    if "val_rerank@1" in report:
        _stderr().print(
            f"held-out template match @1: reranker {report['val_rerank@1']:.2f}, nearest {report['val_nearest@1']:.2f}"
        )
    _stderr().print(f"loss {report['first_loss']:.3f} -> {report['last_loss']:.3f}; reranker -> {folder}/rerank.*")
    print(folder)


@data_app.command("sketch")
def data_sketch(
    model: Path = typer.Option(..., "--model", "-m", help="Model folder with a memory; sketch.* is written into it."),
    epochs: int = typer.Option(8, "--epochs", help="Passes over the memory's Bash pairs."),
    seed: int = typer.Option(0, "--seed"),
):
    """Train the sketch that predicts, from a request's words, which template tokens its answer holds; a voter in the
    Bash consensus of `gen` and `eval`. Learns from the model's memory (requests, commands and stored vectors) on the
    CPU, in about 20 s for the shipped memory.
    Example: cfusion data sketch --model runs/bash/model
    """
    from rich.progress import Progress

    from cfusion.bundle import resolve
    from cfusion.memory import Memory
    from cfusion.sketch import SketchConfig, train_sketch

    if epochs < 1:
        raise UsageError(f"--epochs must be positive, got {epochs}")
    folder = resolve(model)
    memory = Memory.load(folder)
    if memory is None or "bash" not in memory.langs:
        raise UsageError(
            f"{folder} has no memory of Bash pairs", hint=f"run `cfusion data memory PAIRS --model {folder}`"
        )
    with Progress(console=_stderr(), transient=True) as bar:
        task = bar.add_task("training the sketch", total=epochs)
        try:
            net, report = train_sketch(
                memory,
                cfg=SketchConfig(epochs=epochs, width=memory.vectors.shape[1]),
                seed=seed,
                log=lambda e, r: bar.update(task, completed=e),
            )
        except ValueError as e:  # too few pairs for any word or token to recur
            raise UsageError(str(e), hint="a sketch needs a memory of many Bash pairs") from None
    net.save(folder)
    _stderr().print(
        f"{report['pairs']} pairs, {report['words']} words, {report['tokens']} tokens; loss {report['first_loss']:.3f}"
        f" -> {report['last_loss']:.3f} in {report['seconds']:.0f} s; sketch -> {folder}/sketch.*"
    )
    print(folder)


@data_app.command("decontaminate")
def data_decontaminate(
    train: Path = typer.Argument(..., help="JSONL training pairs."),
    test: list[Path] = typer.Option(..., "--test", help="JSONL test set(s) to protect; repeat for several."),
    out: Path = typer.Option(..., "--out"),
):
    """Drop training pairs whose command or request occurs in a test set, and say how many went."""
    from cfusion.data import read_pairs
    from cfusion.importers import decontaminate

    kept = read_pairs(train)
    held_out = [p for path in test for p in read_pairs(path)]
    kept, report = decontaminate(kept, held_out)
    _stderr().print(
        f"dropped {report['dropped']} of {report['dropped'] + report['kept']} pairs "
        f"({report['dropped_code']} by command, {report['dropped_nl']} by request)"
    )
    _wrote(kept, out, "pairs kept")


def main() -> None:
    """Entry point: turns every error into one line on stderr and an exit code (1 failure, 2 usage)."""
    try:
        app(standalone_mode=False)
    except CfusionError as e:
        _fail(str(e), e.hint, e.exit_code, e)
    except KeyboardInterrupt:
        _fail("interrupted", None, 130, None)
    except Exception as e:
        # Typer vendors its own copy of click, so its exceptions are recognised by shape, not by class.
        name = type(e).__name__
        if name == "Exit":
            sys.exit(e.exit_code)
        if name == "Abort":
            _fail("aborted", None, 130, None)
        if hasattr(e, "format_message"):
            _fail(e.format_message(), "see --help", getattr(e, "exit_code", 2), e)
        # Anything unforeseen still ends in one line; CFUSION_DEBUG=1 shows the traceback.
        _fail(f"unexpected {name}: {str(e).splitlines()[0] if str(e) else ''}", None, 1, e)


def _fail(message: str, hint: str | None, code: int, exc: BaseException | None) -> None:
    if os.environ.get("CFUSION_DEBUG") and exc is not None:
        import traceback

        traceback.print_exception(exc)
    line = f"Error: {message}" + (f" (hint: {hint})" if hint else "")
    print(line.replace("\n", " "), file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
