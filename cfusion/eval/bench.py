"""Benchmarks behind `cfusion bench`: each fused op against its torch alternatives, and generation end to end
against the eager torch loop and an autoregressive encoder-decoder of about the same size.

Every timing is a median (triton.testing.do_bench on CUDA: warm-up, synchronised, cache flushed), with the
baseline timed in the same run. Figures carry the fraction of the H100 ceilings measured on the lent card.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from cfusion import kernels
from cfusion.core.config import DEFAULT_CODE_LEN, ModelConfig, preset
from cfusion.core.diffusion import Schedule
from cfusion.errors import CfusionError

PEAK_BW = 3.0e12  # bytes/s, H100 copy ceiling measured on the lent card
PEAK_FLOPS = 790e12  # bf16 matmul ceiling measured on the lent card


def timed(fn: Callable[[], object], device: str, reps: int = 50) -> float:
    """Median milliseconds of fn()."""
    if device == "cuda":
        import triton.testing

        return float(triton.testing.do_bench(fn, warmup=25, rep=reps, return_mode="median"))
    fn()
    times = []
    for _ in range(max(3, reps // 10)):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def _compiled(fn, device: str):
    """torch.compile of fn on CUDA; None on the CPU, where Inductor's C++ build takes longer than the benchmark."""
    if device != "cuda":
        return None
    try:
        return torch.compile(fn, dynamic=False)
    except Exception:  # noqa: BLE001 - a backend that cannot compile is reported as missing, not fatal
        return None


def _row(op: str, shape: str, impl: str, ms: float | None, nbytes: float = 0, flops: float = 0, note: str = ""):
    row = {"op": op, "shape": shape, "impl": impl, "ms": None if ms is None else round(ms, 4), "note": note}
    if ms:
        if nbytes:
            row["GB/s"] = round(nbytes / ms / 1e6, 1)
            row["of_peak"] = round(nbytes / (ms / 1e3) / PEAK_BW, 3)
        if flops:
            row["TFLOP/s"] = round(flops / ms / 1e9, 2)
            row["of_peak"] = round(flops / (ms / 1e3) / PEAK_FLOPS, 4)
    return row


def _try(fn, device: str) -> tuple[float | None, str]:
    try:
        return timed(fn, device), ""
    except Exception as e:  # noqa: BLE001 - e.g. an SDPA backend that rejects the mask
        return None, f"fails: {type(e).__name__}: {str(e).splitlines()[0][:60] if str(e) else ''}"


def bench_noise_update(cfg: ModelConfig, rows: int, device: str, dtype: torch.dtype) -> list[dict]:
    n, d = cfg.max_len, cfg.d_latent
    x, x0 = (torch.randn(rows, n, d, device=device, dtype=dtype) for _ in range(2))
    _, coefs = Schedule(cfg.diffusion_steps).step_table(50)
    coefs = coefs.to(device)
    step = torch.randint(0, 49, (rows,), device=device)
    nbytes = 3 * x.numel() * x.element_size()  # read x_t and x0_hat, write x_next
    shape = f"{rows}x{n}x{d}"
    ref = lambda: kernels.noise_update_ref(x, x0, None, coefs, step)  # noqa: E731
    out = [_row("noise_update", shape, "torch eager", timed(ref, device), nbytes)]
    comp = _compiled(kernels.noise_update_ref, device)
    if comp is not None:
        ms, note = _try(lambda: comp(x, x0, None, coefs, step), device)
        out.append(_row("noise_update", shape, "torch.compile", ms, nbytes, note=note))
    if device == "cuda":
        ms = timed(lambda: kernels.noise_update_triton(x, x0, None, coefs, step), device)
        out.append(_row("noise_update", shape, "triton", ms, nbytes))
        ms = timed(lambda: x.clone(), device)
        out.append(_row("noise_update", shape, "copy of x (ceiling)", ms, 2 * x.numel() * x.element_size()))
    return out


