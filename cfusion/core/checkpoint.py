"""Checkpoint file layer: safetensors weights (sharded when large), atomic JSON, atomic folders, LATEST pointer."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfusion.errors import CheckpointError

if TYPE_CHECKING:  # torch and safetensors load when tensors are read or written: JSONL and folders need neither
    import torch

LATEST = "LATEST"
TRAIN_STATE = "train_state.json"  # its presence marks a step folder as complete
_STEP_RE = re.compile(r"^step-(\d+)$")


def _fsync_dir(path: Path) -> None:
    # A rename is only durable once the parent directory entry is flushed; not every OS can open a directory.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_atomic(path: Path, write: Any) -> None:
    """Call `write(tmp_path)`, fsync it, then os.replace it onto `path` (same folder, so the rename is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a model folder must be readable like any other file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole text file so that a kill leaves the old file or the new one, never half of it."""
    _replace_atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    _replace_atomic(Path(path), lambda tmp: tmp.write_bytes(data))


def write_json_atomic(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict:
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CheckpointError(f"file not found: {path}") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"invalid JSON in {path}: {err}", hint="the file is corrupt; re-create it") from err
    if not isinstance(obj, dict):
        raise CheckpointError(f"invalid JSON in {path}: expected an object, got {type(obj).__name__}")
    return obj


def _shard_name(name: str, i: int, n: int) -> str:
    return f"{name}-{i:05d}-of-{n:05d}.safetensors"


def save_tensors(
    tensors: dict[str, torch.Tensor], folder: Path, name: str = "model", max_shard_bytes: int = 15 * 2**20
) -> None:
    """Write `tensors` to `folder` as `{name}.safetensors`, or as shards plus a Hugging Face style index.

    The limit counts tensor data bytes (as Hugging Face does), not the small safetensors header. Tensors are packed
    greedily in insertion order; a single tensor larger than `max_shard_bytes` gets a shard of its own. Each file is
    replaced atomically and files of the other layout are removed afterwards, but the set of files as a whole is only
    atomic when written inside `atomic_dir`.
    """
    if max_shard_bytes <= 0:
        raise ValueError(f"max_shard_bytes must be > 0, got {max_shard_bytes}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {k: t.numel() * t.element_size() for k, t in tensors.items()}
    total = sum(sizes.values())

    groups: list[list[str]] = [[]]
    used = 0
    for key, size in sizes.items():
        if groups[-1] and used + size > max_shard_bytes:
            groups.append([])
            used = 0
        groups[-1].append(key)
        used += size

    def write_group(keys: list[str], path: Path) -> None:
        # Copy per shard, not up front, to bound peak memory. The copy makes each tensor contiguous and the sole
        # owner of its storage, which safetensors requires: tied weights are saved as two independent tensors.
        import torch
        from safetensors.torch import save_file

        shard = {k: tensors[k].detach().to("cpu", memory_format=torch.contiguous_format, copy=True) for k in keys}
        _replace_atomic(path, lambda tmp: save_file(shard, str(tmp), metadata={"format": "pt"}))

    single = folder / f"{name}.safetensors"
    index = folder / f"{name}.safetensors.index.json"
    old_shards = set(folder.glob(f"{name}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].safetensors"))
    if len(groups) == 1:
        write_group(groups[0], single)
        index.unlink(missing_ok=True)  # the loader prefers the index, so it goes before the shards it names
        stale = old_shards
    else:
        weight_map: dict[str, str] = {}
        written = set()
        for i, keys in enumerate(groups, start=1):
            shard_file = folder / _shard_name(name, i, len(groups))
            write_group(keys, shard_file)
            written.add(shard_file)
            weight_map.update(dict.fromkeys(keys, shard_file.name))
        # The index goes last so that it never names a shard that is not on disk yet.
        write_json_atomic(index, {"metadata": {"total_size": total}, "weight_map": weight_map})
        stale = (old_shards - written) | {single}
    for path in stale:
        path.unlink(missing_ok=True)


def _load_file(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except FileNotFoundError as err:
        raise CheckpointError(f"checkpoint file not found: {path}") from err
    except SafetensorError as err:
        raise CheckpointError(
            f"truncated or corrupt checkpoint file: {path}", hint=f"safetensors said: {err}; re-save or restore it"
        ) from err
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint file: {path} ({err.strerror})") from err


_FILLS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "kaiming_uniform_", "kaiming_normal_")
_FILLS += ("xavier_uniform_", "xavier_normal_")


@contextmanager
def no_init() -> Iterator[None]:
    """Modules built inside skip their random initialisation (torch.nn.init's fills leave the tensor as it is), for a
    module whose every weight is loaded next: the fills cost a third of loading a model on a 2-core CPU. The
    caller checks that nothing was left unloaded."""
    from torch.nn import init

    saved = {name: getattr(init, name) for name in _FILLS}
    for name in _FILLS:
        setattr(init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, fill in saved.items():
            setattr(init, name, fill)


def load_tensors(folder: Path, name: str = "model") -> dict[str, torch.Tensor]:
    """Load tensors saved by `save_tensors` (either layout) as CPU tensors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder not found: {folder}")
    index = folder / f"{name}.safetensors.index.json"
    if not index.exists():
        single = folder / f"{name}.safetensors"
        if not single.exists():
            raise CheckpointError(f"no {name}.safetensors or {index.name} in checkpoint folder: {folder}")
        return _load_file(single)

    weight_map = read_json(index).get("weight_map")
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"checkpoint index has no weight_map object: {index}")
    shards: dict[str, dict[str, torch.Tensor]] = {}
    for shard_name in dict.fromkeys(weight_map.values()):
        # A shard must be a plain file name in this folder; anything else is a corrupt (or hostile) index.
        if not isinstance(shard_name, str) or Path(shard_name).name != shard_name or shard_name in ("", ".", ".."):
            raise CheckpointError(f"checkpoint index names an invalid shard {shard_name!r}: {index}")
        shard = folder / shard_name
        if not shard.exists():
            raise CheckpointError(f"shard listed in {index.name} is missing: {shard}")
        shards[shard_name] = _load_file(shard)
    out: dict[str, torch.Tensor] = {}
    for key, shard_name in weight_map.items():
        if key not in shards[shard_name]:
            raise CheckpointError(f"tensor {key!r} listed in {index.name} is not in shard: {folder / shard_name}")
        out[key] = shards[shard_name][key]
    return out


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for fn in filenames:
            with open(os.path.join(dirpath, fn), "rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(Path(dirpath))


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temp folder next to `final`; on success it becomes `final` in one rename, on error it is deleted.

    An existing `final` is first renamed to `.{name}.old-<random>` and deleted only once the new folder is in place,
    so a complete folder exists under some name at every instant and `final`, when present, is always complete.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700, which would hide checkpoints from other users of the machine
        yield tmp
        _fsync_tree(tmp)
        if final.exists():
            old = final.parent / f".{final.name}.old-{secrets.token_hex(4)}"
            os.rename(final, old)
            try:
                os.rename(tmp, final)
            except BaseException:
                os.rename(old, final)
                raise
            _fsync_dir(final.parent)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(final.parent)


def update_latest(run_checkpoints_dir: Path, step_dir_name: str) -> None:
    """Point `LATEST` at `step_dir_name` (a folder name inside `run_checkpoints_dir`), atomically."""
    if not step_dir_name or Path(step_dir_name).name != step_dir_name:
        raise ValueError(f"step_dir_name must be a plain folder name, got {step_dir_name!r}")
    path = Path(run_checkpoints_dir) / LATEST
    _replace_atomic(path, lambda tmp: tmp.write_text(step_dir_name + "\n", encoding="utf-8"))


def _step_dirs(run_checkpoints_dir: Path) -> list[tuple[int, Path]]:
    """`step-<int>` folders, oldest first."""
    if not run_checkpoints_dir.is_dir():
        return []
    found = [
        (int(m.group(1)), p) for p in run_checkpoints_dir.iterdir() if (m := _STEP_RE.match(p.name)) and p.is_dir()
    ]
    return sorted(found)


def _latest_target(run_checkpoints_dir: Path) -> Path | None:
    try:
        name = (run_checkpoints_dir / LATEST).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return run_checkpoints_dir / name if name and Path(name).name == name else None


def read_latest(run_checkpoints_dir: Path) -> Path | None:
    """The folder `LATEST` names if it exists, else the highest-numbered complete `step-*` folder, else None."""
    run_checkpoints_dir = Path(run_checkpoints_dir)
    target = _latest_target(run_checkpoints_dir)
    if target is not None and target.is_dir():
        return target
    # LATEST is written after the step folder, so a kill in between leaves it stale: fall back to scanning.
    complete = [p for _, p in _step_dirs(run_checkpoints_dir) if (p / TRAIN_STATE).is_file()]
    return complete[-1] if complete else None


def prune_steps(run_checkpoints_dir: Path, keep: int = 2) -> None:
    """Delete all but the newest `keep` step folders (never the one LATEST names) and stale temp leftovers.

    Call it only from the process that writes checkpoints: it deletes `.step-*.tmp-*` folders, which another writer
    could still be filling.
    """
    if keep < 0:
        raise ValueError(f"keep must be >= 0, got {keep}")
    run_checkpoints_dir = Path(run_checkpoints_dir)
    target = _latest_target(run_checkpoints_dir)
    steps = _step_dirs(run_checkpoints_dir)
    for _, path in steps[: max(len(steps) - keep, 0)]:
        if target is None or path.resolve() != target.resolve():
            shutil.rmtree(path, ignore_errors=True)
    leftovers = [*run_checkpoints_dir.glob(".step-*.tmp-*"), *run_checkpoints_dir.glob(".step-*.old-*")]
    for path in [*leftovers, *run_checkpoints_dir.glob(f".{LATEST}.tmp-*")]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
