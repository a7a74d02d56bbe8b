"""The generator: a loaded model that answers requests by recall -> sample -> edit -> rank; never executes them."""

from __future__ import annotations

import dataclasses

import torch

from cfusion import langs
from cfusion.core.diffusion import Schedule
from cfusion.core.features import Featurizer, pad
from cfusion.core.graphs import Replay
from cfusion.core.int8 import quantize_linears
from cfusion.core.model import CodeFusion, fast_attention
from cfusion.core.tokenizer import CodeTokenizer
from cfusion.data.slots import slot_pair, slot_request
from cfusion.errors import CheckpointError, UsageError
from cfusion.pipeline import DEFAULT_RECALL, DEFAULT_STEPS
from cfusion.pipeline import recall as R
from cfusion.pipeline import sample as S
from cfusion.pipeline.candidate import Candidate
from cfusion.pipeline.edit import Edits
from cfusion.pipeline.rank import RankWeights, rank
from cfusion.recall.memory import Memory, mean_pool
from cfusion.recall.reranker import Reranker
from cfusion.recall.sketch import Sketch

REDRAWS = 2  # more draws of k samples for a request that has no usable candidate (Generator.generate)


def merged(first: list[Candidate], then: list[Candidate]) -> list[Candidate]:
    """One request's candidates from two draws: a code given by both keeps one candidate, their votes added and the
    better score; recalled pairs are the same in both."""
    out = {c.code: c for c in first}
    for c in then:
        mine = out.get(c.code)
        if mine is None:
            out[c.code] = c
        elif c.votes:
            scores = [x for x in (mine.score, c.score) if x is not None]
            out[c.code] = dataclasses.replace(mine, votes=mine.votes + c.votes, score=max(scores))
    return list(out.values())


def load_recall(folder, minilm) -> tuple[Memory | None, Reranker | None, Sketch | None]:
    """A model folder's memory and, when it has one, its reranker (over the model's `minilm`) and sketch: what
    Generator recalls and ranks with; each None when the folder has none."""
    memory = Memory.load(folder)
    if memory is None:
        return None, None, None
    return memory, Reranker.load(folder, minilm), Sketch.load(folder)


def answers(
    cands: list[Candidate],
    request: str,
    lang: str,
    k: int,
    sketch: dict[str, float] | None = None,
    literals: bool = True,
    weights: RankWeights = RankWeights(),
) -> list[Candidate]:
    """The k answers shown for one request's candidates: the language's rules for the request (Language.rules), the
    edit stage (each recalled command adapted at most once, when first needed), the ranking, then the literals
    carried into the commands shown and their effects. Commands that do what the request singles out (Rules.first:
    act as a named user) are ranked among themselves ahead of the others, when there are any: the others' consensus
    says nothing of which of them does it."""
    pack = langs.get(lang)
    rules = pack.rules(request, literals)
    edited = Edits(rules.adapt)

    def ranked(cs: list[Candidate]) -> list[Candidate]:
        return rank(cs, lang, weights, rules, edited, sketch)

    mine = [c for c in cands if c.valid and rules.first(edited(c))] if rules.first is not None else []
    order = ranked(mine) + ranked([c for c in cands if not any(c is m for m in mine)]) if mine else ranked(cands)
    shown = edited.shown(order, k, pack.usable)
    if rules.effects is None:
        return shown
    out = []
    for c in shown:
        effects, unasked, findings = rules.effects(c.code)
        out.append(dataclasses.replace(c, effects=effects, unasked=unasked, findings=findings))
    return out


