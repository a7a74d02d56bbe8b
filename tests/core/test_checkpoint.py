"""Tests for the checkpoint file layer: safetensors round trips, sharding, corruption errors, atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from cfusion.core.checkpoint import (
    atomic_dir,
    load_tensors,
    prune_steps,
    read_json,
    read_latest,
    save_tensors,
    update_latest,
    write_json_atomic,
)
from cfusion.errors import CheckpointError


def _tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "emb.weight": torch.randn(47, 123, generator=g),  # 23124 bytes: oversized for the 10 KB shards in tests
        "blocks.0.attn": torch.randn(123, 47, generator=g).to(torch.bfloat16),
        "blocks.0.mlp": torch.randn(5, 7, 3, generator=g).to(torch.float16),
        "blocks.0.mlp_t": torch.randn(31, 17, generator=g).t(),  # non-contiguous view
        "step_ids": torch.randint(-(2**40), 2**40, (13, 3), generator=g, dtype=torch.int64),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 5),
    }


def _assert_same(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert set(got) == set(want)
    for k, t in want.items():
        assert got[k].dtype == t.dtype, k
        assert got[k].shape == t.shape, k
        assert got[k].device.type == "cpu", k
        assert torch.equal(got[k], t), k


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def test_round_trip_single_file(tmp_path: Path) -> None:
    tensors = _tensors()
    save_tensors(tensors, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    _assert_same(load_tensors(tmp_path), tensors)


def test_round_trip_sharded(tmp_path: Path) -> None:
    tensors = _tensors()
    tensors["big"] = torch.arange(3000, dtype=torch.float32)  # 12000 bytes: larger than the limit below
    limit = 10_000
    save_tensors(tensors, tmp_path, name="ema", max_shard_bytes=limit)

    index = json.loads((tmp_path / "ema.safetensors.index.json").read_text())
    shards = sorted(tmp_path.glob("ema-*-of-*.safetensors"))
    assert len(shards) >= 3
    assert not (tmp_path / "ema.safetensors").exists()
    assert set(index["weight_map"]) == set(tensors)
    assert set(index["weight_map"].values()) == {p.name for p in shards}
    assert index["metadata"]["total_size"] == sum(_nbytes(t) for t in tensors.values())
    n = len(shards)
    assert [p.name for p in shards] == [f"ema-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]
    for shard in shards:
        with safe_open(str(shard), framework="pt") as f:
            keys = list(f.keys())
            data = sum(_nbytes(f.get_tensor(k)) for k in keys)
        if data > limit:  # only allowed for a lone oversized tensor
            assert len(keys) == 1
        else:
            assert shard.stat().st_size < limit + 1024  # data under the limit plus a small JSON header
    _assert_same(load_tensors(tmp_path, name="ema"), tensors)


def test_resave_switches_layout_without_stale_files(tmp_path: Path) -> None:
    tensors = _tensors()
    save_tensors(tensors, tmp_path, max_shard_bytes=10_000)
    assert (tmp_path / "model.safetensors.index.json").exists()
    save_tensors(tensors, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    save_tensors(tensors, tmp_path, max_shard_bytes=10_000)
    assert not (tmp_path / "model.safetensors").exists()
    _assert_same(load_tensors(tmp_path), tensors)


def test_tied_and_shared_storage(tmp_path: Path) -> None:
    w = torch.randn(11, 7)
    base = torch.arange(40, dtype=torch.float32)
    tensors = {"emb.weight": w, "head.weight": w, "first": base[:10], "rest": base[10:].view(6, 5)}
    save_tensors(tensors, tmp_path)
    got = load_tensors(tmp_path)
    _assert_same(got, tensors)
    got["emb.weight"][0, 0] = 123.0  # saved as independent copies, so they load untied
    assert got["head.weight"][0, 0] != 123.0


def test_truncated_file_names_path(tmp_path: Path) -> None:
    save_tensors(_tensors(), tmp_path)
    path = tmp_path / "model.safetensors"
    os.truncate(path, path.stat().st_size // 2)
    with pytest.raises(CheckpointError, match="truncated or corrupt checkpoint file") as err:
        load_tensors(tmp_path)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_shard_names_path(tmp_path: Path) -> None:
    save_tensors(_tensors(), tmp_path, max_shard_bytes=10_000)
    shard = sorted(tmp_path.glob("model-*.safetensors"))[1]
    os.truncate(shard, shard.stat().st_size // 2)
    with pytest.raises(CheckpointError, match="truncated or corrupt") as err:
        load_tensors(tmp_path)
    assert str(shard) in str(err.value)


def test_missing_shard(tmp_path: Path) -> None:
    save_tensors(_tensors(), tmp_path, max_shard_bytes=10_000)
    shard = max(tmp_path.glob("model-*.safetensors"))
    shard.unlink()
    with pytest.raises(CheckpointError, match="missing") as err:
        load_tensors(tmp_path)
    assert str(shard) in str(err.value)


def test_index_names_tensor_absent_from_shard(tmp_path: Path) -> None:
    save_tensors(_tensors(), tmp_path, max_shard_bytes=10_000)
    index_path = tmp_path / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    index["weight_map"]["ghost"] = next(iter(index["weight_map"].values()))
    index_path.write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="'ghost'"):
        load_tensors(tmp_path)


def test_index_rejects_path_outside_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    save_tensors(_tensors(), folder, max_shard_bytes=10_000)
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    index["weight_map"]["emb.weight"] = "../evil.safetensors"
    index_path.write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="invalid shard"):
        load_tensors(folder)


def test_missing_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found") as err:
        load_tensors(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)
    with pytest.raises(CheckpointError, match="model.safetensors") as err:
        load_tensors(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_json_round_trip_and_errors(tmp_path: Path) -> None:
    obj = {"step": 12, "lr": 3e-4, "name": "héllo", "nested": {"a": [1, 2, None]}}
    path = tmp_path / "train_state.json"
    write_json_atomic(path, obj)
    assert read_json(path) == obj
    write_json_atomic(path, {"step": 13})  # overwrite in place
    assert read_json(path) == {"step": 13}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train_state.json"]  # no temp files left

    with pytest.raises(CheckpointError, match="not found") as err:
        read_json(tmp_path / "missing.json")
    assert "missing.json" in str(err.value)
    bad = tmp_path / "bad.json"
    bad.write_text('{"step": 1')
    with pytest.raises(CheckpointError, match="invalid JSON") as err:
        read_json(bad)
    assert str(bad) in str(err.value)


def test_atomic_dir_exception_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "step-00000010"
    with pytest.raises(RuntimeError, match="boom"), atomic_dir(final) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".step-00000010.tmp-")
        (tmp / "model.safetensors").write_bytes(b"partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_exception_keeps_existing_folder(tmp_path: Path) -> None:
    final = tmp_path / "step-1"
    with atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("new")
        raise RuntimeError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["step-1"]
    assert (final / "a.txt").read_text() == "old"


def test_atomic_dir_replaces_existing(tmp_path: Path) -> None:
    final = tmp_path / "step-5"
    with atomic_dir(final) as tmp:
        (tmp / "old_only.txt").write_text("old")
        (tmp / "shared.txt").write_text("old")
    with atomic_dir(final) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "x.json").write_text("{}")
        (tmp / "shared.txt").write_text("new")
    assert [p.name for p in tmp_path.iterdir()] == ["step-5"]  # no .tmp- or .old- leftovers
    assert sorted(str(p.relative_to(final)) for p in final.rglob("*")) == ["shared.txt", "sub", "sub/x.json"]
    assert (final / "shared.txt").read_text() == "new"


def _make_step(run: Path, step: int, complete: bool = True) -> Path:
    path = run / f"step-{step:08d}"
    path.mkdir(parents=True)
    if complete:
        write_json_atomic(path / "train_state.json", {"step": step})
    return path


def test_latest_pointer(tmp_path: Path) -> None:
    assert read_latest(tmp_path) is None
    assert read_latest(tmp_path / "missing-run") is None
    _make_step(tmp_path, 100)
    s50 = _make_step(tmp_path, 50)
    update_latest(tmp_path, s50.name)
    assert (tmp_path / "LATEST").read_text().strip() == s50.name
    assert read_latest(tmp_path) == s50  # the pointer wins over the scan
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LATEST", "step-00000050", "step-00000100"]


def test_read_latest_falls_back_to_highest_complete(tmp_path: Path) -> None:
    _make_step(tmp_path, 9)
    s20 = _make_step(tmp_path, 20)
    _make_step(tmp_path, 100, complete=False)  # a folder without train_state.json does not count
    (tmp_path / ".step-00000200.tmp-abc").mkdir()
    (tmp_path / "step-notanumber").mkdir()
    assert read_latest(tmp_path) == s20  # LATEST missing
    update_latest(tmp_path, "step-00000300")
    assert read_latest(tmp_path) == s20  # LATEST points to a folder that does not exist


def test_prune_steps_keeps_newest_and_latest(tmp_path: Path) -> None:
    steps = {n: _make_step(tmp_path, n) for n in (1, 2, 10, 30, 200)}
    update_latest(tmp_path, steps[2].name)  # e.g. the newest that passed validation
    (tmp_path / ".step-00000300.tmp-xyz").mkdir()
    (tmp_path / ".step-00000030.old-1234").mkdir()
    prune_steps(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LATEST", "step-00000002", "step-00000030", "step-00000200"]
    update_latest(tmp_path, steps[200].name)
    prune_steps(tmp_path, keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LATEST", "step-00000200"]
    assert read_latest(tmp_path) == steps[200]


def test_written_files_are_world_readable(tmp_path):
    save_tensors({"w": torch.ones(3)}, tmp_path)
    write_json_atomic(tmp_path / "config.json", {"a": 1})
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_no_init_skips_random_initialisation_and_restores_it() -> None:
    from torch import nn

    from cfusion.core.checkpoint import no_init

    state = torch.get_rng_state()
    with no_init():
        nn.Sequential(nn.Linear(64, 64), nn.Embedding(50, 8), nn.LayerNorm(8))
    assert torch.equal(torch.get_rng_state(), state)  # no fill drew a random number
    nn.Linear(64, 64)
    assert not torch.equal(torch.get_rng_state(), state)  # outside, layers are initialised again
    with pytest.raises(RuntimeError), no_init():
        raise RuntimeError("a failed load")
    assert nn.init.normal_(torch.zeros(1000)).std() > 0.5  # restored after an error too
