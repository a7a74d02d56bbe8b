"""Writes the compact Bash files the GPU runs read, from ../shared/data, into a folder (default .carry).

Usage: python benchmarks/make_bash_data.py SHARED OUT
- bash_train.jsonl / bash_test.jsonl: the CodeFusion Bash splits (10,085 / 2,522 pairs).
- bash_pretrain.txt: pre-training code, one command per line: BashSnippets.txt, then the commands of tldr pages
  (common + linux), cheatsheets and NL2Bash, and the train split's commands. Every pair whose code or description
  occurs in the test split is dropped first, and so is any snippet equal to a test command.
- bash_extra_pairs.jsonl: the decontaminated tldr and cheatsheet (description, command) pairs, one-line commands
  only: candidate extra fine-tuning data (benchmarks/train_bash_gpu.py measures whether it helps).
- bash_extra_common.jsonl: those of them whose main utility (past sudo, xargs ...) is common, and those of shell
  syntax alone (importers.common_utility_pairs: in 5 or more BashSnippets commands, or in a train command): the
  shipped memory's extra pairs.
- dev/: the same files for choosing weights, rules and checkpoints (issue 36's protocol, cfusion/data/splits.py),
  with two dev sets held out of every one of them (training, pre-training code and memory alike):
  bash_dev.jsonl, 1,000 seeded pairs of the train split; bash_ood_dev.jsonl, the common-utility tldr and cheatsheet
  pairs of a seeded tenth of their pages (documentation wording, utilities the model may know).
"""

import sys
from pathlib import Path

from cfusion.data.codefusion import import_codefusion
from cfusion.data.decontaminate import decontaminate, normal_code
from cfusion.data.pairs import write_jsonl
from cfusion.data.splits import dev_split, heldout_pages, page, split_pages
from cfusion.langs.bash.importers import common_utility_pairs, import_cheatsheets, import_nl2bash, import_tldr

shared, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
bench = shared / "codefusion" / "BashBenchmarks.json"
train, test = import_codefusion(bench, "train"), import_codefusion(bench, "test")


def build(out: Path, train, test, held_out=()) -> dict:
    """Writes the training files of one folder: `test` and `held_out` (dev sets) are kept out of all of them."""
    out.mkdir(parents=True, exist_ok=True)
    protected = [*test, *held_out]
    codes = {normal_code(p.code) for p in protected}
    snippets = [s.strip() for s in open(shared / "codefusion" / "BashSnippets.txt") if s.strip()]
    kept_snippets = [s for s in snippets if normal_code(s) not in codes]
    lines = dict.fromkeys(kept_snippets)
    report = {"BashSnippets": f"{len(kept_snippets)} of {len(snippets)}"}
    extra = []
    for name, pairs in sources.items():
        kept, rep = decontaminate(pairs, protected)
        lines.update(dict.fromkeys(p.code for p in kept if "\n" not in p.code))
        report[name] = f"{rep['kept']} of {len(pairs)}"
        if name != "nl2bash":  # NL2Bash is where the CodeFusion splits come from: its pairs are the train split again
            extra += [p for p in kept if "\n" not in p.code]
    lines.update(dict.fromkeys(p.code for p in train))
    write_jsonl(train, out / "bash_train.jsonl")
    (out / "bash_pretrain.txt").write_text("\n".join(lines) + "\n")
    write_jsonl(extra, out / "bash_extra_pairs.jsonl")
    common = common_utility_pairs(extra, snippets, [p.code for p in train])
    write_jsonl(common, out / "bash_extra_common.jsonl")
    print(f"{out}: {len(train)} train pairs; pre-training: {len(lines)} unique commands")
    print(f"  extra fine-tuning pairs (tldr + cheatsheets): {len(extra)}; of common utilities: {len(common)}")
    print("  kept after decontamination: " + ", ".join(f"{k} {v}" for k, v in report.items()))
    return {"extra": extra, "common": common}


sources = {
    "tldr": import_tldr(shared / "tldr" / "pages"),
    "cheatsheets": import_cheatsheets(shared / "cheatsheets"),
    "nl2bash": import_nl2bash(shared / "nl2bash" / "all.nl", shared / "nl2bash" / "all.cm"),
}
release = build(out, train, test)
write_jsonl(test, out / "bash_test.jsonl")

# The dev folder: the OOD pages are drawn from the pairs the release memory would hold (common utilities), and
# every pair of those pages, common or not, leaves training and memory.
rest, dev = dev_split(train)
held = heldout_pages(sorted({page(p) for p in release["common"]} - {None}))
_, ood = split_pages(release["common"], held)
_, ood_all = split_pages(release["extra"], held)
sources = {name: split_pages(pairs, held)[0] for name, pairs in sources.items()}
build(out / "dev", rest, test, [*dev, *ood_all])
write_jsonl(dev, out / "dev" / "bash_dev.jsonl")
write_jsonl(ood, out / "dev" / "bash_ood_dev.jsonl")
print(f"dev: {len(dev)} pairs of the train split; out-of-domain dev: {len(ood)} pairs of {len(held)} pages")
