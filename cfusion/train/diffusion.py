"""Two-stage training (pre-training on snippets, fine-tuning on pairs) with EMA, atomic checkpoints and resume."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cfusion import langs
from cfusion.core.bundle import load_model, model_state, save_model
from cfusion.core.checkpoint import (
    atomic_dir,
    load_tensors,
    prune_steps,
    read_json,
    read_latest,
    save_tensors,
    update_latest,
    write_json_atomic,
)
from cfusion.core.config import ModelConfig, preset
from cfusion.core.diffusion import Schedule
from cfusion.core.features import Featurizer
from cfusion.core.model import CodeFusion, fast_attention
from cfusion.core.tokenizer import MASK, CodeTokenizer, RequestTokenizer, choose_max_len
from cfusion.data.pairs import read_pairs, read_snippets
from cfusion.data.slots import slot_pair
from cfusion.errors import CheckpointError, UsageError
from cfusion.train.graphed import GraphedStep, pad_requests, train_step
from cfusion.train.masking import mask_code
from cfusion.train.neighbours import drop, recall_neighbours

STAGES = ("pretrain", "finetune")


@dataclass
class TrainArgs:
    stage: str
    lang: str
    data: list[str]
    out: str
    preset: str = "small"
    config: str | None = None  # a JSON file of ModelConfig fields, applied over the preset
    init: str | None = None  # a model to start from (fine-tuning after pre-training)
    steps: int = 1000
    batch_size: int = 64
    lr: float = 5e-4
    warmup: int = 100
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    high_noise: float = 0.0  # share of each batch whose t is drawn from the top eighth of the schedule (draw_noise)
    ckpt_every: int = 500
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    cpd_prob: float = 0.5  # pre-training: chance a step is paragraph denoising rather than unconditional generation
    mask_rate: float = 0.3  # CPD: chance each identifier/keyword is masked
    workers: int = -1  # processes building batches ahead of the GPU; -1: 2 on CUDA, 0 (in the loop) on CPU
    graphs: bool = True  # capture the step in CUDA graphs (cfusion.train.graphed) when one CUDA process trains
    memory: list[str] = field(default_factory=list)  # extra known pairs a retrieval-aware model recalls from
    overrides: dict = field(default_factory=dict)  # ModelConfig fields (e.g. encoder_trainable)

    def __post_init__(self):
        if self.stage not in STAGES:
            raise UsageError(f"--stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.lang not in langs.names():
            raise UsageError(f"--lang must be one of {', '.join(langs.names())}, got {self.lang!r}")
        if self.workers < -1:
            raise UsageError(f"--workers must be >= 0 (or -1 for auto), got {self.workers}")
        for name in ("steps", "batch_size", "ckpt_every", "log_every"):
            if getattr(self, name) <= 0:
                raise UsageError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.high_noise <= 1.0:
            raise UsageError(f"--high-noise must be in 0..1, got {self.high_noise}")
        if not self.lr > 0:
            raise UsageError(f"--lr must be positive, got {self.lr}")


# ---- distributed ---------------------------------------------------------------------------------------------
@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_dist(device: str) -> tuple[Dist, torch.device]:
    """Reads torchrun's environment; one process per GPU (NCCL) or per CPU worker (gloo)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but CUDA is not available", hint="use --device cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise UsageError(f"--device must be auto, cpu or cuda, got {device!r}")
    if world == 1:
        return Dist(), torch.device(device)
    import torch.distributed as tdist

    d = Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device.startswith("cuda"):
        torch.cuda.set_device(d.local_rank)
        dev = torch.device("cuda", d.local_rank)
    else:
        dev = torch.device("cpu")
    tdist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return d, dev


# ---- data ----------------------------------------------------------------------------------------------------
def load_examples(args: TrainArgs) -> list[tuple[str, str]]:
    """(request, code) pairs for fine-tuning, or ("", snippet) for pre-training."""
    out: list[tuple[str, str]] = []
    for path in args.data:
        if args.stage == "finetune":
            out += [(p.nl, p.code) for p in read_pairs(path, lang=args.lang)]
        else:
            out += [("", s) for s in read_snippets(path)]
    return out


