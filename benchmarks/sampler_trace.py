"""Where the sampler goes wrong: token accuracy of a model's x0 estimates on known pairs, by noise level and by step.

First, teacher-forced as in training (x_t drawn from each pair's own code), the decoder and head's token accuracy at
fixed timesteps. Then the sampler itself (DDIM from pure noise, clamped as `gen` clamps): at each step, the share of
the code's tokens (pads excluded) that two readings of x0_hat get right, the nearest code embedding and the decoder
and head, and the share of commands the head reads exactly. RESULTS.md, "The sampler".

    PYTHONSAFEPATH=1 python benchmarks/sampler_trace.py .carry/bash_train.jsonl [--model M] [--n 65] [--steps 20]
"""

import argparse
from pathlib import Path

import torch

from cfusion import kernels
from cfusion.core.bundle import installed_model, load_model
from cfusion.core.diffusion import Schedule
from cfusion.core.features import Featurizer
from cfusion.data.pairs import read_pairs


def main(data: Path, model: Path, n: int, steps: int) -> None:
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    net, tok, _ = load_model(model)
    pairs = read_pairs(data, lang="bash")
    pairs = pairs[:: max(1, len(pairs) // n)][:n]
    feat, sched = Featurizer(net.cfg, tok), Schedule(net.cfg.diffusion_steps, net.cfg.schedule_offset)
    batch = feat.requests([p.nl for p in pairs])
    y = feat.code([p.code for p in pairs], "bash")
    B, T = len(pairs), net.cfg.diffusion_steps
    print(f"{B} pairs of {data}; teacher-forced token accuracy (pads included), as in training:")
    for t in (0, T // 4, T // 2, 3 * T // 4, T - T // 12, T - 1):
        noise = torch.randn(B, y.shape[1], net.cfg.d_latent)
        out = net({**batch, "code_ids": y, "t": torch.full((B,), t), "noise": noise}, sched)
        acc = 100 * float(out["tok_acc"])
        print(f"  t {t:5d}  alpha_bar {float(sched.alpha_bar[t]):.4f}  token accuracy {acc:5.1f}")
    ctx = net.prepare(batch, 1)
    ts, coefs = sched.step_table(steps)
    x = torch.randn(B, y.shape[1], net.cfg.d_latent, generator=torch.Generator().manual_seed(0))
    real = y != 0
    print(f"sampling, {steps} steps: % of code tokens read right (nearest embedding / decoder + head), exact")
    for i, t in enumerate(ts):
        tt = torch.full((B,), t)
        if i + 1 < len(ts):  # x0_hat of x as it was; x moves on in place
            x0_hat = net.denoise_step(x, ctx, tt, torch.full((B,), i), coefs, clamp=True)
        else:  # the last step only reads x0_hat
            x0_hat = net.denoiser(x, ctx["kv_n"], ctx["mem_len"], tt)
        nearest = kernels.argmax_rows(x0_hat, ctx["table"])
        head = net.read_tokens(x0_hat, ctx)
        acc = [100 * float(((ids == y) & real).sum() / real.sum()) for ids in (nearest, head)]
        exact = 100 * float((head == y).all(1).float().mean())
        print(f"  step {i:3d}  t {t:5d}  {acc[0]:5.1f} / {acc[1]:5.1f}  exact {exact:5.1f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="JSONL pairs, e.g. the train split the model learnt")
    ap.add_argument("--model", type=Path, default=None, help="a model folder (default: the shipped Bash model)")
    ap.add_argument("--n", type=int, default=65)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    main(a.data, a.model or installed_model("bash"), a.n, a.steps)
