"""Generation: k candidates per request from one batched denoising pass, cut at the first pad, deduplicated, ranked."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cfusion.diffusion import Schedule
from cfusion.errors import UsageError
from cfusion.features import Featurizer
from cfusion.metrics import VALIDATORS
from cfusion.model import CodeFusion
from cfusion.tokenizer import PAD_ID, CodeTokenizer

DEFAULT_STEPS = 50


@dataclass
class Candidate:
    code: str
    score: float  # mean log-probability of the chosen tokens, up to and including the first pad
    votes: int  # how many of the k samples gave this code
    valid: bool  # parses in its language (tree-sitter-bash, ast.parse, the CF rule grammar); never executed

    def to_json(self) -> dict:
        return {"code": self.code, "score": round(self.score, 4), "votes": self.votes, "valid": self.valid}


class Generator:
    """A loaded model ready to answer requests; never executes what it generates."""

    def __init__(self, model: CodeFusion, tok: CodeTokenizer):
        self.model, self.tok = model.eval(), tok
        self.cfg = model.cfg
        self.feat = Featurizer(self.cfg, tok)
        self.schedule = Schedule(self.cfg.diffusion_steps, self.cfg.schedule_offset)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def check(self, lang: str, k: int, steps: int) -> None:
        if lang not in self.cfg.max_code_len:
            have = ", ".join(sorted(self.cfg.max_code_len))
            raise UsageError(
                f"this model was trained for {have}, not {lang}", hint="pass --model for a model of that language"
            )
        if not 1 <= k <= 64:
            raise UsageError(f"-k must be in 1..64, got {k}")
        if not 1 <= steps <= self.cfg.diffusion_steps:
            raise UsageError(f"--steps must be in 1..{self.cfg.diffusion_steps}, got {steps}")

    @torch.no_grad()
    def generate(
        self,
        requests: list[str],
        lang: str,
        k: int = 5,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        eta: float = 0.0,
        clamp: bool = True,
    ) -> list[list[Candidate]]:
        self.check(lang, k, steps)
        dev = self.device
        batch = {key: v.to(dev) for key, v in self.feat.requests(requests).items()}
        g = torch.Generator(dev).manual_seed(seed)
        ids, scores = self.model.sample(batch, self.cfg.max_code_len[lang], self.schedule, steps, eta, g, k, clamp)
        ids, scores = ids.cpu(), scores.float().cpu()
        valid = VALIDATORS[lang]
        out = []
        for r in range(len(requests)):
            found: dict[str, Candidate] = {}
            for row in range(r * k, (r + 1) * k):
                code, score = self._cut(ids[row], scores[row])
                if not code:
                    continue
                c = found.get(code)
                if c is None:
                    found[code] = Candidate(code, score, 1, valid(code))
                else:
                    c.votes += 1
                    c.score = max(c.score, score)
            # Valid candidates first: the top answer parses whenever any candidate does.
            out.append(sorted(found.values(), key=lambda c: (not c.valid, -c.score, -c.votes, c.code)))
        return out

    def _cut(self, ids: torch.Tensor, scores: torch.Tensor) -> tuple[str, float]:
        """Decode up to the first pad; the score averages log-probs over the kept tokens and that pad."""
        pads = (ids == PAD_ID).nonzero()
        end = int(pads[0]) if len(pads) else len(ids)
        code = self.tok.decode(ids[:end].tolist()).strip()
        return code, float(scores[: end + 1].mean())
