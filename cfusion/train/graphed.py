"""The training step in CUDA graphs: forward, backward, gradient clipping and AdamW replayed with one launch.

A fine-tuning step launches some 1,600 (`small`) to 2,600 (`base`) kernels, and launching them from Python takes
longer than the GPU takes to run them (benchmarks/train_step_gpu.py). Request tensors are padded to a bucket width
(a multiple of 16 tokens), so each (task, width) is captured once and replayed from then on. A replay computes what
the eager step (train_step) computes, on the same inputs: padding keys are never attended to, as attention takes
each row's length.
"""

from __future__ import annotations

import torch

from cfusion.core.tokenizer import PAD_ID

REQUEST_KEYS = ("enc_ids", "lit_ids")  # the tensors with a request-token axis, whose width varies by batch
STEP = 16  # bucket granularity: batches of 128 Bash requests pad 12 % past their longest (powers of two: 39 %)


def bucket(width: int, cap: int) -> int:
    """The smallest multiple of STEP >= width (at least STEP), at most cap."""
    return min(max(1, -(-width // STEP)) * STEP, cap)


def train_step(net, schedule, opt, params: list[torch.Tensor], clip: float, batch: dict, cache: bool = True) -> dict:
    """One optimizer step on `batch`: forward (bf16 autocast on CUDA), backward, gradient clipping, AdamW. Returns the
    loss terms and the gradient norm. GraphedStep captures this same step with `cache` off: the autocast cache would
    keep a bf16 copy of a weight made outside the graph, replayed stale."""
    cuda = params[0].is_cuda
    with torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=cuda, cache_enabled=cache):
        out = net(batch, schedule)
    opt.zero_grad(set_to_none=True)  # the backward writes fresh gradients (in a graph: into the graph's memory)
    out["loss"].backward()
    gnorm = torch.nn.utils.clip_grad_norm_(params, clip)
    opt.step()
    return {**out, "grad_norm": gnorm}


def pad_requests(batch: dict, cap: int) -> dict:
    """Pads every request-token tensor of a batch with PAD_ID to one bucket width (their lengths are unchanged)."""
    present = [k for k in REQUEST_KEYS if k in batch]
    if not present:
        return batch
    width = bucket(max(batch[k].shape[1] for k in present), cap)
    for k in present:
        v = batch[k]
        if v.shape[1] < width:
            batch[k] = torch.cat([v, v.new_full((v.shape[0], width - v.shape[1]), PAD_ID)], dim=1)
    return batch


class GraphedStep:
    """One CUDA graph per batch signature (task and shapes), each captured the first time it is met.

    `opt` must be AdamW(fused=True, capturable=True) with a tensor learning rate, so that a replay reads the rate of
    its step. Capturing needs warm-up steps (cuBLAS and Triton set-up, the optimizer's state); they run on the real
    batch, and the parameters, optimizer state and random state are put back afterwards, so capturing changes no
    weight and a resumed run replays the same steps.

    The graphs share one memory pool. That is safe because they never run at once and none keeps anything in the
    pool from one replay to the next: its inputs, the parameters and AdamW's state live outside it, and its outputs
    are read before another graph replays.
    """

    def __init__(self, net, schedule, opt: torch.optim.Optimizer, params: list[torch.Tensor], clip: float):
        self.net, self.schedule, self.opt, self.params, self.clip = net, schedule, opt, params, clip
        self.graphs: dict = {}
        self.pool = self.stream = None
        self.capture_s = 0.0  # time spent capturing, reported apart from the steady state

    @staticmethod
    def signature(batch: dict) -> tuple:
        return tuple(sorted((k, tuple(v.shape) if torch.is_tensor(v) else v) for k, v in batch.items()))

    def _fn(self, inp: dict) -> dict:
        return train_step(self.net, self.schedule, self.opt, self.params, self.clip, inp, cache=False)

    def _snapshot(self) -> tuple[list[torch.Tensor], dict]:
        state = {id(p): {k: v.clone() for k, v in s.items()} for p, s in self.opt.state.items()}
        return [p.detach().clone() for p in self.params], state

    def _restore(self, saved: tuple[list[torch.Tensor], dict]) -> None:
        params, state = saved
        with torch.no_grad():
            for p, v in zip(self.params, params):
                p.copy_(v)
            for p, s in self.opt.state.items():
                old = state.get(id(p))
                for k, v in s.items():
                    if old is None:  # state the warm-up made goes back to AdamW's initial zeros
                        v.zero_()
                    else:
                        v.copy_(old[k])

    def _capture(self, batch: dict) -> tuple:
        import time

        t0 = time.perf_counter()
        dev = self.params[0].device
        inp = {k: v.to(dev).clone() if torch.is_tensor(v) else v for k, v in batch.items()}
        saved, rng = self._snapshot(), torch.cuda.get_rng_state(dev)
        if self.stream is None:  # warm-ups and captures on one stream: autograd's gradient nodes keep theirs
            self.stream, self.pool = torch.cuda.Stream(dev), torch.cuda.graph_pool_handle()
        self.stream.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(self.stream):
            for _ in range(2):
                self._fn(inp)
        torch.cuda.current_stream(dev).wait_stream(self.stream)
        self._restore(saved)
        graph = torch.cuda.CUDAGraph()
        # thread_local: the data loader's pin-memory thread may allocate pinned memory while this thread captures
        with torch.cuda.graph(graph, pool=self.pool, stream=self.stream, capture_error_mode="thread_local"):
            out = self._fn(inp)
        torch.cuda.synchronize(dev)
        torch.cuda.set_rng_state(rng, dev)  # the replay that follows draws its dropout as an uncaptured step would
        self.capture_s += time.perf_counter() - t0
        return graph, inp, out

    def __call__(self, batch: dict) -> dict:
        """One training step on `batch` (tensors on the host or the device). Returns the loss terms and the gradient
        norm, which the next replay of the same graph overwrites."""
        key = self.signature(batch)
        if key not in self.graphs:
            self.graphs[key] = self._capture(batch)
        graph, inp, out = self.graphs[key]
        for k, v in batch.items():
            if torch.is_tensor(v):
                inp[k].copy_(v, non_blocking=True)
        graph.replay()
        return out