def bench_cross_attention(cfg: ModelConfig, rows: int, device: str, dtype: torch.dtype) -> list[dict]:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    H, dh, n = cfg.n_heads, cfg.d_model // cfg.n_heads, cfg.max_len
    S = 2 * cfg.max_request_len  # MiniLM memory and the literal stream, packed
    g = torch.Generator().manual_seed(0)
    q = torch.randn(rows, H, n, dh, generator=g).to(device, dtype)
    k, v = (torch.randn(rows, H, S, dh, generator=g).to(device, dtype) for _ in range(2))
    lens = torch.randint(S // 8, S // 2, (rows,), generator=g).to(device)  # typical requests: far below S
    flops = 4 * H * n * dh * float(lens.sum())  # useful work: QK^T and PV over the valid keys only
    shape = f"{rows}x{H}x{n}x{S}x{dh}"
    ms = timed(lambda: kernels.cross_attention_ref(q, k, v, lens), device)
    out = [_row("cross_attention", shape, "torch eager (SDPA, default)", ms, flops=flops)]
    backends = {"math": SDPBackend.MATH, "efficient": SDPBackend.EFFICIENT_ATTENTION}
    if device == "cuda":
        backends.update({"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION})
    for name, backend in backends.items():

        def run(backend=backend):
            with sdpa_kernel(backend):
                return kernels.cross_attention_ref(q, k, v, lens)

        ms, note = _try(run, device)
        out.append(_row("cross_attention", shape, f"SDPA {name}", ms, flops=flops, note=note or ""))
    comp = _compiled(kernels.cross_attention_ref, device)
    if comp is not None:
        ms, note = _try(lambda: comp(q, k, v, lens), device)
        out.append(_row("cross_attention", shape, "torch.compile", ms, flops=flops, note=note))
    if device == "cuda":
        ms = timed(lambda: kernels.cross_attention_triton(q, k, v, lens), device)
        out.append(_row("cross_attention", shape, "triton", ms, flops=flops))
    return out


def bench_argmax_head(cfg: ModelConfig, rows: int, device: str, dtype: torch.dtype) -> list[dict]:
    M, d, V = rows * cfg.max_len, cfg.d_latent, cfg.vocab_size
    h = torch.randn(M, d, device=device, dtype=dtype)
    w = torch.randn(V, d, device=device, dtype=dtype) / d**0.5
    b = torch.randn(V, device=device, dtype=dtype)
    flops = 2 * M * V * d
    shape = f"{M}x{d}->{V}"

    def matmul_argmax():
        return F.linear(h, w, b).argmax(-1)

    ms = timed(lambda: kernels.argmax_head_ref(h, w, b), device)
    out = [
        _row("argmax_head", shape, "torch matmul+argmax (no score)", timed(matmul_argmax, device), flops=flops),
        _row("argmax_head", shape, "torch eager (ids + score)", ms, flops=flops),
    ]
    comp = _compiled(kernels.argmax_head_ref, device)
    if comp is not None:
        ms, note = _try(lambda: comp(h, w, b), device)
        out.append(_row("argmax_head", shape, "torch.compile (ids + score)", ms, flops=flops, note=note))
    if device == "cuda":
        ms = timed(lambda: kernels.argmax_head_triton(h, w, b), device)
        out.append(_row("argmax_head", shape, "triton (ids + score)", ms, flops=flops))
    return out


OPS = {"noise_update": bench_noise_update, "cross_attention": bench_cross_attention, "argmax_head": bench_argmax_head}


def bench_kernels(presets: list[str], device: str, ops: list[str] | None = None) -> list[dict]:
    """Every op (or those named) at the preset's shapes: one request with k = 5, and 256 requests with k = 5."""
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    rows = []
    for name in presets:
        cfg = preset(name)
        for r in (5, 1280):
            for op in ops or list(OPS):
                for row in OPS[op](cfg, r, device, dtype):
                    rows.append({"preset": name, **row})
    return rows


def op_main(op: str) -> None:
    """The body of benchmarks/bench_<op>.py: one op at the small and base shapes, one JSON line per row."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description=f"Times {op} against its torch alternatives.")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    for row in bench_kernels(["small", "base"], ap.parse_args().device, [op]):
        print(json.dumps(row))


# ---- end to end --------------------------------------------------------------------------------------------------
RANDOM_MEMORY = 10085  # pairs in the random stand-in memory: the shipped Bash memory's size


def load_generator(
    model_path, preset_name: str, device: str, kernels_mode: str, graphs: bool, recall: bool = False, lang: str = ""
):
    """A Generator over the model at model_path, or over a randomly initialised model of the preset that generates
    `lang` (speed does not depend on the weights; its tokenizer is a stand-in, so its candidates are noise). recall:
    with the model's memory, reranker and ranking weights, or a random memory of RANDOM_MEMORY pairs and an untrained
    reranker when it has none; neither for a model without MiniLM."""
    import torch.nn.functional as F

    from cfusion.core.bundle import load_model
    from cfusion.core.model import CodeFusion
    from cfusion.core.tokenizer import CodeTokenizer
    from cfusion.pipeline.generator import Generator, load_recall
    from cfusion.pipeline.rank import RankWeights
    from cfusion.recall.memory import Memory, dequantize, quantize
    from cfusion.recall.reranker import RerankConfig, Reranker

    memory = reranker = sketch = None
    weights = RankWeights()
    if model_path is not None:
        model, tok, folder = load_model(model_path, device)
        memory, reranker, sketch = load_recall(folder, model.minilm) if recall else (None, None, None)
        weights = RankWeights.load(folder)
    else:
        cfg = preset(preset_name, max_code_len={lang: DEFAULT_CODE_LEN})
        tok = CodeTokenizer.train(["find . -name '*.txt'", "ls -la /tmp", "grep -r foo ."] * 50, 300)
        torch.manual_seed(0)
        model = CodeFusion(cfg).to(device)
    if recall and memory is None and model.minilm is not None:  # recall searches by MiniLM sentence vectors
        n = RANDOM_MEMORY
        vectors = dequantize(*quantize(F.normalize(torch.randn(n, model.minilm.width), dim=-1)))
        memory = Memory([f"request {i}" for i in range(n)], [f"ls -l dir{i}" for i in range(n)], [lang] * n, vectors)
    if memory is not None and reranker is None:  # timed with an untrained reranker of the shipped shape
        reranker = Reranker(RerankConfig(width=model.minilm.width), model.minilm).merge()
    return Generator(model, tok, kernels_mode, graphs, memory, reranker, sketch, weights)


REQUEST = "find all txt files under the current directory and delete them"


def first_language(gen) -> str:
    """The first language the generator's model was trained for: the one timed."""
    if not gen.cfg.max_code_len:
        raise CfusionError("the model was trained for no language", hint="time a trained model with --model")
    return next(iter(gen.cfg.max_code_len))


def latency(gen, k: int, steps: int, reps: int, requests: tuple[str, ...] = (REQUEST,), **options) -> dict:
    """p50/p95 wall milliseconds of one request (host to host: tokenising, encoding, denoising, decoding, ranking),
    taking the requests in turn, in the model's first language; options go to Generator.generate."""
    lang = first_language(gen)
    gen.generate(requests[:1], lang, k=k, steps=steps, **options)  # warm-up: Triton compiles, graphs are captured
    times = []
    for i in range(reps):
        if gen.device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        gen.generate([requests[i % len(requests)]], lang, k=k, steps=steps, seed=i, **options)
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return {"p50_ms": round(times[len(times) // 2], 2), "p95_ms": round(p95, 2)}


def throughput(gen, batch: int, k: int, steps: int, reps: int = 3) -> float:
    """Requests per second at a large batch."""
    reqs, lang = [f"{REQUEST} number {i}" for i in range(batch)], first_language(gen)
    gen.generate(reqs, lang, k=k, steps=steps)
    t = time.perf_counter()
    for i in range(reps):
        gen.generate(reqs, lang, k=k, steps=steps, seed=i)
    return round(reps * batch / (time.perf_counter() - t), 1)


def autoregressive(device: str, n_tokens: int, reps: int) -> list[dict]:
    """A transformers BART of about 48 M parameters (small + MiniLM: 44.7 M) generating exactly n_tokens, greedy
    and beam 5, one request. A baseline that cannot run (transformers missing or broken) is reported as such: a row
    with no timing and the reason."""
    try:
        return _autoregressive(device, n_tokens, reps)
    except Exception as e:  # any failure of a third-party baseline: report it, keep the run
        reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        return [{"impl": "autoregressive BART", "p50_ms": None, "note": f"not run ({reason})"}]


def _autoregressive(device: str, n_tokens: int, reps: int) -> list[dict]:
    from transformers import BartConfig, BartForConditionalGeneration

    cfg = BartConfig(
        vocab_size=8000, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=256,
    )  # fmt: skip
    model = BartForConditionalGeneration(cfg).to(device).eval()
    if device == "cuda":
        model = model.to(torch.bfloat16)
    n_params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(4, 8000, (1, 16), device=device)
    out = []
    for name, beams in (("greedy", 1), ("beam 5", 5)):

        def run(beams=beams):
            with torch.no_grad():
                model.generate(ids, max_new_tokens=n_tokens, min_new_tokens=n_tokens, num_beams=beams, do_sample=False)

        ms = timed(run, device, reps=reps * 10)
        out.append({"impl": f"autoregressive BART {n_params / 1e6:.1f}M, {name}", "p50_ms": round(ms, 2)})
    return out


def bench_end_to_end(
    model_path, preset_name: str, device: str, steps: int, reps: int, batch: int, mode: str = "auto", lang: str = ""
) -> list[dict]:
    """Latency at k = 1 and 5 and throughput of each generation path (eager torch; on CUDA, CUDA graphs with torch
    and with the Triton kernels; the last with recall), then the autoregressive baseline; `lang` names the random
    model's language when there is no model."""
    variants = [("torch eager", "torch", False)]
    if device == "cuda":
        variants += [("torch + CUDA graph", "torch", True), ("triton + CUDA graph", "triton", True)]
    variants = [v for v in variants if mode == "auto" or v[1] == mode]
    variants = [(*v, False) for v in variants] + [(f"{variants[-1][0]} + recall", *variants[-1][1:], True)]
    rows = []
    n = None
    for name, mode, graphs, recall in variants:
        gen = load_generator(model_path, preset_name, device, mode, graphs, recall, lang)
        if recall and gen.memory is None:
            continue
        n = gen.cfg.max_code_len[first_language(gen)]
        row = {"impl": name, "steps": steps}
        for k in (1, 5):
            lat = latency(gen, k, steps, reps)
            row[f"k{k}_p50_ms"], row[f"k{k}_p95_ms"] = lat["p50_ms"], lat["p95_ms"]
        row[f"req_per_s_batch{batch}"] = throughput(gen, batch, 1, steps)
        rows.append(row)
        del gen
    rows += autoregressive(device, n, reps)
    return rows
