#!/bin/bash
# Before/after on one GPU machine (the `device` tool), same weights and data: the full `cfusion eval` (seed 0) of each
# tree, then `cfusion bench --what e2e` of each, and a summary (identical top-5 lists, metrics, timings).
# Prepare here, in the repo root (.carry and .whl are git-ignored and carried):
#   pip install --no-deps --no-build-isolation --target .carry/before_pkg <old tree>; likewise .carry/after_pkg;
#   delete cfusion/weights from both (the repo's own weights folder is used);
#   PYTHONSAFEPATH=1 python benchmarks/carry_minilm.py .carry/minilm_z .carry/bash_test.jsonl;
#   tree-sitter 0.22 and tree-sitter-bash 0.21 wheels for CPython 3.12, manylinux x86-64, in .whl.
# Run there: bash benchmarks/ab_gpu.sh   (carry: .carry, .whl)
set -u
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
mkdir -p /tmp/minilm && cp .carry/minilm_z/*.json .carry/minilm_z/vocab.txt /tmp/minilm/
gunzip -c .carry/minilm_z/model.safetensors.gz > /tmp/minilm/model.safetensors
export CFUSION_MINILM_PATH=/tmp/minilm
R=$PWD; W=$R/cfusion/weights/bash; D=$R/.carry/bash_test.jsonl
nvidia-smi --query-gpu=name --format=csv,noheader
cf() { local pkg=$1; shift; (cd /tmp && PYTHONPATH=$R/.carry/$pkg:/tmp/site python -c "from cfusion.cli.main import main; main()" "$@"); }
for v in before_pkg after_pkg; do
  cf $v eval --model $W --data $D -k 5 --batch-size 256 --device cuda --seed 0 --out /tmp/ev_$v --json > $OUT/eval_$v.json 2> /tmp/eval_$v.err || tail -5 /tmp/eval_$v.err
  gzip -c /tmp/ev_$v/predictions.jsonl > $OUT/pred_$v.jsonl.gz
done
for i in 1; do for v in before_pkg after_pkg; do
  echo "{\"run\": $i, \"tree\": \"$v\", \"result\": $(cf $v bench --what e2e --model $W --device cuda --json --reps 20 2>/tmp/bench.err || echo null)}" >> $OUT/bench.jsonl
  tail -2 /tmp/bench.err
done; done
python3 - <<'PY'
import gzip, json, os
out = os.environ["OUT"]
p = {v: [json.loads(l) for l in gzip.open(f"{out}/pred_{v}.jsonl.gz", "rt")] for v in ("before_pkg", "after_pkg")}
same = sum([c["code"] for c in a["candidates"]] == [c["code"] for c in b["candidates"]] for a, b in zip(p["before_pkg"], p["after_pkg"]))
print("identical top-5 lists:", same, "of", len(p["after_pkg"]))
for v in p:
    m = json.load(open(f"{out}/eval_{v}.json"))
    print(v, m["ms_per_request"], {k: m["metrics"][k] for k in ("template_match@1", "template_match@3", "template_match@5", "exact@1", "valid@1", "nlc2cmd@1")})
for l in open(f"{out}/bench.jsonl"):
    r = json.loads(l)
    for row in (r["result"] or {}).get("end_to_end", []):
        print(r["run"], r["tree"], {k: v for k, v in row.items() if k != "steps"})
PY
