"""The argmax head's tilings at one request (320 rows) and 256 requests (81,920 rows) of the small preset, on the GPU:
how plan() was chosen. Usage: python benchmarks/argmax_head_configs.py [--grid]

Three figures per tiling: do_bench's median (what `cfusion bench` reports: one call after a cache flush); the GPU
time per call inside a CUDA graph of 20 calls, as the sampling loop runs it (no launch cost); and the host's time per
call over 200 calls launched back to back (an upper bound on the launch cost). torch.compile of the reference is timed
in the same run.
"""

from __future__ import annotations

import itertools
import time

import torch
import triton.testing

from cfusion.core.graphs import capture
from cfusion.kernels import argmax_head_ref, argmax_head_triton, argmax_rows_triton


def graph_us(fn, dev) -> float:
    graph, _ = capture(lambda: [fn() for _ in range(20)], dev)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    graph.replay()
    start.record()
    for _ in range(10):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return 1000 * start.elapsed_time(end) / 200


def host_us(fn) -> float:
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(200):
        fn()
    wall = time.perf_counter() - t
    torch.cuda.synchronize()
    return 1e6 * wall / 200


def table(M: int, dev: torch.device, grid: bool) -> None:
    h = torch.randn(M, 128, device=dev, dtype=torch.bfloat16)
    w = torch.randn(8000, 128, device=dev, dtype=torch.bfloat16) / 128**0.5
    b = torch.randn(8000, device=dev, dtype=torch.bfloat16)
    want = argmax_head_ref(h.float(), w.float(), b.float())[0]
    comp = torch.compile(argmax_head_ref, dynamic=False)
    ids_only = torch.compile(lambda h, w, b: torch.nn.functional.linear(h, w, b).argmax(-1), dynamic=False)
    rows = [
        ("torch.compile", lambda: comp(h, w, b)),
        ("default plan", lambda: argmax_head_triton(h, w, b)),
        ("ids only: torch.compile of linear + argmax", lambda: (ids_only(h, w, b),)),
        ("ids only: default plan (argmax_rows_triton)", lambda: (argmax_rows_triton(h, w, b),)),
    ]
    if not grid:
        tilings = []
    elif M <= 4096:
        tilings = itertools.product((16, 32, 64), (64, 128, 256), (132, 264, 528), (4,))
    else:
        tilings = itertools.product((64, 128), (64, 128, 256), (256,), (4, 8))
    for bm, bv, programs, warps in tilings:
        cfg = dict(block_m=bm, block_v=bv, programs=programs, warps=warps)
        rows.append(
            (f"BM {bm} BV {bv} programs {programs} warps {warps}", lambda cfg=cfg: argmax_head_triton(h, w, b, cfg))
        )
    print(f"\n| {M} rows | do_bench µs | in a graph µs | host µs | ids equal |")
    print("|---|---|---|---|---|")
    for name, fn in rows:
        try:
            same = "" if "torch.compile" in name else str(bool((fn()[0] == want).float().mean() > 0.99))
            us = 1000 * triton.testing.do_bench(fn, warmup=25, rep=50, return_mode="median")
            print(f"| {name} | {us:.1f} | {graph_us(fn, dev):.1f} | {host_us(fn):.1f} | {same} |", flush=True)
        except Exception as e:  # noqa: BLE001 - a tiling that does not fit (shared memory) is reported, not fatal
            print(f"| {name} | fails: {type(e).__name__} | | | |", flush=True)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", action="store_true", help="every tiling, not only the default plan")
    grid = ap.parse_args().grid
    dev = torch.device("cuda")
    print("card:", torch.cuda.get_device_name(), "torch", torch.__version__, "triton", triton.__version__)
    for M in (320, 81920):
        table(M, dev, grid)


if __name__ == "__main__":
    main()
