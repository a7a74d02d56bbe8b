"""The CLI end to end, as a user types it: a tiny model trained by `cfusion train` answers through `cfusion gen`."""

import json
import shutil

import pytest
from conftest import cfusion, write_jsonl

from cfusion.core.bundle import load_model
from cfusion.pipeline.generator import Generator


def one_line_error(proc, code: int, needle: str):
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_tiny_model_reproduces_its_training_pairs(tiny_run):
    run, pairs = tiny_run
    model, tok, _ = load_model(run)
    answers = Generator(model, tok).generate([p["nl"] for p in pairs], "bash", k=1, steps=50)
    hits = sum(bool(a) and a[0].code == p["code"] for a, p in zip(answers, pairs))
    assert hits >= 0.8 * len(pairs), f"{hits}/{len(pairs)}"


def test_gen_answers_through_the_cli(tiny_run):
    run, pairs = tiny_run
    hits = 0
    for p in pairs[:8]:
        proc = cfusion("gen", p["nl"], "--lang", "bash", "--model", str(run), "-k", "1", check=True)
        hits += proc.stdout.strip() == p["code"]
    assert hits >= 6, hits


def test_gen_json_reads_stdin_and_ranks_distinct_candidates(tiny_run):
    run, pairs = tiny_run
    proc = cfusion(
        "gen", "-", "--model", str(run), "-k", "5", "--steps", "20", "--json", input=pairs[3]["nl"] + "\n", check=True
    )
    out = json.loads(proc.stdout)
    assert out["request"] == pairs[3]["nl"] and out["k"] == 5 and out["steps"] == 20 and out["clamp"] is True
    codes = [c["code"] for c in out["candidates"]]
    scores = [c["score"] for c in out["candidates"]]
    assert codes[0] == pairs[3]["code"] and len(set(codes)) == len(codes) <= 5
    # Valid candidates first, each group by score.
    keys = [(not c["valid"], -c["score"]) for c in out["candidates"]]
    assert keys == sorted(keys) and sum(c["votes"] for c in out["candidates"]) <= 5
    assert out["candidates"][0]["valid"] and len(scores) == len(codes)


def test_gen_is_deterministic_for_a_seed(tiny_run):
    run, pairs = tiny_run
    a = cfusion("gen", "make a backup", "--model", str(run), "--seed", "3", "--json", check=True)
    b = cfusion("gen", "make a backup", "--model", str(run), "--seed", "3", "--json", check=True)
    assert json.loads(a.stdout)["candidates"] == json.loads(b.stdout)["candidates"]


@pytest.mark.parametrize("request_text", ["", "   \n\t "])
def test_empty_request(tiny_run, request_text):
    one_line_error(cfusion("gen", request_text, "--model", str(tiny_run[0])), 2, "empty")


def test_too_long_request_is_truncated_with_a_warning(tiny_run):
    proc = cfusion("gen", "find big files " * 200, "--model", str(tiny_run[0]), "-k", "1")
    assert proc.returncode == 0 and "warning" in proc.stderr and "longer than" in proc.stderr


def test_unknown_language(tiny_run):
    one_line_error(cfusion("gen", "list files", "--lang", "zsh", "--model", str(tiny_run[0])), 2, "--lang")


def test_language_the_model_was_not_trained_for(tiny_run):
    one_line_error(cfusion("gen", "list files", "--lang", "python", "--model", str(tiny_run[0])), 2, "bash")


def test_bad_step_count(tiny_run):
    one_line_error(cfusion("gen", "list files", "--steps", "0", "--model", str(tiny_run[0])), 2, "--steps")


def test_missing_checkpoint(tmp_path):
    one_line_error(cfusion("gen", "list files", "--model", str(tmp_path / "nope")), 1, "no such model")


