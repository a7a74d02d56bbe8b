"""Writes the compact Python and CF files the GPU runs read, from ../shared/data, into a folder (default .carry).

Usage: python benchmarks/make_lang_data.py SHARED OUT [PY_STDLIB]
For LANG in python, cf:
- LANG_train.jsonl / LANG_dev.jsonl: the CodeFusion train split cut in two by a seeded shuffle (a tenth is dev).
  Every model, weight and checkpoint choice is made on dev; the model never trains on it.
- LANG_dev_clean.jsonl: the dev pairs whose Stack Overflow question has no pair in train (Python: 132 of 238; CF
  ids name no question, so all of dev). Python's choices are read on it: a dev pair whose question has train pairs
  is nearly answered by lookup, and no test pair's question is in train.
- LANG_full.jsonl: the whole train split, the shipped memory once the choices are made.
- LANG_test.jsonl: the CodeFusion test split, scored once for the report.
- LANG_swap.jsonl: three copies of each train pair whose code shares values with its request, the values swapped for
  others (cfusion.data.augment.swap_literals): fine-tuning data that only copying explains.
- cf_synth.jsonl: synthetic CF pairs (cfusion.langs.cf.synth), requests drawn from a grammar of phrasings written
  without reading any dev or test set, for rules of every function the interpreter knows and for the pre-training
  rules. Generic rules such as `Blanks()` coincide with dev and test references; no request does.
- LANG_pretrain.txt: pre-training code, one snippet per line, none equal to a test or dev reference.
  Python: one-line statements of the standard library at PY_STDLIB (`cfusion data snippets`), then the train
  snippets. CF: the unique lines of ConditionalFormattingSnippets.txt, then the train rules.
"""

import random
import sys
from pathlib import Path

from cfusion.data.augment import swap_literals
from cfusion.data.codefusion import import_codefusion
from cfusion.data.decontaminate import normal_code
from cfusion.data.pairs import Pair, write_jsonl
from cfusion.langs.cf.synth import synth_pairs
from cfusion.langs.python.snippets import extract_python_snippets

DEV_SHARE, SEED = 0.1, 0
SYNTH = 20_000  # synthetic CF pairs: about 8 times the train split with its swapped copies


def split_dev(pairs: list, share: float = DEV_SHARE, seed: int = SEED) -> tuple[list, list]:
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    dev = set(order[: round(share * len(pairs))])
    return [p for i, p in enumerate(pairs) if i not in dev], [p for i, p in enumerate(pairs) if i in dev]


def main() -> None:
    shared, out = Path(sys.argv[1]), Path(sys.argv[2])
    stdlib = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    out.mkdir(parents=True, exist_ok=True)
    cf = shared / "codefusion"
    for lang, bench, conala in (
        ("python", "PythonBenchmarks.json", shared / "conala"),
        ("cf", "CFRuleBenchmarks.json", None),
    ):
        full, test = import_codefusion(cf / bench, "train", conala), import_codefusion(cf / bench, "test", conala)
        train, dev = split_dev(full)
        for name, pairs in (("train", train), ("dev", dev), ("full", full), ("test", test)):
            write_jsonl(pairs, out / f"{lang}_{name}.jsonl")
        # CoNaLa holds several pairs per Stack Overflow question (id QUESTION-N), and the test split shares no question
        # with train: dev_clean keeps the dev pairs whose question has no train pair, the held-out set choices need.
        questions = {p.id.split("-")[0] for p in train if p.id}
        clean = [p for p in dev if not p.id or p.id.split("-")[0] not in questions]
        write_jsonl(clean, out / f"{lang}_dev_clean.jsonl")
        write_jsonl(swap_literals(train, copies=3, seed=SEED), out / f"{lang}_swap.jsonl")
        held = {normal_code(p.code) for p in test + dev}
        if lang == "python":
            snippets = extract_python_snippets(stdlib) if stdlib else []
        else:
            snippets = [s.strip() for s in open(cf / "ConditionalFormattingSnippets.txt", encoding="utf-8")]
        lines = dict.fromkeys(s for s in snippets + [p.code for p in train] if s and "\n" not in s)
        kept = [s for s in lines if normal_code(s) not in held]
        (out / f"{lang}_pretrain.txt").write_text("\n".join(kept) + "\n")
        if lang == "cf":
            synth = [Pair(nl, code, "cf", f"synth-{i}") for i, (nl, code) in enumerate(synth_pairs(SYNTH, SEED, kept))]
            write_jsonl(synth, out / "cf_synth.jsonl")
        print(
            f"{lang}: {len(train)} train / {len(dev)} dev / {len(test)} test; pre-training {len(kept)} lines "
            f"({len(lines) - len(kept)} equal to a dev or test reference dropped)"
        )


if __name__ == "__main__":
    main()
