"""CUDA-graph helpers: capture a function once, then replay it with one launch; the sampling loop as graphs."""

from __future__ import annotations

import torch

from cfusion.core.model import CodeFusion


def capture(fn, dev: torch.device) -> tuple[torch.cuda.CUDAGraph, object]:
    """fn() captured in a CUDA graph after two warm-up runs on a side stream (Triton compiles, the allocator
    settles); returns the graph and fn's output, which each replay rewrites in place."""
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(side):
        for _ in range(2):
            fn()
    torch.cuda.current_stream(dev).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, out


def widened(key: str, v: torch.Tensor) -> bool:
    """Whether a batch tensor has a request-token axis (axis 1), which StepGraph's buffers widen to max_request_len;
    a retrieval-aware model's neighbour tensors come in a fixed shape (Featurizer.neighbours)."""
    return v.dim() > 1 and not key.startswith("nb_")


class StepGraph:
    """The sampling loop captured in CUDA graphs over static buffers: `prepare` (the request memory and every layer's
    cross-attention keys and values), one denoising step replayed once per step, and the last step.

    At one request a step is ~100 small kernels, so launching them from Python costs more than running them; a
    replay launches all of them at once. Step index and timestep are read on the device from a counter the step
    itself advances, so the loop needs no host work but `replay()`. The last step (the denoiser, then the decoder
    and the argmax head once) and `prepare` are graphs too: run eagerly, each cost more host time than all the
    replayed steps. Requests are copied into input buffers of max_request_len tokens (padding keys are never read:
    attention takes each row's length).
    """

    def __init__(self, model: CodeFusion, batch: dict, k: int, n: int, n_steps: int, clamp: bool):
        cfg, dev = model.cfg, model.embed.weight.device
        self.model, self.clamp = model, clamp
        self.inp = {  # the batch's tensors, those with a token axis widened to max_request_len (neighbours: fixed)
            key: torch.ones(
                (v.shape[0], cfg.max_request_len, *v.shape[2:]) if widened(key, v) else v.shape,
                dtype=v.dtype,
                device=dev,
            )
            for key, v in batch.items()
        }
        self.prep, self.ctx = capture(lambda: model.prepare(self.inp, k), dev)  # what the steps read
        self.rows = rows = self.ctx["mem_len"].shape[0]
        self.x = torch.zeros(rows, n, cfg.d_latent, device=dev, dtype=model.embed.weight.dtype)
        self.ts = torch.zeros(n_steps, device=dev, dtype=torch.long)
        self.coefs = torch.zeros(n_steps, 3, device=dev, dtype=torch.float32)
        self.i = torch.zeros(1, device=dev, dtype=torch.long)
        self.graph, _ = capture(self._step, dev)
        self.last, self.out = capture(self._finish, dev)

    def _step(self) -> torch.Tensor:
        idx = self.i.expand(self.rows)
        t = self.ts.index_select(0, self.i).expand(self.rows)
        x0_hat = self.model.denoise_step(self.x, self.ctx, t, idx, self.coefs, self.clamp)
        self.i.add_(1)
        return x0_hat

    def _finish(self) -> tuple[torch.Tensor, torch.Tensor]:
        m, ctx = self.model, self.ctx
        x0_hat = m.denoiser(self.x, ctx["kv_n"], ctx["mem_len"], self.ts[-1:].expand(self.rows))
        return m.argmax(m.decoder(x0_hat, ctx["kv_d"], ctx["mem_len"]))

    def run(
        self, x: torch.Tensor, batch: dict, ts: list[int], coefs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """model.sample's prepare, loop and finish from x over the requests in `batch`: token ids and their
        log-probabilities."""
        for key, buf in self.inp.items():
            v = batch[key]
            (buf[:, : v.shape[1]] if widened(key, v) else buf).copy_(v)
        self.prep.replay()
        self.x.copy_(x)
        self.ts.copy_(torch.tensor(ts, dtype=torch.long), non_blocking=True)
        self.coefs.copy_(coefs, non_blocking=True)
        self.i.zero_()
        for _ in range(len(ts) - 1):
            self.graph.replay()
        self.last.replay()
        return self.out[0].clone(), self.out[1].clone()


class Replay:
    """A module's forward replayed from CUDA graphs, one per input shape (the caller pads inputs to few shapes).

    MiniLM on one request, or the reranker on 30 pairs, is ~100 small kernels whose launches from Python take longer
    than the GPU takes to run them; a replay launches them at once. Returns a copy of the output.
    """

    def __init__(self, fn):
        self.fn, self.graphs = fn, {}

    def __call__(self, *xs: torch.Tensor) -> torch.Tensor:
        key = tuple(x.shape for x in xs)
        if key not in self.graphs:
            ins = [x.clone() for x in xs]
            self.graphs[key] = (*capture(lambda: self.fn(*ins), xs[0].device), ins)
        graph, out, ins = self.graphs[key]
        for buf, x in zip(ins, xs):
            buf.copy_(x)
        graph.replay()
        return out.clone()