class Generator:
    """A loaded model ready to answer requests; never executes what it generates.

    kernels: "auto" (Triton on CUDA), "triton" or "torch" (see cfusion.kernels). graphs: replay the denoising step
    from a CUDA graph on CUDA (the eager loop otherwise). On CUDA the weights, the reranker's too, are cast to bfloat16
    once. memory: known pairs to recall beside the sampled candidates (cfusion.recall.memory). reranker: reads the
    request beside each recalled known request and weighs their commands in the consensus (cfusion.recall.reranker);
    sketch: predicts the answer's template from the request (cfusion.recall.sketch); both used when recalling.
    weights: the ranking's (the model folder's rank.json; the defaults when None). int8: on the CPU, multiply in
    int8 (cfusion.core.int8: about 2x faster end to end; what it changes is measured in benchmarks/cpu_latency.py).
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
        weights: RankWeights | None = None,
        int8: bool = False,
    ):
        from cfusion.kernels import check_mode

        self.kernels = check_mode(kernels)
        self.model, self.tok = model.eval(), tok
        if self.device.type == "cuda":
            self.model.to(torch.bfloat16)
            fast_attention()
        self.graphs = graphs and self.device.type == "cuda"
        self._graphs: dict[tuple, object] = {}  # the sampling loop's CUDA graphs, by shape (pipeline.sample)
        self._replays: dict[str, Replay] = {}
        self.weights = weights or RankWeights()
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
        if model.tagger is not None and not model.tagger.trained:
            raise CheckpointError(
                "this model reads tagged value slots, but its value tagger was never trained",
                hint="train it with `cfusion data tagger --model MODEL --data PAIRS`",
            )
        if reranker is not None and reranker.cfg.width != width:
            raise CheckpointError(
                f"the reranker adapts a {reranker.cfg.width}-wide MiniLM, but this model's encoder gives "
                f"{width or 'none'}",
                hint="retrain it with `cfusion data rerank --model MODEL`",
            )
        self.reranker = None
        if reranker is not None and memory is not None:  # the model's dtype (bf16 on CUDA: 1.5x the requests/s)
            self.reranker = reranker.to(self.device, self.model.embed.weight.dtype)
        self.int8 = int8 and self.device.type == "cpu"
        if self.int8:
            quantize_linears(self.model)
            if self.reranker is not None:
                quantize_linears(self.reranker.enc)
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
        trace: list | None = None,
    ) -> list[list[Candidate]]:
        """The k answers per request: its candidates (pools: k samples and, when the model has a memory, the
        `recall` nearest known pairs), ranked with the request's literals carried into the recalled commands
        (answers) unless `literals` is off. trace: as pools fills it.

        A request with no usable candidate draws k more samples, with the next seed, up to REDRAWS times: a model
        unsure of a rule's spelling often gets it right in another draw (`colour the lowest price`: four votes for
        an invalid `bottom(Scale()` in one draw, `bottom(1)` in the next). Votes then count over all its draws."""
        found = self.pools(requests, lang, k, steps, seed, eta, clamp, recall, trace)
        for draw in range(1, REDRAWS + 1):
            empty = [i for i, (cs, _) in enumerate(found) if not any(c.valid for c in cs)]
            if not empty:
                break
            more = self.pools([requests[i] for i in empty], lang, k, steps, seed + draw, eta, clamp, recall)
            for i, (cs, _) in zip(empty, more):
                found[i] = (merged(found[i][0], cs), found[i][1])
        return [answers(c, r, lang, k, sk, literals, self.weights) for r, (c, sk) in zip(requests, found)]

    @torch.no_grad()
    def pools(
        self,
        requests: list[str],
        lang: str,
        k: int = 5,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        eta: float = 0.0,
        clamp: bool = True,
        recall: int = DEFAULT_RECALL,
        trace: list | None = None,
    ) -> list[tuple[list[Candidate], dict[str, float] | None]]:
        """Each request's candidates before ranking (recall and sample: the k samples, deduplicated, and the recalled
        pairs with their evidence) and its sketch (None without one). trace: when a list, each request's trace is
        appended to it, what the decoder read from each denoising estimate of its k samples (sample.reads). Tracing
        reads, it does not draw: the samples are those of the eager loop (model.sample), which runs on CUDA in place
        of the graphs' replay."""
        from cfusion import kernels

        self.check(lang, k, steps, recall)
        pack = langs.get(lang)
        recall = recall if self.memory is not None else 0
        slotted = None
        if self.cfg.value_slots:  # numbers, quoted text and the words the value tagger marks stand as slots
            slotted = [slot_request(r, s) for r, s in zip(requests, self._tagged(requests))]
        read = [text for text, _ in slotted] if slotted else requests  # what the model reads
        batch = {key: v.to(self.device) for key, v in self.feat.requests(read).items()}
        if recall or (self.graphs and self.model.minilm is not None):
            # One MiniLM pass serves both the search and the denoiser's memory (model.encode reads enc_hidden).
            batch["enc_hidden"] = self._minilm(batch["enc_ids"], batch["enc_len"])
        recalled, reranked, sketches = [{} for _ in requests], None, [None] * len(requests)
        if recall:
            # (B, width), float32 on the CPU; the memory's vectors are of requests as written, not slotted.
            vectors = self._encode(requests) if slotted else mean_pool(batch["enc_hidden"], batch["enc_len"])
            recalled = R.search(self.memory, R.queries(requests, vectors, pack, self._encode), recall, lang)
            if self.reranker is not None:  # queued before the sampling, which a copy to the GPU would wait for
                replay = self._replays.setdefault("rerank", Replay(self.reranker)) if self.graphs else None
                rows = len(requests) * recall
                reranked = R.rerank(self.reranker, self.feat.req_tok, requests, recalled, replay, rows)
        if self.cfg.n_neighbours:  # a retrieval-aware model reads the nearest recalled pairs (none at recall 0)
            near = [[(k.request, code) for code, k in mine.items()] for mine in recalled]
            if self.cfg.value_slots:
                near = [[slot_pair(nl, code, lang) for nl, code in mine] for mine in near]
            batch.update({key: v.to(self.device) for key, v in self.feat.neighbours(near, lang).items()})
        key = (self.kernels,)  # the captured sampling graphs hold the kernels they were captured with
        with kernels.use(self.kernels):
            graphs, n = self._graphs if self.graphs else None, self.cfg.max_code_len[lang]
            estimates = [] if trace is not None else None
            ids, scores = S.sample(
                self.model, self.schedule, batch, n, k, steps, seed, eta, clamp, graphs, key, estimates
            )
        if recall and self.sketch is not None and pack.consensus:  # on the CPU while a GPU reranks and samples
            sketches = self.sketch.predict(requests, vectors)
        ids, scores = ids.cpu(), scores.float().cpu()
        reranked = iter(reranked.tolist()) if reranked is not None else None
        out = []
        for r, request in enumerate(requests):
            values = slotted[r][1] if slotted else None
            found = S.candidates(self.tok, ids, scores, range(r * k, (r + 1) * k), pack.usable, values)
            R.join(found, request, recalled[r], self.memory, reranked, pack.usable)
            out.append((list(found.values()), sketches[r]))
            if trace is not None:
                trace.append(S.reads(self.tok, estimates, range(r * k, (r + 1) * k)))
        return out

    def _tagged(self, requests: list[str]) -> list[list[tuple[int, int]]]:
        """The char ranges of each request that the model's value tagger marks as values; none without a tagger."""
        if self.model.tagger is None:
            return [[] for _ in requests]
        ids, offsets = self.feat.req_tok.encode_offsets(requests)
        ids, lens = (x.to(self.device) for x in pad(ids))
        return self.model.tagger.mark(requests, offsets, self._minilm(ids, lens))

    def _encode(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled MiniLM sentence vectors of texts (recall's skeleton queries)."""
        ids, lens = (x.to(self.device) for x in pad(self.feat.req_tok.encode_batch(texts)))
        return mean_pool(self._minilm(ids, lens), lens)

    def _minilm(self, ids: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        """MiniLM's states of the requests; on CUDA replayed from a graph, over ids padded to max_request_len (padding
        keys are masked, so the requests' own states do not change)."""
        if not self.graphs:
            return self.model.minilm(ids, lens)
        ids = torch.nn.functional.pad(ids, (0, self.cfg.max_request_len - ids.shape[1]))
        return self._replays.setdefault("minilm", Replay(self.model.minilm))(ids, lens)