def test_truncated_checkpoint(tiny_run, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_run[0] / "model", folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    one_line_error(cfusion("gen", "list files", "--model", str(folder)), 1, "truncated or corrupt")


def test_mismatched_checkpoint(tiny_run, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_run[0] / "model", folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["d_model"], cfg["n_heads"] = 96, 4
    (folder / "config.json").write_text(json.dumps(cfg))
    one_line_error(cfusion("gen", "list files", "--model", str(folder)), 1, "does not match")


def test_cuda_asked_for_but_absent(tiny_run):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    one_line_error(cfusion("gen", "list files", "--device", "cuda", "--model", str(tiny_run[0])), 1, "CUDA")
    one_line_error(
        cfusion("train", "--stage", "finetune", "--data", "x.jsonl", "--out", "r", "--device", "cuda"), 2, "CUDA"
    )


def test_no_installed_model_says_how_to_train_one(tmp_path, monkeypatch):
    # Every language ships a model, so a package whose weights hold Bash alone stands in for one that lacks cf.
    from cfusion.core import bundle
    from cfusion.errors import ModelNotInstalledError

    (tmp_path / "bash").mkdir()
    (tmp_path / "bash" / "config.json").write_text("{}")
    monkeypatch.setattr(bundle, "WEIGHTS", tmp_path)
    assert bundle.installed_langs() == ["bash"]
    with pytest.raises(ModelNotInstalledError) as err:
        bundle.installed_model("cf")
    assert str(err.value) == "no model is installed for cf (installed: bash)"
    assert "cfusion train --stage finetune --lang cf" in err.value.hint


def test_malformed_data_line_names_file_and_line(tmp_path):
    data = write_jsonl(tmp_path / "bad.jsonl", [{"nl": "list files", "code": "ls", "lang": "bash"}])
    with open(data, "a") as f:
        f.write('{"nl": "oops", "code": \n')
    proc = cfusion(
        "train",
        "--stage",
        "finetune",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "r"),
        "--preset",
        "tiny",
        "--steps",
        "1",
        "--device",
        "cpu",
    )
    one_line_error(proc, 1, "bad.jsonl:2")


def test_missing_data_file(tmp_path):
    proc = cfusion(
        "train",
        "--stage",
        "pretrain",
        "--data",
        str(tmp_path / "none.txt"),
        "--out",
        str(tmp_path / "r"),
        "--preset",
        "tiny",
        "--device",
        "cpu",
    )
    one_line_error(proc, 1, "none.txt")


def test_bad_options_are_usage_errors():
    one_line_error(cfusion("gen", "list files", "-k", "many"), 2, "-k")
    one_line_error(cfusion("train", "--stage", "polish", "--data", "x", "--out", "y"), 2, "--stage")
    high = cfusion("train", "--stage", "finetune", "--data", "x", "--out", "y", "--high-noise", "1.5")
    one_line_error(high, 2, "--high-noise must be in 0..1")


def test_train_writes_metrics_and_a_loadable_model(tiny_run):
    run, _ = tiny_run
    recs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert recs[-1]["step"] == 600 and {"loss", "ce", "steps_per_s", "lr"} <= set(recs[-1])
    assert recs[-1]["loss"] < 0.3 * recs[0]["loss"]
    assert {p.name for p in (run / "model").iterdir()} == {"config.json", "code_tokenizer.json", "model.safetensors"}


def test_bench_times_generation_and_the_autoregressive_baseline(tiny_run):
    run, _ = tiny_run
    proc = cfusion(
        "bench", "--what", "e2e", "--model", str(run), "--reps", "2", "--batch", "4", "--steps", "3", "--json",
        "--device", "cpu", check=True,
    )  # fmt: skip
    result = json.loads(proc.stdout)
    rows = {r["impl"]: r for r in result["end_to_end"]}
    eager = rows["torch eager"]
    assert eager["k1_p50_ms"] > 0 and eager["k5_p95_ms"] >= eager["k5_p50_ms"] > 0
    assert eager["req_per_s_batch4"] > 0
    assert any(name.startswith("autoregressive") and r["p50_ms"] > 0 for name, r in rows.items())


def test_bench_kernels_on_cpu_times_the_references():
    proc = cfusion("bench", "--what", "kernels", "--preset", "tiny", "--reps", "1", "--json", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["kernels"]
    assert {r["op"] for r in rows} == {"noise_update", "cross_attention", "argmax_head"}
    assert all(r["ms"] > 0 for r in rows if r["impl"].startswith("torch eager"))


@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["bench", "--what", "everything"], 2, "--what must be kernels, e2e or all"),
        (["gen", "list files", "--kernels", "cuda"], 2, "--kernels must be one of auto, triton, torch"),
    ],
)
def test_bench_and_kernel_switch_refuse_bad_input(args, code, needle):
    one_line_error(cfusion(*args), code, needle)
