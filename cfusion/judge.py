"""The judge: a small network that reads a request and a candidate command and scores how well one answers the other.

Recall finds known requests that *sound* like the new one (MiniLM sentence vectors), and MiniLM cannot tell
"empty directories" from "empty files" in a command. The judge reads the command itself: its tokens, embedded with
the model's frozen code embedding L, attend to each other and to MiniLM's states of the request, and the mean of
the last layer gives one score. It is trained on the model's own memory, leave-one-out: each known request ranks
the commands of its nearest *other* known requests, the situation of a new request at generation time, with the
benchmark's template match to its own command as the soft target (a listwise softmax loss).

Stored in the model folder as `judge.json` (its config) and `judge.safetensors` (fp16, about 1 MB).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from cfusion.checkpoint import load_tensors, read_json, save_tensors, write_text_atomic
from cfusion.errors import CheckpointError
from cfusion.features import pad
from cfusion.memory import request_states
from cfusion.metrics import exact_match, template_match
from cfusion.model import Block

NAME = "judge"


@dataclass
class JudgeConfig:
    d_model: int = 128
    n_heads: int = 4
    d_ff: int = 384
    n_layers: int = 2
    dropout: float = 0.1
    max_code_len: int = 48  # command tokens read; longer commands are judged on their start
    d_latent: int = 128  # width of the model's code embedding L, which the judge reads
    width: int = 384  # width of MiniLM's states

    def __post_init__(self):
        for name in ("d_model", "n_heads", "d_ff", "n_layers", "max_code_len", "d_latent", "width"):
            if getattr(self, name) <= 0:
                raise ValueError(f"JudgeConfig.{name} must be positive, got {getattr(self, name)!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"JudgeConfig.d_model must be a multiple of n_heads, got {self.d_model}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"JudgeConfig.dropout must be in [0, 1), got {self.dropout!r}")


class Judge(nn.Module):
    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.req = nn.Linear(cfg.width, d)
        self.inp = nn.Linear(cfg.d_latent, d)
        self.pos = nn.Embedding(cfg.max_code_len, d)
        self.blocks = nn.ModuleList(Block(cfg, cross=True) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, 1)

    def forward(self, hidden, req_len, emb, code_len, owner) -> torch.Tensor:
        """Scores (N,) of N candidates. hidden (B, S, width), req_len (B,): MiniLM's states of B requests;
        emb (N, L, d_latent), code_len (N,): the candidates' embedded tokens; owner (N,): each one's request."""
        mem = self.req(hidden)[owner]  # (N, S, d)
        mem_len = req_len[owner]
        x, lens = self.inp(emb) + self.pos.weight[: emb.shape[1]], code_len  # (N, L, d)
        for b in self.blocks:
            x = b(x, lens, b.cross.kv(mem), mem_len)
        keep = (torch.arange(x.shape[1], device=x.device)[None] < lens[:, None]).to(x.dtype)[..., None]
        pooled = (self.ln(x) * keep).sum(1) / lens[:, None].to(x.dtype)
        return self.out(pooled).squeeze(-1)

    def save(self, folder: Path) -> None:
        state = {k: v.detach().half().cpu() for k, v in self.state_dict().items()}
        save_tensors(state, folder, NAME)
        write_text_atomic(Path(folder) / f"{NAME}.json", json.dumps(dataclasses.asdict(self.cfg), indent=2))

    @classmethod
    def load(cls, folder: Path) -> Judge | None:
        """The judge saved in a model folder, or None when it has none."""
        folder = Path(folder)
        if not (folder / f"{NAME}.json").exists():
            return None
        try:
            cfg = JudgeConfig(**read_json(folder / f"{NAME}.json"))
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"bad judge config in {folder / f'{NAME}.json'}: {e}") from None
        judge = cls(cfg)
        state = load_tensors(folder, NAME)
        try:
            judge.load_state_dict({k: v.float() for k, v in state.items()})
        except RuntimeError as e:
            raise CheckpointError(f"judge weights in {folder} do not match judge.json: {str(e)[:200]}") from None
        return judge.eval()


def encode_codes(model, tok, codes: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Commands -> token ids (N, L) and lengths (N,) on the model's device (embedded by the judge's caller)."""
    ids, lens = pad([s[:max_len] for s in tok.encode_batch(codes)])
    dev = model.embed.weight.device
    return ids.to(dev), lens.to(dev)


@torch.no_grad()
def judge_scores(judge: Judge, model, tok, hidden, req_len, codes: list[list[str]]) -> list[list[float]]:
    """The judge's score of each request's candidate codes. hidden, req_len: MiniLM's states of the requests."""
    flat = [c for cs in codes for c in cs]
    if not flat:
        return [[] for _ in codes]
    owner = torch.tensor([r for r, cs in enumerate(codes) for _ in cs], device=hidden.device)
    ids, lens = encode_codes(model, tok, flat, judge.cfg.max_code_len)
    s = judge(hidden.float(), req_len, model.code_embed(ids).float(), lens, owner)
    out, i = [], 0
    for cs in codes:
        out.append(s[i : i + len(cs)].tolist())
        i += len(cs)
    return out


