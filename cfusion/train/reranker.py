"""Training the reranker (cfusion.recall.reranker) on the main pairs of a model's memory, leave-one-out: each known
request ranks its nearest other known requests by how well their commands answer it (the language's main metric,
plus a bonus for the same command), by a listwise softmax loss."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from cfusion import langs
from cfusion.core.tokenizer import RequestTokenizer
from cfusion.recall.reranker import RerankConfig, Reranker, known_side, pair_batch


def target(code: str, gold: str, lang: str) -> float:
    """How good `code` is as an answer whose reference is `gold`: the language's main metric (Language.match)."""
    return langs.get(lang).match(code, [gold])


def leave_one_out_lists(memory, r: int, exact: float = 0.0) -> list[tuple[list[int], list[float]]]:
    """For each known pair: its r nearest other pairs of its language (best first, one per distinct command) and
    their commands' targets against its own command, plus `exact` when a command equals its own."""
    out: list = [None] * len(memory)
    for lang in sorted(set(memory.langs)):
        rows = [i for i, x in enumerate(memory.langs) if x == lang]
        for start in range(0, len(rows), 1024):
            chunk = rows[start : start + 1024]
            _, near = memory.search(memory.vectors[chunk], r + 1, lang)
            for i, js in zip(chunk, near.tolist()):
                kept, seen = [], set()
                for j in js:
                    if j != i and memory.codes[j] not in seen:  # not itself; one per distinct command
                        seen.add(memory.codes[j])
                        kept.append(j)
                gold, codes, pack = memory.codes[i], [memory.codes[j] for j in kept], langs.get(lang)
                out[i] = (kept, [target(c, gold, lang) + exact * pack.exact(c, [gold]) for c in codes])
    return out


def listwise_loss(scores, targets, owner, temperature: float) -> torch.Tensor:
    """Mean over requests of the cross-entropy between softmax(targets / T) and softmax(scores) over each request's
    candidates. scores, targets, owner: (N,), candidates grouped by owner 0..B-1."""
    B = int(owner.max()) + 1
    counts = torch.bincount(owner, minlength=B)
    slot = torch.arange(len(owner), device=owner.device) - (torch.cumsum(counts, 0) - counts)[owner]
    grid = torch.full((B, int(counts.max())), float("-inf"), device=scores.device)
    s = grid.index_put((owner, slot), scores)
    t = grid.index_put((owner, slot), targets / temperature)
    p = F.softmax(t, 1)
    return -(p * F.log_softmax(s, 1).masked_fill(p == 0, 0)).sum(1).mean()


def train_reranker(
    minilm: nn.Module,
    memory,
    cfg: RerankConfig | None = None,
    steps: int = 3000,
    batch: int = 32,
    neighbours: int = 20,
    lr: float = 3e-4,
    holdout: float = 0.05,
    temperature: float = 0.1,
    exact: float = 1.0,
    seed: int = 0,
    log: Callable[[int, dict], None] | None = None,
) -> tuple[Reranker, dict]:
    """Train a reranker on `memory`'s main pairs leave-one-out (see the module docstring; extra pairs are left out:
    with them it ranked no better, benchmarks/notebook/), on minilm's device. A `holdout` share
    of the known requests is kept out of training; the report gives template match @1 there, by the reranker and by
    similarity alone. exact: a bonus on top of the template match for a command equal to the request's own, so that
    arguments count too."""
    dev = next(minilm.parameters()).device
    cfg = cfg or RerankConfig(width=minilm.width)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    memory = memory.main()
    lists = leave_one_out_lists(memory, neighbours, exact)
    order = list(range(len(memory)))
    rng.shuffle(order)
    n_val = int(holdout * len(order)) if len(order) >= 40 else 0
    val, fit = order[:n_val], [i for i in order[n_val:] if lists[i][0]]
    req_tok = RequestTokenizer(cfg.max_len)
    pieces = req_tok.pieces(memory.requests)
    known = req_tok.pieces([known_side(cfg, r, c) for r, c in zip(memory.requests, memory.codes)])
    net = Reranker(cfg, minilm).to(dev).train()
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    amp = torch.autocast("cuda", torch.bfloat16) if dev.type == "cuda" else torch.autocast("cpu", enabled=False)

    def scores(rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores (N,) of each row's recalled pairs, and each pair's row (N,)."""
        owner = torch.tensor([r for r, i in enumerate(rows) for _ in lists[i][0]], device=dev)
        firsts = [pieces[i] for i in rows for _ in lists[i][0]]
        seconds = [known[j] for i in rows for j in lists[i][0]]
        with amp:
            return net(*pair_batch(req_tok, firsts, seconds, cfg.max_len, dev)).float(), owner

    def evaluate() -> dict:
        net.eval()
        by_net, by_sim = [], []
        with torch.no_grad():
            for s in range(0, len(val), 128):
                rows = [i for i in val[s : s + 128] if lists[i][0]]
                if not rows:
                    continue
                sc, k = scores(rows)[0].tolist(), 0
                for i in rows:
                    t = [min(x, 1.0) for x in lists[i][1]]  # template match alone (the exact bonus comes on top of 1)
                    mine = sc[k : k + len(t)]
                    k += len(t)
                    by_net.append(t[max(range(len(t)), key=mine.__getitem__)])
                    by_sim.append(t[0])
        net.train()
        n = max(1, len(by_net))
        return {"val_rerank@1": 100 * sum(by_net) / n, "val_nearest@1": 100 * sum(by_sim) / n}

    t0, losses = time.time(), []
    for step in range(1, steps + 1):
        rows = [fit[rng.randrange(len(fit))] for _ in range(batch)]
        s, owner = scores(rows)
        targets = torch.tensor([t for i in rows for t in lists[i][1]], device=dev)
        loss = listwise_loss(s, targets, owner, temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log is not None and (step % 100 == 0 or step == steps):
            rec = {"loss": sum(losses[-100:]) / len(losses[-100:]), "seconds": time.time() - t0}
            if val and (step % 500 == 0 or step == steps):
                rec.update(evaluate())
            log(step, rec)
    report = {
        "steps": steps,
        "known": len(memory),
        "first_loss": losses[0],
        "last_loss": sum(losses[-50:]) / len(losses[-50:]),
    }
    if val:
        report.update(evaluate())
    report["seconds"] = time.time() - t0
    return net.eval(), report
