"""Shared fixtures: the data folder beside the checkout, and one tiny model trained through the CLI per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# The checkout's top-level `kernels/` and `cli/` folders install as cfusion.kernels and cfusion.cli; on sys.path
# themselves they would shadow the PyPI package `kernels` that transformers imports. `pytest` keeps the checkout root
# off sys.path; `python -m pytest` puts it first, so it is taken off again here, before any test imports transformers.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != ROOT]

# Triton kernels run on the CPU through Triton's interpreter unless a GPU run says otherwise (TRITON_INTERPRET=0).
# It must be set before triton is first imported.
os.environ.setdefault("TRITON_INTERPRET", "1")
INTERPRET = os.environ["TRITON_INTERPRET"] == "1"

# Any `cfusion serve` a test starts (gen --shell starts one by itself) lives in a runtime folder of this session's
# own, never the user's, and is stopped when the session ends (stop_servers below).
RUNTIME = Path(tempfile.mkdtemp(prefix="cfusion-tests-run-"))
os.environ["CFUSION_RUNTIME_DIR"] = str(RUNTIME)

SHARED_DATA = Path(os.environ.get("CFUSION_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


CFUSION = shutil.which("cfusion", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def cfusion(*args: str, input: str | None = None, check: bool = False, timeout: int = 600):
    """Runs the installed `cfusion` entry point the way a user would (not `python -m`, which would put the working
    folder on sys.path); returns the CompletedProcess."""
    if CFUSION is None:
        raise AssertionError("the `cfusion` command is not installed: pip install -e .")
    proc = subprocess.run([CFUSION, *args], input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"cfusion {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session", autouse=True)
def stop_servers():
    yield
    if (RUNTIME / "server.sock").exists() and CFUSION is not None:
        subprocess.run([CFUSION, "serve", "--stop"], capture_output=True, timeout=60)
    shutil.rmtree(RUNTIME, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bash_test(shared_data) -> list:
    """The CodeFusion Bash test split as pairs."""
    from cfusion.data.codefusion import import_codefusion

    return import_codefusion(shared_data / "codefusion" / "BashBenchmarks.json", "test")


@pytest.fixture(scope="session")
def nl2bash(shared_data) -> list:
    from cfusion.langs.bash.importers import import_nl2bash

    return import_nl2bash(shared_data / "nl2bash" / "all.nl", shared_data / "nl2bash" / "all.cm")


@pytest.fixture(scope="session")
def tldr(shared_data) -> list:
    from cfusion.langs.bash.importers import import_tldr

    return import_tldr(shared_data / "tldr" / "pages")


def nl2bash_pairs(shared: Path, n: int, stride: int = 50) -> list[dict]:
    """n real NL2Bash pairs, spread over the corpus."""
    nl = (shared / "nl2bash" / "all.nl").read_text().splitlines()
    cm = (shared / "nl2bash" / "all.cm").read_text().splitlines()
    return [{"nl": nl[i].strip(), "code": cm[i].strip(), "lang": "bash"} for i in range(0, n * stride, stride)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def tiny_args(tmp_path, data, **kw):
    """TrainArgs of a short CPU run of the `tiny` preset on `data` into tmp_path/run; keywords override."""
    from cfusion.train.diffusion import TrainArgs

    base = dict(
        stage="finetune",
        lang="bash",
        data=[str(data)],
        out=str(tmp_path / "run"),
        preset="tiny",
        steps=60,
        batch_size=16,
        lr=3e-3,
        warmup=5,
        ema_decay=0.9,
        ckpt_every=30,
        log_every=1,
        device="cpu",
    )
    return TrainArgs(**{**base, **kw})


TINY_STEPS = 600


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, shared_data) -> tuple[Path, list[dict]]:
    """A `tiny` model trained by `cfusion train` on 40 real NL2Bash pairs (about a minute on 2 CPU cores)."""
    root = tmp_path_factory.mktemp("tiny")
    pairs = nl2bash_pairs(shared_data, 40)
    data = write_jsonl(root / "pairs.jsonl", pairs)
    cfusion(
        "train",
        "--stage",
        "finetune",
        "--lang",
        "bash",
        "--data",
        str(data),
        "--out",
        str(root / "run"),
        "--preset",
        "tiny",
        "--steps",
        str(TINY_STEPS),
        "--batch-size",
        "40",
        "--lr",
        "3e-3",
        "--warmup",
        "30",
        "--ema-decay",
        "0.99",
        "--ckpt-every",
        "300",
        "--log-every",
        "50",
        "--device",
        "cpu",
        check=True,
    )
    return root / "run", pairs


def triton_device() -> str:
    """Where the Triton tests run: the interpreter on the CPU (float32 only), or CUDA."""
    pytest.importorskip("triton")
    if INTERPRET:
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        pytest.skip("TRITON_INTERPRET=0 and no CUDA")
    return "cuda"


def gpu_device() -> str:
    """CUDA with compiled Triton kernels, or skip."""
    pytest.importorskip("triton")
    import torch

    if INTERPRET or not torch.cuda.is_available():
        pytest.skip("needs CUDA and TRITON_INTERPRET=0")
    return "cuda"