# --- training -------------------------------------------------------------------------------------------------


def target(code: str, gold: str, lang: str) -> float:
    """How good `code` is as an answer whose reference is `gold`: template match for Bash, exact match otherwise."""
    return template_match(code, [gold]) if lang == "bash" else exact_match(code, [gold], lang)


def leave_one_out_lists(memory, r: int) -> list[tuple[list[int], list[float]]]:
    """For each known pair: its r nearest other pairs of its language (best first, one per distinct command) and
    their commands' targets against its own command."""
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
                out[i] = (kept, [target(memory.codes[j], memory.codes[i], lang) for j in kept])
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


def train_judge(
    model,
    tok,
    memory,
    cfg: JudgeConfig | None = None,
    steps: int = 9000,
    batch: int = 64,
    neighbours: int = 20,
    lr: float = 1e-3,
    holdout: float = 0.05,
    temperature: float = 0.1,
    seed: int = 0,
    log: Callable[[int, dict], None] | None = None,
) -> tuple[Judge, dict]:
    """Train a judge on `memory` leave-one-out (see the module docstring). A `holdout` share of the known requests
    is kept out of training; the report gives template match @1 there, by the judge and by similarity alone."""
    from cfusion.tokenizer import RequestTokenizer

    dev = model.embed.weight.device
    cfg = cfg or JudgeConfig(d_latent=model.cfg.d_latent, width=model.minilm.width)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    lists = leave_one_out_lists(memory, neighbours)
    order = list(range(len(memory)))
    rng.shuffle(order)
    n_val = int(holdout * len(order)) if len(order) >= 40 else 0
    val, fit = order[:n_val], [i for i in order[n_val:] if lists[i][0]]
    req_tok = RequestTokenizer(model.cfg.max_request_len)
    states, state_len = request_states(model, req_tok, memory.requests)  # every known request, once (N, S, width)
    states = states.to(torch.bfloat16 if dev.type == "cuda" else torch.float32)
    code_ids, code_len = encode_codes(model, tok, memory.codes, cfg.max_code_len)
    judge = Judge(cfg).to(dev).train()
    opt = torch.optim.AdamW(judge.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )

    def scores(rows: list[int], cands: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """The judge's scores of each row's candidate pairs (N,), and each candidate's row (N,)."""
        owner = torch.tensor([r for r, cs in enumerate(cands) for _ in cs], device=dev)
        idx = torch.tensor([j for cs in cands for j in cs], device=dev)
        r = torch.tensor(rows, device=dev)
        S, L = int(state_len[r].max()), int(code_len[idx].max())
        emb = model.code_embed(code_ids[idx, :L]).float()
        return judge(states[r, :S].float(), state_len[r], emb, code_len[idx], owner), owner

    def evaluate() -> dict:
        judge.eval()
        by_judge, by_sim = [], []
        with torch.no_grad():
            for s in range(0, len(val), 256):
                rows = [i for i in val[s : s + 256] if lists[i][0]]
                if not rows:
                    continue
                sc = scores(rows, [lists[i][0] for i in rows])[0].tolist()
                k = 0
                for i in rows:
                    t = lists[i][1]
                    mine = sc[k : k + len(t)]
                    k += len(t)
                    by_judge.append(t[max(range(len(t)), key=mine.__getitem__)])
                    by_sim.append(t[0])
        judge.train()
        n = max(1, len(by_judge))
        return {"val_judge@1": 100 * sum(by_judge) / n, "val_nearest@1": 100 * sum(by_sim) / n}

    t0, losses = time.time(), []
    for step in range(1, steps + 1):
        rows = [fit[rng.randrange(len(fit))] for _ in range(batch)]
        cands, targets = [], []
        for i in rows:
            near, ts = lists[i]
            cs = list(near)
            if rng.random() < 0.5:  # its own command now and then: a sure positive
                cs, ts = cs + [i], ts + [1.0]
            cands.append(cs)
            targets += ts
        s, owner = scores(rows, cands)
        loss = listwise_loss(s, torch.tensor(targets, device=dev), owner, temperature)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(judge.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log is not None and (step % 100 == 0 or step == steps):
            rec = {"loss": sum(losses[-100:]) / len(losses[-100:]), "seconds": time.time() - t0}
            if val and (step % 500 == 0 or step == steps):
                rec.update(evaluate())
            log(step, rec)
    report = {"steps": steps, "first_loss": losses[0], "last_loss": sum(losses[-50:]) / len(losses[-50:])}
    if val:
        report.update(evaluate())
    report["seconds"] = time.time() - t0
    return judge.eval(), report
