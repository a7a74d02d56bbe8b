"""Pictures of training: metrics.jsonl drawn into a PNG, one run or several, with errors that name the file and line."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from conftest import tiny_args, write_jsonl

from cfusion.core.checkpoint import read_latest
from cfusion.errors import CfusionError, DataError, UsageError
from cfusion.train.diffusion import train
from cfusion.train.plot import default_out, ema, loss_plot_hook, plot_runs, read_metrics, series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BLOCK_MATPLOTLIB = ("matplotlib", "matplotlib.figure", "matplotlib.lines", "matplotlib.backends.backend_agg")


def metrics_rows(steps: int = 40, every: int = 5, scale: float = 1.0) -> list[dict]:
    """Rows shaped like the ones `train` logs: loss terms that fall, an accuracy that rises, lr and bookkeeping."""
    rows = []
    for s in range(every, steps + 1, every):
        ce = scale * 5.0 / s
        rows.append(
            {
                "loss": ce + 0.3 + 0.2,
                "diff": 0.3,
                "dec": 0.2,
                "ce": ce,
                "tok_acc": min(1.0, s / steps),
                "step": s,
                "world": 1,
                "local_batch": 8,
                "lr": 1e-3 * (1 - s / (2 * steps)),
                "grad_norm": 1.0 / s,
                "steps_per_s": 10.0,
                "time": 1.7e9 + s,
            }
        )
    return rows


def run_folder(root: Path, name: str, rows: list[dict]) -> Path:
    (root / name).mkdir(parents=True)
    write_jsonl(root / name / "metrics.jsonl", rows)
    return root / name


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


def pixels(path: Path):
    from matplotlib.image import imread

    return imread(path)


def test_one_run_draws_a_png_beside_its_metrics(tmp_path):
    run = run_folder(tmp_path, "bash", metrics_rows())
    out = plot_runs([run])
    assert out == run / "loss.png" == default_out([run])
    width, height = png_size(out)
    img = pixels(out)
    assert img.shape[:2] == (height, width) and width > 600 and height > 300
    assert img.std() > 0.01  # not a blank canvas
    assert sorted(p.name for p in run.iterdir()) == ["loss.png", "metrics.jsonl"]  # no temporary file left behind


def test_the_image_follows_the_data_and_nothing_else(tmp_path):
    a = plot_runs([run_folder(tmp_path, "a", metrics_rows())], tmp_path / "a.png")
    again = plot_runs([run_folder(tmp_path, "again", metrics_rows())], tmp_path / "again.png", smooth=0.6)
    b = plot_runs([run_folder(tmp_path, "b", metrics_rows(scale=3.0))], tmp_path / "b.png")
    # Same rows, same picture, bar the title (the run's name): rendering is deterministic, so a difference is the data.
    pa, pagain, pb = pixels(a), pixels(again), pixels(b)
    top = pa.shape[0] // 12  # the title band
    assert (pa[top:] == pagain[top:]).all()
    assert (pa[top:] != pb[top:]).any(axis=-1).sum() > 500  # the ce and loss curves moved
    raw = plot_runs([tmp_path / "a"], tmp_path / "raw.png", smooth=0.0)
    assert (pixels(raw)[top:] != pa[top:]).any()  # smoothing draws a second curve


def test_several_runs_share_one_image(tmp_path):
    one = run_folder(tmp_path / "x", "run", metrics_rows())
    two = run_folder(tmp_path / "y", "run", metrics_rows(steps=80, scale=2.0))
    out = plot_runs([one, two], tmp_path / "both.png")
    alone = plot_runs([one], tmp_path / "one.png")
    assert png_size(out) == png_size(alone)  # the same panels, whatever the number of runs
    assert (pixels(out) != pixels(alone)).any(axis=-1).sum() > 500
    assert default_out([one, two]) == Path("runs.png")


def test_a_metrics_file_can_be_named_directly_and_rows_may_lack_keys(tmp_path):
    rows = metrics_rows()
    rows.insert(3, {"step": 17, "eval_loss": 0.5})  # an evaluation row among training rows
    path = write_jsonl(tmp_path / "m.jsonl", rows)
    got = series(read_metrics(path))
    assert list(got) == ["loss", "diff", "dec", "ce", "tok_acc", "lr", "grad_norm", "eval_loss"]
    assert got["eval_loss"] == ([17.0], [0.5]) and got["ce"][0] == [float(s) for s in range(5, 41, 5)]
    assert png_size(plot_runs([path])) and (tmp_path / "loss.png").is_file()


def test_ema_is_debiased_and_zero_means_raw():
    assert ema([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])  # no drag toward zero at the start
    assert ema([1.0, 5.0, 3.0], 0.0) == [1.0, 5.0, 3.0]
    smoothed = ema([0.0, 10.0], 0.5)
    assert 0.0 < smoothed[1] < 10.0


def test_a_bad_line_is_named(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    rows = [json.dumps(r) for r in metrics_rows()[:2]]
    (run / "metrics.jsonl").write_text(rows[0] + "\n" + rows[1] + "\n" + '{"step": 15, "loss": \n')
    with pytest.raises(DataError, match=r"metrics\.jsonl:3: not JSON"):
        plot_runs([run])
    (run / "metrics.jsonl").write_text(rows[0] + "\n" + '{"loss": 1.0}\n')
    with pytest.raises(DataError, match=r"metrics\.jsonl:2: no numeric 'step'"):
        plot_runs([run])
    assert not (run / "loss.png").exists()


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_an_empty_metrics_file(tmp_path, text):
    (tmp_path / "metrics.jsonl").write_text(text)
    with pytest.raises(DataError, match="is empty"):
        plot_runs([tmp_path])


def test_a_folder_without_metrics(tmp_path):
    with pytest.raises(DataError, match="no metrics.jsonl in") as err:
        plot_runs([tmp_path])
    assert "cfusion train --out" in err.value.hint
    with pytest.raises(DataError, match="does not exist"):
        plot_runs([tmp_path / "nowhere"])


def test_bad_arguments(tmp_path):
    run = run_folder(tmp_path, "run", metrics_rows())
    with pytest.raises(UsageError, match="--smooth"):
        plot_runs([run], smooth=1.0)
    with pytest.raises(UsageError, match="--out must end in"):
        plot_runs([run], tmp_path / "x.txt")
    with pytest.raises(UsageError):
        plot_runs([])


def test_a_failed_write_keeps_the_previous_image(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    run = run_folder(tmp_path, "run", metrics_rows())
    before = plot_runs([run]).read_bytes()
    write_jsonl(run / "metrics.jsonl", metrics_rows(scale=4.0))

    def broken(self, fname, **kw):
        fname.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plot_runs([run])
    assert (run / "loss.png").read_bytes() == before
    assert sorted(p.name for p in run.iterdir()) == ["loss.png", "metrics.jsonl"]


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    run = run_folder(tmp_path, "run", metrics_rows())
    for name in BLOCK_MATPLOTLIB:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    with pytest.raises(CfusionError, match="matplotlib") as err:
        plot_runs([run])
    assert err.value.hint == "pip install 'cfusion[plot]'"


def test_the_training_hook_notes_a_failure_once_and_never_raises(tmp_path, monkeypatch):
    run = run_folder(tmp_path, "run", metrics_rows())
    for name in BLOCK_MATPLOTLIB:
        monkeypatch.setitem(sys.modules, name, None)
    notes: list[str] = []
    redraw = loss_plot_hook(notes.append)
    for _ in range(3):
        redraw(run)
    redraw(tmp_path / "no-such-run")
    assert len(notes) == 1 and "matplotlib" in notes[0] and "cfusion[plot]" in notes[0]
    assert not (run / "loss.png").exists()


def test_training_redraws_after_each_checkpoint_and_at_the_end(tmp_path):
    rows = [{"nl": f"show the file f{i}.txt", "code": f"cat f{i}.txt", "lang": "bash"} for i in range(8)]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    args = tiny_args(tmp_path, data, steps=4, batch_size=4, warmup=2, ckpt_every=2)
    seen = []

    def on_save(run: Path):
        # Drawn after the checkpoint is safe on disk, from every step logged so far.
        steps = [r["step"] for r in read_metrics(run)]
        seen.append((steps[-1], read_latest(run / "checkpoints").name, (run / "model").is_dir()))
        plot_runs([run], run / "loss.png")

    train(args, log=lambda m: None, on_save=on_save)
    assert seen == [(2, "step-0000002", False), (4, "step-0000004", True)]
    assert png_size(tmp_path / "run" / "loss.png")
