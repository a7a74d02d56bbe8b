"""`cfusion plot` end to end, and the loss.png that `cfusion train` leaves beside metrics.jsonl (or, without
matplotlib, a note and a finished run)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import CFUSION, cfusion, write_jsonl

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rows(scale: float) -> list[dict]:
    return [
        {"loss": scale / s + 0.1, "diff": 0.1, "dec": 0.1, "ce": scale / s, "tok_acc": s / 50, "step": s, "lr": 1e-3}
        for s in range(5, 51, 5)
    ]


def run_folder(root: Path, name: str, scale: float = 1.0) -> Path:
    (root / name).mkdir(parents=True)
    write_jsonl(root / name / "metrics.jsonl", rows(scale))
    return root / name


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_SIGNATURE


def one_line_error(proc, code: int, needle: str):
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_plot_one_run_writes_beside_its_metrics_and_prints_the_path(tmp_path):
    run = run_folder(tmp_path, "bash")
    proc = cfusion("plot", str(run), check=True)
    assert proc.stdout.strip() == str(run / "loss.png") and is_png(run / "loss.png")


def test_plot_compares_runs_into_one_image(tmp_path):
    a, b = run_folder(tmp_path, "a"), run_folder(tmp_path, "b", scale=5.0)
    out = tmp_path / "pics" / "ab.png"
    proc = cfusion("plot", str(a), str(b), "--out", str(out), check=True)
    assert proc.stdout.strip() == str(out) and is_png(out)
    assert not (a / "loss.png").exists() and not (b / "loss.png").exists()
    default = subprocess.run([CFUSION, "plot", str(a), str(b)], cwd=tmp_path, capture_output=True, text=True)
    assert default.returncode == 0 and default.stdout.strip() == "runs.png" and is_png(tmp_path / "runs.png")


def test_plot_errors(tmp_path):
    run = run_folder(tmp_path, "run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write("{not json\n")
    one_line_error(cfusion("plot", str(run)), 1, "metrics.jsonl:11: not JSON")
    one_line_error(cfusion("plot", str(tmp_path / "missing")), 1, "does not exist")
    (tmp_path / "empty").mkdir()
    one_line_error(cfusion("plot", str(tmp_path / "empty")), 1, "no metrics.jsonl in")
    one_line_error(cfusion("plot"), 2, "RUN")
    one_line_error(cfusion("plot", str(run_folder(tmp_path, "ok")), "--smooth", "1.5"), 2, "--smooth")
    assert not (run / "loss.png").exists()


def no_matplotlib(tmp_path: Path) -> dict:
    """An environment whose `matplotlib` fails to import, as on a machine without the plot extra."""
    (tmp_path / "shim" / "matplotlib").mkdir(parents=True)
    (tmp_path / "shim" / "matplotlib" / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    return {**os.environ, "PYTHONPATH": str(tmp_path / "shim")}


def test_the_cli_loads_matplotlib_only_to_draw(tmp_path):
    env = no_matplotlib(tmp_path)
    for args in (["--help"], ["gen", "--help"], ["plot", "--help"], ["train", "--help"]):
        proc = subprocess.run([CFUSION, *args], capture_output=True, text=True, env=env)
        assert proc.returncode == 0 and "Usage" in proc.stdout, (args, proc.stderr)
    run = run_folder(tmp_path, "run")
    one_line_error(
        subprocess.run([CFUSION, "plot", str(run)], capture_output=True, text=True, env=env), 1, "matplotlib"
    )


def test_train_writes_loss_png_beside_its_metrics(tiny_run):
    run = tiny_run[0]
    assert (run / "metrics.jsonl").is_file() and is_png(run / "loss.png")
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temporary file left behind


@pytest.mark.slow
def test_train_without_matplotlib_notes_it_once_and_finishes(tmp_path):
    pairs = [{"nl": f"show the file f{i}.txt", "code": f"cat f{i}.txt", "lang": "bash"} for i in range(8)]
    data = write_jsonl(tmp_path / "d.jsonl", pairs)
    args = ["train", "--stage", "finetune", "--data", str(data), "--out", str(tmp_path / "run"), "--preset", "tiny"]
    args += ["--steps", "4", "--batch-size", "4", "--warmup", "2", "--ckpt-every", "2", "--log-every", "1"]
    proc = subprocess.run(
        [CFUSION, *args, "--device", "cpu"], capture_output=True, text=True, env=no_matplotlib(tmp_path), timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "run" / "model")
    notes = [line for line in proc.stderr.splitlines() if "loss.png" in line]
    assert len(notes) == 1 and "cfusion[plot]" in notes[0], proc.stderr
    assert "Error" not in proc.stderr and "Traceback" not in proc.stderr
    run = tmp_path / "run"
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4]
    assert (run / "model").is_dir() and not (run / "loss.png").exists()
