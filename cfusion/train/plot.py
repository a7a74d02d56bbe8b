"""Pictures of training: one figure of a run's logged loss terms and learning rate against the step, read from its
metrics.jsonl, for one run or several compared. matplotlib is an optional extra (`pip install 'cfusion[plot]'`)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cfusion.errors import CfusionError, DataError, UsageError

METRICS = "metrics.jsonl"
LOSS_PLOT = "loss.png"  # what `cfusion train` writes beside metrics.jsonl, and `cfusion plot RUN` redraws
RUNS_PLOT = "runs.png"  # where `cfusion plot` compares several runs unless told otherwise (the working folder)
# The EMA weight per point of a curve of SMOOTH_POINTS points (TensorBoard's default weight): steady enough to read a
# trend through batch noise at --log-every 10 over 1000 steps. A curve of n points gets SMOOTH ** (SMOOTH_POINTS / n),
# which averages over the same share of its steps (about 2%) however often it was logged: a short run is not dragged
# behind its own points, a long one is not left jagged. 0 draws the raw values alone.
SMOOTH = 0.6
SMOOTH_POINTS = 100
# Logged per step but not a measure of learning: speed, memory, clocks and batch shape.
BOOKKEEPING = frozenset({"step", "world", "local_batch", "steps_per_s", "time", "peak_mem_gb"})
FORMATS = ("png", "svg", "pdf")


def read_metrics(path: Path) -> list[dict]:
    """The rows of a run's metrics.jsonl (or of the run folder holding it), each with a numeric `step`."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS
        if not path.is_file():
            raise DataError(f"no {METRICS} in {path.parent}", hint="pass a run folder written by `cfusion train --out`")
    elif not path.exists():
        raise DataError(f"{path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{n}: not JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
        if not _number(row.get("step")):
            raise DataError(f"{path}:{n}: no numeric 'step'")
        rows.append(row)
    if not rows:
        raise DataError(f"{path} is empty: no step has been logged yet")
    return rows


def series(rows: list[dict]) -> dict[str, tuple[list[float], list[float]]]:
    """Every logged quantity but the bookkeeping, as (steps, values) sorted by step, in the order first logged.
    Rows that lack a key (an evaluation row among training rows, say) simply leave a gap in that key's curve."""
    out: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        for key, value in row.items():
            if key not in BOOKKEEPING and _number(value):
                out.setdefault(key, []).append((float(row["step"]), float(value)))
    return {k: ([s for s, _ in sorted(v)], [y for _, y in sorted(v)]) for k, v in out.items()}


def ema(values: list[float], smooth: float) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing, so the first points are not dragged toward zero."""
    out, acc = [], 0.0
    for i, v in enumerate(values, 1):
        acc = smooth * acc + (1 - smooth) * v
        out.append(acc / (1 - smooth**i) if smooth else v)
    return out


def default_out(runs: list[Path]) -> Path:
    """RUN/loss.png for one run (a metrics file: beside it), ./runs.png for several."""
    if len(runs) == 1:
        run = Path(runs[0])
        return (run if run.is_dir() or not run.suffix else run.parent) / LOSS_PLOT
    return Path(RUNS_PLOT)


def plot_runs(runs: list[Path], out: Path | None = None, smooth: float = SMOOTH) -> Path:
    """Draws the runs' metrics into one image at `out` (default: default_out) and returns its path.

    One panel per logged quantity (loss terms, accuracy, gradient norm), then the learning rate; x is the step. A panel
    is log-scaled where all its values are positive, except accuracies and the learning rate, which read better on a
    linear axis. Several runs share the panels, one colour each, named by run folder. With `smooth` > 0 each curve
    is drawn faint as logged and solid as an EMA (see `ema` and SMOOTH); the learning rate is never smoothed."""
    if not runs:
        raise UsageError("no run to plot")
    if not 0.0 <= smooth < 1.0:
        raise UsageError(f"--smooth must be in [0, 1), got {smooth}")
    out = Path(out) if out is not None else default_out(runs)
    if out.is_dir():
        out = out / (LOSS_PLOT if len(runs) == 1 else RUNS_PLOT)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"--out must end in {', '.join('.' + f for f in FORMATS)}, got {out.name!r}")
    data = [series(read_metrics(r)) for r in runs]  # every file checked before matplotlib is loaded
    names = _labels([Path(r) for r in runs])
    new_figure, Line2D = _matplotlib()

    keys = [k for d in data for k in d if k != "lr"]
    keys = list(dict.fromkeys(keys)) + (["lr"] if any("lr" in d for d in data) else [])
    if not keys:
        raise DataError(f"nothing to plot: {', '.join(str(r) for r in runs)} log no loss or learning rate")
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig = new_figure(figsize=(4.2 * cols, 2.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for ax, key in zip(axes.flat, keys):
        linear = key == "lr" or "acc" in key
        positive = True
        for i, d in enumerate(data):
            if key not in d:
                continue
            steps, values = d[key]
            positive = positive and min(values) > 0
            colour = f"C{i % 10}"
            marker = "o" if len(steps) < 3 else None  # a lone point is invisible as a line
            if smooth and key != "lr" and len(values) > 1:
                ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
                ax.plot(steps, ema(values, smooth ** (SMOOTH_POINTS / len(values))), color=colour, linewidth=1.4)
            else:
                ax.plot(steps, values, color=colour, linewidth=1.4, marker=marker, markersize=3)
        if positive and not linear:
            ax.set_yscale("log")
        ax.set_title(key, fontsize=10)
        ax.grid(True, alpha=0.3, which="both")
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    for ax in axes.flat[len(keys) - cols : len(keys)]:  # the lowest panel of each column, above hidden ones too
        ax.set_xlabel("step", fontsize=9)
        ax.xaxis.set_tick_params(labelbottom=True)
    if len(runs) == 1:
        fig.suptitle(names[0], fontsize=11)
    else:
        handles = [Line2D([], [], color=f"C{i % 10}", linewidth=2) for i in range(len(names))]
        fig.legend(handles, names, loc="upper center", ncol=min(len(names), 4), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94 if len(runs) == 1 else 1 - 0.05 * math.ceil(len(names) / 4)))
    _save(fig, out, fmt)
    return out


def loss_plot_hook(note: Callable[[str], None]) -> Callable[[Path], None]:
    """For training: a callback that redraws RUN/loss.png. A failure (matplotlib missing, a full disk) goes to `note`
    once and never further: a picture is not worth a training run."""
    noted = False

    def redraw(run: Path) -> None:
        nonlocal noted
        try:
            plot_runs([run], Path(run) / LOSS_PLOT)
        except Exception as e:
            if not noted:
                hint = f" ({e.hint})" if isinstance(e, CfusionError) and e.hint else ""
                note(f"note: no {LOSS_PLOT}: {str(e).splitlines()[0] if str(e) else type(e).__name__}{hint}")
                noted = True

    return redraw


def _matplotlib():
    """Figure and Line2D on the Agg canvas. pyplot is never imported: it would pick (and, in a notebook, switch) the
    process-wide backend, and would keep every figure alive until closed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError:
        raise CfusionError(
            "plotting needs matplotlib, which is not installed", hint="pip install 'cfusion[plot]'"
        ) from None

    def agg_figure(**kw) -> Figure:
        fig = Figure(**kw)
        FigureCanvasAgg(fig)
        return fig

    return agg_figure, Line2D


def _save(fig, out: Path, fmt: str) -> None:
    """Writes beside the target and renames, so a reader (or a kill) never sees half an image."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt, dpi=110)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _labels(runs: list[Path]) -> list[str]:
    """Run folder names; where two share a name, enough parent folders to tell them apart."""
    folders = [(r if r.is_dir() or not r.suffix else r.parent).resolve() for r in runs]
    for depth in range(1, 1 + max(len(f.parts) for f in folders)):
        names = ["/".join(f.parts[-depth:]) for f in folders]
        if len(set(names)) == len(names) or depth == max(len(f.parts) for f in folders):
            return names
    return [str(f) for f in folders]


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
