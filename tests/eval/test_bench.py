"""`cfusion bench`'s baselines: one that cannot run is reported as such, with the same columns as the others."""

from __future__ import annotations

import sys

from cfusion.eval.bench import autoregressive


def test_an_autoregressive_baseline_that_cannot_run_is_a_row_without_timing(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `from transformers import ...` now raises ImportError
    (row,) = autoregressive("cpu", 8, 1)
    assert row["impl"] == "autoregressive BART" and row["p50_ms"] is None
    assert row["note"].startswith("not run (") and "transformers" in row["note"]
