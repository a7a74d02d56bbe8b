"""Train judge variants on a GPU machine that cannot carry the whole model folder and MiniLM at once.

`prepare` copies what training reads from a model folder (config, tokenizer, memory and the code embedding table,
about 5 MB) into a small folder to carry; `train` trains each variant there with cfusion.judge.train_judge, packs
them into one safetensors file with a report, and prints a table. `cfusion data judge` does the same on a whole
model folder.

    python benchmarks/train_judge_gpu.py prepare cfusion/weights/bash .carry/judge_in
    PYTHONSAFEPATH=1 python benchmarks/train_judge_gpu.py train .carry/judge_in $OUT \\
        '{"j384x": {"steps": 9000, "cfg": {"d_ff": 384}}}'
"""

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from cfusion.checkpoint import load_tensors, read_json
from cfusion.config import ModelConfig
from cfusion.judge import JudgeConfig, train_judge
from cfusion.memory import Memory
from cfusion.model import CodeFusion
from cfusion.tokenizer import CodeTokenizer


def prepare(model: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "code_tokenizer.json", "memory.safetensors", "memory.json.gz"):
        shutil.copy(model / name, out / name)
    save_file(
        {"embed.weight": load_tensors(model, "model")["embed.weight"].contiguous()}, str(out / "embed.safetensors")
    )


def train(src: Path, out: Path, variants: dict) -> None:
    cfg = ModelConfig.from_dict(read_json(src / "config.json"))
    tok = CodeTokenizer.load(src)
    model = CodeFusion(cfg)
    model.embed.weight.data = load_file(str(src / "embed.safetensors"))["embed.weight"].float()
    model = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    memory = Memory.load(src)
    packed, reports = {}, {}
    for name, kw in variants.items():
        jcfg = JudgeConfig(d_latent=cfg.d_latent, width=model.minilm.width, **kw.pop("cfg", {}))

        def log(step, rec, name=name):
            if "val_judge@1" in rec:
                print(name, step, {k: round(v, 3) for k, v in rec.items()}, flush=True)

        judge, rep = train_judge(model, tok, memory, jcfg, log=log, **kw)
        packed.update({f"{name}/{k}": v.detach().half().cpu().contiguous() for k, v in judge.state_dict().items()})
        reports[name] = {**rep, "cfg": vars(jcfg)}
        save_file(packed, str(out / "judges.safetensors"))  # after each variant: a timeout keeps the finished ones
        (out / "reports.json").write_text(json.dumps(reports, indent=1))
    print("| variant | held-out judge@1 | nearest@1 | last loss | s |")
    for name, rep in reports.items():
        print(
            f"| {name} | {rep['val_judge@1']:.2f} | {rep['val_nearest@1']:.2f} | {rep['last_loss']:.3f} | "
            f"{rep['seconds']:.0f} |"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("model", type=Path)
    p.add_argument("out", type=Path)
    t = sub.add_parser("train")
    t.add_argument("src", type=Path)
    t.add_argument("out", type=Path)
    t.add_argument("variants", help='JSON: {"name": {"steps": 9000, "cfg": {"d_ff": 384}}, ...}')
    a = ap.parse_args()
    if a.cmd == "prepare":
        prepare(a.model, a.out)
    else:
        train(a.src, a.out, json.loads(a.variants))
