"""Generation: k candidates per request from one batched denoising pass, cut at the first pad, deduplicated, ranked."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cfusion.adapt import adapt, coverage, shape, skeleton
from cfusion.diffusion import Schedule
from cfusion.effects import effects, missing, runs_as, switches_to, unasked
from cfusion.errors import CheckpointError, UsageError
from cfusion.features import Featurizer, pad
from cfusion.memory import Memory, mean_pool
from cfusion.metrics import VALIDATORS, template_cosines
from cfusion.model import CodeFusion, fast_attention
from cfusion.rerank import Reranker, known_side, pair_batch, score_pairs
from cfusion.sketch import Sketch
from cfusion.sketch import agreement as sketch_agreement
from cfusion.tokenizer import PAD_ID, CodeTokenizer

DEFAULT_STEPS = 10  # clamped steps read x0_hat through the decoder: 10 cost less than 20 did before (RESULTS.md)


DEFAULT_RECALL = 30  # known pairs recalled per request when the model has a memory
SAMPLE_WEIGHT = 40.0  # the k samples' share of the consensus, split by votes (RESULTS.md, "The samples' share")
RECALL_WEIGHT = 3.0  # a recalled pair's weight in the consensus, per unit of similarity (chosen in RESULTS.md)
SAME_REQUEST = 0.95  # a known request at least this similar answers the new one as it stands
RERANK_WEIGHT = 80.0  # the reranker's share of the consensus: this times softmax(score / RERANK_TEMPERATURE)
RERANK_TEMPERATURE = 0.5  # over the recalled candidates (both chosen in RESULTS.md, "The reranker")
EXTRA_PENALTY = 0.5  # an extra memory pair's reranker score counts this much less (RESULTS.md, "A command that holds")
SKETCH_WEIGHT = 20.0  # the sketch's share of the consensus, times its template cosine (RESULTS.md, "The sketch")
SHARED_WEIGHT = 1.0  # per unit of rarity of the words a request shares with a recalled main pair's command
FITS_WEIGHT = 6.0  # times Candidate.fits: literals held less asked effects lacking (RESULTS.md, "A command that holds")
REPLAY_PAIRS = 256  # the most reranker pairs replayed from a CUDA graph (8 requests at recall 30)


_TYPOGRAPHIC = re.compile("[‘’“”–—]")  # the quotes and dashes a web page sets for ' " and -
_PLACEHOLDER = re.compile(r"<[A-Za-z_][\w -]*>")  # `mysqldump -u<username>`: a redirection, not a user
_PROMPT = re.compile(r"\s*\$\s")  # `$ ls`: a shell's prompt copied with the command
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def runs(code: str, lang: str) -> bool:
    """Whether code parses in its language (metrics.VALIDATORS; never executed) and, for Bash, holds no typographic
    quote or dash outside a quoted string (`find . -name “*.jpg”` parses but matches nothing and `sed -i ‘s/a/b/’`
    fails: commands copied from web pages, 49 of the shipped memory's), no `<placeholder>` outside one (`mysqldump
    -u<username>` redirects) and no prompt before it (`$ ls`). Such a command answers first only where no other can
    (rank_candidates)."""
    if not VALIDATORS[lang](code):
        return False
    if lang != "bash":
        return True
    bare = _QUOTED.sub("", code)  # what the shell reads as words, quoted strings aside
    return not (_TYPOGRAPHIC.search(bare) or _PLACEHOLDER.search(bare) or _PROMPT.match(bare))


@dataclass
class Candidate:
    code: str
    score: float | None  # mean log-probability of the sampled tokens up to the first pad; None if only recalled
    votes: int  # how many of the k samples gave this code (0: recalled only)
    valid: bool  # parses in its language (tree-sitter-bash, ast.parse, the CF rule grammar), runs as written (runs)
    similarity: float | None = None  # cosine similarity of the request to the known request it was recalled from
    known: str | None = None  # that known request
    rerank: float | None = None  # the reranker's score of the recalled pair for this request (cfusion.rerank)
    extra: bool = False  # recalled from one of the memory's extra pairs (cfusion.memory)
    shared: float = 0.0  # the rarity of the words the request shares with this recalled command (Memory.shared)
    fits: float = 0.0  # the share of the request's literals this recalled command holds once they are carried in
    # (adapt.coverage), less 1 for each effect the request plainly asks for and it lacks (effects.missing); asked
    # only of the candidates the bonus could lift to the top
    adapted_from: str | None = None  # the recalled command before the request's literals were carried in (adapt)
    effects: tuple[str, ...] = ()  # what the Bash command does that cannot be undone (cfusion.effects), when shown
    unasked: tuple[str, ...] = ()  # those of its effects the request did not ask for

    @property
    def source(self) -> str:
        if self.similarity is None:
            return "model"
        return "both" if self.votes else "memory"

    def to_json(self) -> dict:
        out = {"code": self.code, "source": self.source, "votes": self.votes, "valid": self.valid}
        out["score"] = None if self.score is None else round(self.score, 4)
        if self.similarity is not None:
            out.update(similarity=round(self.similarity, 4), known=self.known)
        if self.rerank is not None:
            out["rerank"] = round(self.rerank, 4)
        if self.extra:
            out["extra"] = True
        if self.shared:
            out["shared"] = round(self.shared, 2)
        if self.fits:
            out["fits"] = round(self.fits, 4)
        if self.adapted_from is not None:
            out["adapted_from"] = self.adapted_from
        if self.effects:
            out.update(effects=list(self.effects), unasked=list(self.unasked))
        return out


def load_recall(folder, minilm) -> tuple[Memory | None, Reranker | None, Sketch | None]:
    """A model folder's memory and, when it has one, its reranker (over the model's `minilm`) and sketch: what
    Generator recalls and ranks with; each None when the folder has none."""
    memory = Memory.load(folder)
    if memory is None:
        return None, None, None
    return memory, Reranker.load(folder, minilm), Sketch.load(folder)


def _weights(cands: list[Candidate]) -> list[float]:
    """Each candidate's weight in the consensus: its share of SAMPLE_WEIGHT by its votes, RECALL_WEIGHT x its
    similarity and, for the candidates the reranker scored (the recalled ones), RERANK_WEIGHT x the reranker's
    softmax over them, where an extra pair's score counts EXTRA_PENALTY less."""
    votes = np.array([c.votes for c in cands], dtype=float)
    w = SAMPLE_WEIGHT * votes / max(1.0, votes.sum()) + RECALL_WEIGHT * np.array([c.similarity or 0.0 for c in cands])
    scored = np.array([c.rerank is not None for c in cands])
    if scored.any():
        r = np.array([c.rerank - EXTRA_PENALTY * c.extra if c.rerank is not None else 0.0 for c in cands])
        r = r / RERANK_TEMPERATURE
        p = np.where(scored, np.exp(r - r[scored].max()), 0.0)
        w = w + RERANK_WEIGHT * p / p.sum()
    return w.tolist()


def rank_candidates(
    cands: list[Candidate],
    lang: str,
    sketch: dict[str, float] | None = None,
    fits: Callable | None = None,
    same: Callable | None = None,
    safe: Callable | None = None,
) -> list[Candidate]:
    """Valid candidates first (the top answer parses whenever any candidate does): recalled ones by similarity, then
    sampled ones by score. Then the top answer:
    - the code of a known request at least SAME_REQUEST similar, when there is one and it is valid;
    - otherwise the most similar valid recalled candidate whose known request asks the same as the request but for
      its literals, when `same(candidate)` says so of one (adapt.shape: `Show the first 10 lines of file.txt` for
      `show the first 20 lines of data.csv`);
    - otherwise, for Bash, the consensus: the valid candidate (a recalled one, when any is valid) whose template
      agrees most with all the others, each weighted by its share of SAMPLE_WEIGHT by votes, RECALL_WEIGHT x its
      similarity and RERANK_WEIGHT x the reranker's softmax when there are reranker scores, plus SKETCH_WEIGHT x
      its template's cosine with the `sketch` (cfusion.sketch: each template token's probability) when there is
      one, plus SHARED_WEIGHT x the rarity of the words the request shares with it (Candidate.shared) and
      FITS_WEIGHT x `fits(candidate)` (Candidate.fits; from `answers`, the share of the request's literals it
      holds once they are carried in, less 1 for each effect the request plainly asks for and it lacks), set for
      the recalled candidates the bonus could lift to the top, in order of score, until none left could reach the
      best so far (it may be negative, so the top may fall; ties to the earlier one), a minimum-Bayes-risk choice
      under the benchmark's own metric.
    A candidate that `safe(candidate)` rejects (for Bash: it does what cannot be undone, unasked; cfusion.effects)
    answers first in none of these ways while another valid one can, and follows the others in the list.
    Measured on the Bash test split in benchmarks/RESULTS.md ("Recall and consensus ranking")."""
    recalled = sorted((c for c in cands if c.similarity is not None), key=lambda c: -c.similarity)
    sampled = sorted((c for c in cands if c.similarity is None), key=lambda c: (-c.score, -c.votes, c.code))
    order = sorted(recalled + sampled, key=lambda c: not c.valid)
    safe = safe or (lambda c: True)
    if recalled and recalled[0].similarity >= SAME_REQUEST and recalled[0].valid and safe(recalled[0]):
        best = recalled[0]
    elif same is not None and (twin := next((c for c in recalled if c.valid and same(c) and safe(c)), None)):
        best = twin
    elif lang == "bash" and len(order) > 1:
        # a sample with no known request behind it votes, but answers first only when no recalled command is valid:
        # its template can sit between the recalled ones' (`tail data.csv | head -` between `head` and `tail`)
        pool = [c for c in order if c.valid and c.similarity is not None] or [c for c in order if c.valid] or order
        pool = [c for c in pool if safe(c)] or [c for c in order if c.valid and safe(c)] or pool
        agreement = template_cosines([c.code for c in order]) @ np.array(_weights(order))
        agreement = agreement + SHARED_WEIGHT * np.array([c.shared for c in order])
        if sketch:
            agreement = agreement + SKETCH_WEIGHT * sketch_agreement([c.code for c in order], sketch)
        score = {id(c): round(a, 9) for c, a in zip(order, agreement.tolist())}  # equal templates tie exactly
        if fits is not None:  # adapting every recalled command costs more than the few the bonus could decide
            reach = -math.inf  # the best score with its bonus so far; fits may be negative, so the top may fall
            for c in sorted(pool, key=lambda c: -score[id(c)]):
                if score[id(c)] + FITS_WEIGHT < reach:
                    break  # neither this one nor any after it can reach the best, even with a full bonus
                if c.similarity is not None:
                    c.fits = fits(c)
                    score[id(c)] = round(score[id(c)] + FITS_WEIGHT * c.fits, 9)
                reach = max(reach, score[id(c)])
        best = max(pool, key=lambda c: score[id(c)])
    else:
        return order
    return [best] + sorted((c for c in order if c is not best), key=lambda c: not safe(c))  # stable


def answers(
    cands: list[Candidate], request: str, lang: str, k: int, sketch: dict[str, float] | None = None, literals=True
) -> list[Candidate]:
    """The k answers `gen` shows for one request's candidates: rank_candidates, asking how well a recalled command
    fits the request (the share of the request's literals it holds once they are carried in, adapt.coverage; for
    Bash, less one for each effect the request plainly asks for and the command lacks, effects.missing) and, for
    Bash, whether a known request has the request's shape and whether a command does what cannot be undone unasked
    (effects.unasked); then, for Bash with `literals`, the literals carried in (_with_literals). A Bash request that
    asks to act as a user (effects.runs_as) has the valid commands that switch to that user, once the literals are
    carried in (effects.switches_to), ranked among themselves before the others, when there are any: the others'
    consensus (`ssh user@host`, NL2Bash's `as user` requests) says nothing of which of them runs as asked. Shown Bash
    candidates carry their effects."""
    bash = lang == "bash"
    asked = shape(request) if bash and literals else None

    def fits(c: Candidate) -> float:
        held = coverage(c.code, c.known, request) if literals else 0.0
        return held - len(missing(c.code, request)) if bash else held

    def same(c: Candidate) -> bool:
        return shape(c.known) == asked

    def safe(c: Candidate) -> bool:
        return not unasked(c.code, request)

    def rank(cands: list[Candidate]) -> list[Candidate]:
        return rank_candidates(cands, lang, sketch, fits, same if asked else None, safe if bash else None)

    def as_user(c: Candidate, user: str) -> bool:
        return c.valid and switches_to(adapt(c.code, c.known, request) if c.known and literals else c.code, user)

    user = runs_as(request) if bash else None
    mine = [c for c in cands if as_user(c, user)] if user is not None else []  # `run X as user postgres`: su first
    ranked = rank(mine) + rank([c for c in cands if not any(c is m for m in mine)]) if mine else rank(cands)
    shown = _with_literals(ranked, request, k) if asked else ranked[:k]
    for c in shown if bash else ():
        c.effects, c.unasked = tuple(sorted(effects(c.code))), tuple(sorted(unasked(c.code, request)))
    return shown


def _with_literals(ranked: list[Candidate], request: str, k: int) -> list[Candidate]:
    """The first k distinct commands of ranked candidates, the request's literals carried into the recalled ones
    (cfusion.adapt; `adapted_from` keeps the command as known). Adapting after ranking leaves the ranking as it was:
    an adapted command keeps its validity and its template (but for a `-10` flag or a count added to `head`/`tail`),
    which are all the ranking reads, and only the few commands shown are adapted."""
    out, seen = [], set()
    for c in ranked:
        if c.known is not None:
            code = adapt(c.code, c.known, request)
            if code != c.code:
                c = dataclasses.replace(c, code=code, adapted_from=c.code, valid=runs(code, "bash"))
        if c.code not in seen:
            seen.add(c.code)
            out.append(c)
            if len(out) == k:
                break
    return out


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
        self.inp = {  # the batch's tensors, those with a token axis widened to max_request_len
            key: torch.ones(
                (v.shape[0], cfg.max_request_len, *v.shape[2:]) if v.dim() > 1 else v.shape, dtype=v.dtype, device=dev
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
            (buf[:, : v.shape[1]] if v.dim() > 1 else buf).copy_(v)
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


class Generator:
    """A loaded model ready to answer requests; never executes what it generates.

    kernels: "auto" (Triton on CUDA), "triton" or "torch" (see cfusion.kernels). graphs: replay the denoising step
    from a CUDA graph on CUDA (the eager loop otherwise). On CUDA the weights, the reranker's too, are cast to bfloat16
    once. memory: known pairs to recall beside the sampled candidates (cfusion.memory). reranker: reads the request
    beside each recalled known request and weighs their commands in the consensus (cfusion.rerank); used when
    recalling.
    """

    def __init__(
        self,
        model: CodeFusion,
        tok: CodeTokenizer,
        kernels: str = "auto",
        graphs: bool = True,
        memory: Memory | None = None,
        reranker: Reranker | None = None,
        sketch: Sketch | None = None,
    ):
        from cfusion.kernels import check_mode

        self.kernels = check_mode(kernels)
        self.model, self.tok = model.eval(), tok
        if self.device.type == "cuda":
            self.model.to(torch.bfloat16)
            fast_attention()
        self.graphs = graphs and self.device.type == "cuda"
        self._graphs: dict[tuple, StepGraph] = {}
        self._replays: dict[str, Replay] = {}
        self.cfg = model.cfg
        self.feat = Featurizer(self.cfg, tok)
        width = model.minilm.width if model.minilm is not None else None
        if memory is not None:
            if width != memory.vectors.shape[1]:
                raise CheckpointError(
                    f"the memory holds {memory.vectors.shape[1]}-wide vectors, but this model's encoder gives "
                    f"{width or 'none'}",
                    hint="rebuild it with `cfusion data memory PAIRS --model MODEL`",
                )
        self.memory = memory
        if reranker is not None and reranker.cfg.width != width:
            raise CheckpointError(
                f"the reranker adapts a {reranker.cfg.width}-wide MiniLM, but this model's encoder gives "
                f"{width or 'none'}",
                hint="retrain it with `cfusion data rerank --model MODEL`",
            )
        self.reranker = None
        if reranker is not None and memory is not None:  # the model's dtype (bf16 on CUDA: 1.5x the requests/s)
            self.reranker = reranker.to(self.device, self.model.embed.weight.dtype)
        if sketch is not None and sketch.cfg.width != width:
            raise CheckpointError(
                f"the sketch reads {sketch.cfg.width}-wide sentence vectors, but this model's encoder gives "
                f"{width or 'none'}",
                hint="retrain it with `cfusion data sketch --model MODEL`",
            )
        self.sketch = sketch if memory is not None else None  # it reads the vectors that recall computes
        self.schedule = Schedule(self.cfg.diffusion_steps, self.cfg.schedule_offset)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def check(self, lang: str, k: int, steps: int, recall: int = 0) -> None:
        if lang not in self.cfg.max_code_len:
            have = ", ".join(sorted(self.cfg.max_code_len))
            raise UsageError(
                f"this model was trained for {have}, not {lang}", hint="pass --model for a model of that language"
            )
        if not 1 <= k <= 64:
            raise UsageError(f"-k must be in 1..64, got {k}")
        if not 0 <= recall <= 64:
            raise UsageError(f"--recall must be in 0..64, got {recall}")
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
        recall: int = DEFAULT_RECALL,
        literals: bool = True,
    ) -> list[list[Candidate]]:
        """The k best of k samples per request and, when the model has a memory, the `recall` nearest known pairs;
        deduplicated and ranked by rank_candidates, then the request's literals carried into the recalled Bash
        commands shown (cfusion.adapt) unless `literals` is off."""
        from cfusion import kernels

        self.check(lang, k, steps, recall)
        recall = recall if self.memory is not None else 0
        batch = {key: v.to(self.device) for key, v in self.feat.requests(requests).items()}
        # Per request: code -> (similarity, known request, extra pair?, memory row), the nearest pair per command.
        recalled: list[dict[str, tuple[float, str, bool, int]]] = [{} for _ in requests]
        if recall or (self.graphs and self.model.minilm is not None):
            # One MiniLM pass serves both the search and the denoiser's memory (model.encode reads enc_hidden).
            batch["enc_hidden"] = self._minilm(batch["enc_ids"], batch["enc_len"])
        sketches = [None] * len(requests)
        if recall:
            m = self.memory
            queries = mean_pool(batch["enc_hidden"], batch["enc_len"])  # (B, width), float32 on the CPU
            sims, near = m.search(self.recall_queries(requests, queries), recall, lang)
            for mine, ss, js in zip(recalled, sims.tolist(), near.tolist()):
                for sim, j in zip(ss, js):
                    if m.codes[j] not in mine:
                        mine[m.codes[j]] = (sim, m.requests[j], m.extra[j], j)
        reranked = None
        if self.reranker is not None and recall:
            # Queued before the sampling: copying its pairs to a GPU waits for all the work queued ahead of the copy
            cfg = self.reranker.cfg
            knowns = [known_side(cfg, known, code) for mine in recalled for code, (_, known, *_) in mine.items()]
            owners = [r for r, mine in enumerate(recalled) for _ in mine]
            reranked = self._rerank([requests[r] for r in owners], knowns, len(requests) * recall)
        with kernels.use(self.kernels):
            ids, scores = self._sample(batch, self.cfg.max_code_len[lang], k, steps, seed, eta, clamp)
        if recall and self.sketch is not None and lang == "bash":  # on the CPU while a GPU reranks and samples
            sketches = self.sketch.predict(requests, queries)
        ids, scores = ids.cpu(), scores.float().cpu()
        reranked = iter(reranked.tolist()) if reranked is not None else None
        valid = functools.partial(runs, lang=lang)
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
            for code, (sim, known, extra, j) in recalled[r].items():
                c = found.get(code)
                if c is None:
                    c = found[code] = Candidate(code, None, 0, valid(code))
                c.similarity, c.known, c.extra, c.shared = sim, known, extra, self.memory.shared(requests[r], j)
                if reranked is not None:
                    c.rerank = next(reranked)
            out.append(answers(list(found.values()), requests[r], lang, k, sketches[r], literals))
        return out

    def recall_queries(self, requests: list[str], queries: torch.Tensor) -> torch.Tensor:
        """Recall's query vectors: a request that quotes text searches with the normalised sum of its own vector
        and its skeleton's (adapt.skeleton, one more MiniLM pass), so that the quoted text does not outweigh what
        the request asks (`set alias "gs" for command "git status"` finds `Alias "cd $(history -p !!:1)" as "cd-"`;
        its literals are carried into the command later; RESULTS.md, "The request's skeleton"). The other requests
        search with their own vectors."""
        shapes = [skeleton(r) for r in requests]
        rows = [i for i, (r, s) in enumerate(zip(requests, shapes)) if r != s]
        if not rows:
            return queries
        ids, lens = (x.to(self.device) for x in pad(self.feat.req_tok.encode_batch([shapes[i] for i in rows])))
        out = queries.clone()
        out[rows] = F.normalize(queries[rows] + mean_pool(self._minilm(ids, lens), lens), dim=-1)
        return out

    def _minilm(self, ids: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        """MiniLM's states of the requests; on CUDA replayed from a graph, over ids padded to max_request_len (padding
        keys are masked, so the requests' own states do not change)."""
        if not self.graphs:
            return self.model.minilm(ids, lens)
        ids = F.pad(ids, (0, self.cfg.max_request_len - ids.shape[1]))
        return self._replays.setdefault("minilm", Replay(self.model.minilm))(ids, lens)

    def _rerank(self, requests: list[str], knowns: list[str], rows: int) -> torch.Tensor:
        """The reranker's scores of the (request, known side) pairs (rerank.known_side); on CUDA, for a few requests,
        replayed from a graph over `rows` pairs of the reranker's full length (rows >= the pairs; padding pairs are
        one token long and dropped). Large batches run eagerly: padding them costs more than the launches."""
        if not self.graphs or rows > REPLAY_PAIRS:
            return score_pairs(self.reranker, self.feat.req_tok, requests, knowns)
        n, tok = len(requests), self.feat.req_tok
        pieces = tok.pieces(requests + knowns)
        pairs = pair_batch(tok, pieces[:n], pieces[n:], self.reranker.cfg.max_len, self.device, rows)
        return self._replays.setdefault("rerank", Replay(self.reranker))(*pairs)[:n].float()

    def _sample(self, batch: dict, n: int, k: int, steps: int, seed: int, eta: float, clamp: bool):
        """model.sample, prepare and steps replayed from cached CUDA graphs when they can be (deterministic DDIM)."""
        dev, m = self.device, self.model
        g = torch.Generator(dev).manual_seed(seed)
        if not (self.graphs and eta == 0 and steps > 1):
            return m.sample(batch, n, self.schedule, steps, eta, g, k, clamp)
        requests = next(iter(batch.values())).shape[0]
        ts, coefs = self.schedule.step_table(steps, eta)
        key = (requests, k, n, len(ts), clamp, self.kernels, tuple(batch))
        if key not in self._graphs:
            self._graphs[key] = StepGraph(m, batch, k, n, len(ts), clamp)
        x = torch.randn(requests * k, n, self.cfg.d_latent, device=dev, generator=g, dtype=m.embed.weight.dtype)
        return self._graphs[key].run(x, batch, ts, coefs)

    def _cut(self, ids: torch.Tensor, scores: torch.Tensor) -> tuple[str, float]:
        """Decode up to the first pad; the score averages log-probs over the kept tokens and that pad."""
        pads = (ids == PAD_ID).nonzero()
        end = int(pads[0]) if len(pads) else len(ids)
        code = self.tok.decode(ids[:end].tolist()).strip()
        return code, float(scores[: end + 1].mean())