def global_batch_indices(n: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of step `step`'s batch in an endless stream of seeded epoch permutations (a pure function of step)."""
    out = []
    pos = step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(pos, n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        take = min(batch_size - len(out), n - offset)
        out += perm[offset : offset + take].tolist()
        pos += take
    return out


def make_batch(feat: Featurizer, examples, idx, args: TrainArgs, rng: random.Random, neighbours=None) -> dict:
    """One batch of examples[idx]; `neighbours` (a retrieval-aware model's, by example) are cut to a random few."""
    nl = [examples[i][0] for i in idx]
    code = [examples[i][1] for i in idx]
    batch: dict = {"code_ids": feat.code(code, args.lang)}
    if args.stage == "finetune":
        batch.update(feat.requests(nl))
        if neighbours is not None:
            r = feat.cfg.n_neighbours
            batch.update(feat.neighbours([drop(neighbours[i], rng, r) for i in idx], args.lang))
    elif rng.random() < args.cpd_prob:
        # CPD: E reads the code with identifiers and keywords masked and the model restores it. Each stream gets
        # its own mask token, from the same random draw.
        state = rng.getstate()
        enc = [mask_code(c, args.lang, args.mask_rate, rng, RequestTokenizer.MASK) for c in code]
        rng.setstate(state)
        lit = [mask_code(c, args.lang, args.mask_rate, rng, MASK) for c in code]
        batch.update(feat.requests(enc, literal_texts=lit))
    else:
        batch["noise_memory"] = True  # unconditional generation: E_s replaced by Gaussian noise
    return batch


class StepBatches(torch.utils.data.Dataset):
    """Item `step` is this rank's share of step `step`'s batch, noise included: a pure function of (seed, step), so
    worker processes can build batches ahead of the GPU and a resumed run still replays exactly."""

    def __init__(
        self, feat: Featurizer, examples, args: TrainArgs, dist: Dist, T: int, neighbours=None, bucketed=False
    ):
        self.feat, self.examples, self.args, self.dist, self.T = feat, examples, args, dist, T
        self.neighbours, self.bucketed = neighbours, bucketed  # bucketed: request widths padded for CUDA graphs

    def __len__(self) -> int:
        return self.args.steps

    def __getitem__(self, step: int) -> dict:
        a, d = self.args, self.dist
        idx = global_batch_indices(len(self.examples), a.batch_size, step, a.seed)
        local = slice(d.rank * len(idx) // d.world, (d.rank + 1) * len(idx) // d.world)
        rng = random.Random(a.seed * 1_000_003 + step)
        # each rank featurises only its own rows
        batch = make_batch(self.feat, self.examples, idx[local], a, rng, self.neighbours)
        memory = "noise_memory" in batch
        noise = draw_noise(len(idx), self.feat.cfg, a.lang, self.T, a.seed, step, memory, a.high_noise)
        batch.update({k: v[local] for k, v in noise.items()})
        return pad_requests(batch, self.feat.cfg.max_request_len) if self.bucketed else batch


def step_batches(ds: StepBatches, start: int, device: torch.device):
    """Batches of steps start..steps-1, from worker processes when there are any (see TrainArgs.workers)."""
    # Two are enough: 6 per rank measured no faster on 2 GPUs (benchmarks/notebook/).
    workers = ds.args.workers if ds.args.workers >= 0 else (2 if device.type == "cuda" else 0)
    if workers == 0:
        return (ds[s] for s in range(start, ds.args.steps))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the Rust pool does not survive the fork
    return iter(
        torch.utils.data.DataLoader(
            ds,
            batch_size=None,
            sampler=range(start, ds.args.steps),
            num_workers=workers,
            prefetch_factor=4,
            pin_memory=device.type == "cuda",
        )
    )


# ---- model set-up --------------------------------------------------------------------------------------------
def build_model(args: TrainArgs, examples, log: Callable[[str], None]) -> tuple[CodeFusion, CodeTokenizer]:
    if args.init:
        model, tok, folder = load_model(Path(args.init))
        fields = {**dataclasses.asdict(model.cfg), **args.overrides}
        if args.lang not in fields["max_code_len"]:
            # A new language gets its own length, capped at the model's position table.
            n = min(_max_len(tok, examples), model.cfg.max_len)
            fields["max_code_len"] = {**fields["max_code_len"], args.lang: n}
        if fields != dataclasses.asdict(model.cfg):
            try:
                fresh = CodeFusion(ModelConfig.from_dict(fields))
                fresh.load_state_dict(model.state_dict(), strict=False)
            except (ValueError, RuntimeError) as e:
                raise UsageError(f"--set does not fit the model in {folder}: {str(e).splitlines()[0]}") from None
            model = fresh
        log(f"initialised from {folder}")
        return model, tok
    base = dataclasses.asdict(preset(args.preset))
    if args.config:
        base.update(read_json(Path(args.config)))
    base.update(args.overrides)
    texts = [c for _, c in examples] + [nl for nl, _ in examples if nl]
    tok = CodeTokenizer.train(texts, base["vocab_size"])
    base["vocab_size"] = tok.vocab_size
    # --set max_code_len={"python": 48} fixes the length; otherwise it holds 99 % of the training code.
    chosen = args.overrides.get("max_code_len") or {}
    base["max_code_len"] = {args.lang: chosen.get(args.lang) or _max_len(tok, examples)}
    try:
        cfg = ModelConfig.from_dict(base)
    except ValueError as e:
        raise UsageError(str(e)) from None
    log(f"code tokenizer: {tok.vocab_size} tokens; max code length {cfg.max_code_len[args.lang]}")
    return CodeFusion(cfg), tok


def _max_len(tok: CodeTokenizer, examples) -> int:
    return choose_max_len([len(ids) for ids in tok.encode_batch([c for _, c in examples])])


def lr_at(step: int, args: TrainArgs) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


# ---- checkpoints ---------------------------------------------------------------------------------------------
def save_checkpoint(run: Path, step: int, model: CodeFusion, tok, ema: dict, opt, args: TrainArgs) -> Path:
    """One self-contained step folder: the EMA model (what `gen` loads) plus the training state, kept apart."""
    ckpts = run / "checkpoints"
    ckpts.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:07d}"
    with atomic_dir(ckpts / name) as tmp:
        save_model(tmp, model.cfg, tok, {**model_state(model), **ema})
        state = {f"raw.{k}": v for k, v in model_state(model).items()}
        opt_sd = opt.state_dict()
        for i, st in opt_sd["state"].items():
            for key, val in st.items():
                state[f"opt.{i}.{key}"] = val if torch.is_tensor(val) else torch.tensor(val)
        save_tensors(state, tmp, "train_state")
        write_json_atomic(tmp / "train_state.json", {"step": step, "args": dataclasses.asdict(args)})
    update_latest(ckpts, name)
    prune_steps(ckpts, keep=2)
    return ckpts / name


def restore(folder: Path, model: CodeFusion, ema: dict, opt, args: TrainArgs) -> int:
    meta = read_json(folder / "train_state.json")
    old = meta.get("args", {})
    for key in ("stage", "lang", "batch_size", "seed", "preset"):
        if old.get(key) != getattr(args, key):
            raise CheckpointError(
                f"cannot resume {folder}: it was trained with {key}={old.get(key)!r}, not {getattr(args, key)!r}"
            )
    state = load_tensors(folder, "train_state")
    raw = {k[4:]: v for k, v in state.items() if k.startswith("raw.")}
    model.load_state_dict(raw, strict=False)
    ema_saved = load_tensors(folder, "model")
    for k in ema:
        ema[k].copy_(ema_saved[k])
    sd = opt.state_dict()
    for key, val in state.items():
        if key.startswith("opt."):
            _, i, name = key.split(".", 2)
            sd["state"].setdefault(int(i), {})[name] = val
    opt.load_state_dict(sd)
    return int(meta["step"])


# ---- the loop ------------------------------------------------------------------------------------------------
def train(
    args: TrainArgs, progress=None, log: Callable[[str], None] = print, on_save: Callable[[Path], None] | None = None
) -> Path:
    """Runs (or resumes) a training run in `args.out`; returns the exported model folder `args.out/model`.
    `on_save(run)` is called on the main rank after each checkpoint and once at the end (the CLI redraws loss.png)."""
    dist, device = setup_dist(args.device)
    run = Path(args.out)
    examples = load_examples(args)
    if len(examples) < args.batch_size // dist.world and dist.main:
        log(f"note: {len(examples)} examples, fewer than one batch; batches repeat examples")
    latest = read_latest(run / "checkpoints") if (run / "checkpoints").is_dir() else None
    if latest is not None:
        model, tok, _ = load_model(latest)
        log(f"resuming from {latest}")
    else:
        torch.manual_seed(args.seed)  # the initial weights, identical on every rank
        model, tok = build_model(args, examples, log if dist.main else lambda _: None)
    model.to(device).train()
    if device.type == "cuda":
        fast_attention()
    cfg = model.cfg
    feat = Featurizer(cfg, tok)
    neighbours = None
    if args.memory and not (cfg.n_neighbours and args.stage == "finetune"):
        raise UsageError("--memory is for fine-tuning a retrieval-aware model", hint="add --set n_neighbours=4")
    if cfg.n_neighbours and args.stage == "finetune":
        extra = [(p.nl, p.code) for path in args.memory for p in read_pairs(path, lang=args.lang)]
        neighbours = recall_neighbours(model, examples, extra, cfg.n_neighbours)
        if dist.main:
            log(f"neighbours: {cfg.n_neighbours} per pair, leave-one-out from {len(set(examples) | set(extra))} pairs")
    if cfg.value_slots and args.stage == "finetune":
        examples = [slot_pair(nl, code, args.lang, cfg.tagged_slots) for nl, code in examples]
        if neighbours is not None:
            neighbours = [[slot_pair(nl, code, args.lang) for nl, code in mine] for mine in neighbours]
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    graphed = args.graphs and device.type == "cuda" and dist.world == 1
    if dist.main:
        why = "" if graphed else (" (off)" if not args.graphs else " (DDP)" if dist.world > 1 else f" ({device.type})")
        log("training step: " + ("captured in CUDA graphs" if graphed else "eager" + why))
    opt = torch.optim.AdamW(
        [p for _, p in trainable],
        lr=torch.tensor(args.lr, device=device) if graphed else args.lr,  # a tensor that every replay reads
        betas=(0.9, 0.999),
        weight_decay=0.0,
        fused=device.type == "cuda",
        capturable=graphed,
    )
    ema = {n: p.detach().clone().float() for n, p in trainable}
    start = restore(latest, model, ema, opt, args) if latest is not None else 0
    ema_list = [ema[n] for n, _ in trainable]
    if dist.main and latest is None:
        run.mkdir(parents=True, exist_ok=True)
        (run / "train_args.json").write_text(json.dumps(dataclasses.asdict(args), indent=2))
    schedule = Schedule(cfg.diffusion_steps, cfg.schedule_offset)
    net = model
    if dist.world > 1:
        # Pre-training's generation task skips the encoder, so the parameters in use change from step to step;
        # fine-tuning uses all of them every step, which lets DDP fix its buckets after the first (static_graph).
        # Bucket views spare a copy per gradient. Together: 1.52x -> 1.89x (small) and 1.57x -> 2.05x (base) on
        # 2 GPUs (benchmarks/notebook/).
        pretrain = args.stage == "pretrain"
        opts = dict(find_unused_parameters=pretrain, static_graph=not pretrain, gradient_as_bucket_view=True)
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, **{**opts, **ddp_options()}
        )
    metrics_path = run / "metrics.jsonl"
    if dist.main and start and metrics_path.exists():
        # Steps logged after the checkpoint we resume from will be run (and logged) again: drop them.
        kept = [line for line in metrics_path.read_text().splitlines() if json.loads(line)["step"] <= start]
        metrics_path.write_text("".join(line + "\n" for line in kept))
    t0, last = time.perf_counter(), start
    step = start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    params = [p for _, p in trainable]
    step_graphs = GraphedStep(net, schedule, opt, params, args.grad_clip) if graphed else None
    batches = step_batches(StepBatches(feat, examples, args, dist, schedule.T, neighbours, graphed), start, device)
    for step, batch in zip(range(start, args.steps), batches):
        # Every random choice of a step derives from (seed, step): a resumed run replays exactly.
        torch.manual_seed(args.seed * 1_000_003 + step)  # dropout; the batch's own draws come from StepBatches
        if step_graphs is not None:
            for g in opt.param_groups:
                g["lr"].fill_(lr_at(step, args))
            out = dict(step_graphs(batch))  # the host batch is copied straight into the graph's input buffers
        else:
            batch = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
            for g in opt.param_groups:
                g["lr"] = lr_at(step, args)
            out = train_step(net, schedule, opt, params, args.grad_clip, batch)
        gnorm = out.pop("grad_norm")
        decay = min(args.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():  # one fused update over all tensors: a loop would launch one kernel per tensor
            torch._foreach_lerp_(ema_list, [p.detach() for _, p in trainable], 1 - decay)
        done = step + 1
        if dist.main and (done % args.log_every == 0 or done == args.steps):
            now = time.perf_counter()
            rec = {k: round(float(v.detach()), 5) for k, v in out.items()}
            rec.update(
                step=done,
                world=dist.world,
                local_batch=int(batch["code_ids"].shape[0]),
                lr=lr_at(step, args),
                grad_norm=round(float(gnorm), 4),
                steps_per_s=round((done - last) / (now - t0), 3),
                time=round(time.time(), 1),
            )
            if device.type == "cuda":
                rec["peak_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
            if step_graphs is not None:
                rec["capture_s"] = round(step_graphs.capture_s, 2)  # total so far, apart from the steady state
            with open(metrics_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            t0, last = now, done
            if progress:
                progress(done, rec)
        if dist.main and (done % args.ckpt_every == 0 or done == args.steps):
            save_checkpoint(run, done, model, tok, ema, opt, args)
            if on_save and done < args.steps:  # the last one is drawn once the model is exported
                on_save(run)
    if dist.world > 1:
        import torch.distributed as tdist

        tdist.barrier()
    if dist.main:
        final = read_latest(run / "checkpoints")
        with atomic_dir(run / "model") as tmp:
            state = load_tensors(final, "model")
            save_model(tmp, cfg, tok, state)
        if on_save:
            on_save(run)
    return run / "model"


def ddp_options() -> dict:
    """Extra DistributedDataParallel keyword arguments from $CFUSION_DDP_OPTIONS (a JSON object), for tuning runs
    such as benchmarks/ddp_scaling.py --ddp-options."""
    raw = os.environ.get("CFUSION_DDP_OPTIONS", "")
    try:
        opts = json.loads(raw) if raw else {}
    except json.JSONDecodeError as e:
        raise UsageError(f"CFUSION_DDP_OPTIONS is not JSON: {e}") from None
    if not isinstance(opts, dict):
        raise UsageError("CFUSION_DDP_OPTIONS must be a JSON object of DistributedDataParallel arguments")
    return opts


def draw_noise(
    B: int, cfg: ModelConfig, lang: str, T: int, seed: int, step: int, memory: bool, high: float = 0.0
) -> dict:
    """t, noise and (memory=True: the generation task) the memory noise for the *global* batch, so every rank slices
    the same draw: one DDP step then equals one single-process step on the same global batch.

    t is uniform over the schedule, except that a `high` share of the rows draws it from the top eighth. There the
    code embeddings are nearly drowned, and the request is what tells the tokens apart; lower down, the nearest code
    embedding to x_t already gives the token (benchmarks/notebook/)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step + 7)
    n = cfg.max_code_len[lang]
    t = torch.randint(0, T, (B,), generator=g)
    if high > 0:
        top = torch.randint(T - T // 8, T, (B,), generator=g)
        t = torch.where(torch.rand(B, generator=g) < high, top, t)
    out = {"t": t, "noise": torch.randn(B, n, cfg.d_latent, generator=g)}
    if memory:  # drawn last, so t and noise do not depend on it
        out["mem_noise"] = torch.randn(B, 16, cfg.d_model, generator=g)
    return out
