"""Writes the Bash files benchmarks/core_gpu_run.py reads, from ../shared/data, into a folder (default .carry).

Minimal on purpose: the full importers come with `cfusion data`. Usage: python benchmarks/make_bash_data.py SHARED OUT
"""

import json
import sys
from pathlib import Path

shared, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
bench = json.loads((shared / "codefusion" / "BashBenchmarks.json").read_text())
for split in ("train", "test"):
    with open(out / f"bash_{split}.jsonl", "w") as f:
        for item in bench[split]:
            row = {
                "nl": item["NL Utterance"].strip(),
                "code": item["Code"].strip(),
                "lang": "bash",
                "id": str(item["ID"]),
            }
            f.write(json.dumps(row) + "\n")
snippets = dict.fromkeys(s.strip() for s in open(shared / "codefusion" / "BashSnippets.txt") if s.strip())
(out / "bash_snippets.txt").write_text("\n".join(snippets) + "\n")
# The train split's commands join pre-training; test commands never do.
(out / "bash_train_code.txt").write_text("\n".join(item["Code"].strip() for item in bench["train"]) + "\n")
print(f"{len(bench['train'])} train / {len(bench['test'])} test pairs, {len(snippets)} unique snippets -> {out}")
