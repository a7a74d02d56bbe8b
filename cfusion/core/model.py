"""The CodeFusion network: encoder E, code embedding L, denoiser N, decoder D and linear head H."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from cfusion import kernels
from cfusion.core.config import ModelConfig
from cfusion.core.tagger import ValueTagger


def fast_attention() -> None:
    """Keep SDPA off its cuDNN backend on CUDA. Our sequence lengths change from batch to batch, and cuDNN plans
    each new shape on the host: on an H100 that took 7.5 ms per attention call (8.3 ms per backward), 95% of a
    training step, while the GPU was busy 5% of the time. The flash and memory-efficient backends need no plan."""
    torch.backends.cuda.enable_cudnn_sdp(False)


class MLP(nn.Sequential):
    def __init__(self, d: int, d_ff: int, dropout: float):
        super().__init__(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d), nn.Dropout(dropout))


class SelfAttention(nn.Module):
    """Full bidirectional self-attention, optionally over a key-padding prefix of length `lens`."""

    def __init__(self, d: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, lens: torch.Tensor | None = None) -> torch.Tensor:
        B, n, d = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)  # (B, H, n, dh)
        mask = None
        if lens is not None:
            mask = (torch.arange(n, device=x.device)[None, :] < lens[:, None])[:, None, None, :]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(B, n, d))


class CrossAttention(nn.Module):
    """Attention from code positions to the request memory; K/V are projected once per generation (`kv`)."""

    def __init__(self, d: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(d, d)
        self.kv_proj = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def kv(self, mem: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, S, d = mem.shape
        k, v = self.kv_proj(mem).view(B, S, 2, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        return k, v  # (B, H, S, dh) each

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor], mem_len: torch.Tensor) -> torch.Tensor:
        B, n, d = x.shape
        q = self.q(x).view(B, n, self.n_heads, d // self.n_heads).transpose(1, 2)  # (B, H, n, dh)
        y = kernels.cross_attention(q, kv[0], kv[1], mem_len)  # Triton when generating on CUDA
        return self.out(y.transpose(1, 2).reshape(B, n, d))


class Block(nn.Module):
    """Pre-LN transformer block: self-attention, optional cross-attention to the request, MLP."""

    def __init__(self, cfg: ModelConfig, cross: bool):
        super().__init__()
        d = cfg.d_model
        self.ln1, self.attn = nn.LayerNorm(d), SelfAttention(d, cfg.n_heads, cfg.dropout)
        self.ln2, self.cross = (nn.LayerNorm(d), CrossAttention(d, cfg.n_heads)) if cross else (None, None)
        self.ln3, self.mlp = nn.LayerNorm(d), MLP(d, cfg.d_ff, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, lens=None, kv=None, mem_len=None):
        x = x + self.drop(self.attn(self.ln1(x), lens))
        if self.cross is not None:
            x = x + self.drop(self.cross(self.ln2(x), kv, mem_len))
        return x + self.mlp(self.ln3(x))


class TokenEncoder(nn.Module):
    """A small transformer over code-tokenizer ids: the `scratch` encoder, and the literal stream beside MiniLM.

    Its tokens are embedded with the code embedding L (shared with the target), so a literal in the request and
    the same literal in the code start from the same vector: copying it verbatim is the easy path.
    """

    def __init__(self, cfg: ModelConfig, n_layers: int):
        super().__init__()
        self.inp = nn.Linear(cfg.d_latent, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_request_len, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, cross=False) for _ in range(n_layers))
        self.ln = nn.LayerNorm(cfg.d_model)

    def forward(self, emb: torch.Tensor, lens: torch.Tensor, pos: torch.Tensor | None = None) -> torch.Tensor:
        """emb (B, S, d_latent), lens (B,) >= 1; pos: each token's position embedding (B, S, d), by default its
        index's."""
        x = self.inp(emb) + (self.pos.weight[: emb.shape[1]] if pos is None else pos)
        for b in self.blocks:
            x = b(x, lens)
        return self.ln(x)  # (B, S, d)


class NeighbourEncoder(nn.Module):
    """Reads the r recalled pairs that the denoiser and decoder attend to beside the request (retrieval-aware
    denoising). Each pair is its request's code tokens, then its command's, embedded with L like the literal stream,
    so that a neighbour's command and the code being generated share their vectors and copying its structure is the
    easy path. A command's tokens take the denoiser's position embeddings, so that its token j lines up with the
    code's position j. Learned embeddings mark the side (request or command) and the neighbour's rank in recall."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.tokens = TokenEncoder(cfg, cfg.n_neighbour_layers)
        self.side = nn.Embedding(2, cfg.d_model)
        self.rank = nn.Embedding(cfg.n_neighbours, cfg.d_model)

    def forward(self, emb: torch.Tensor, lens: torch.Tensor, split: torch.Tensor, code_pos: torch.Tensor):
        """emb (B, r, L, d_latent); lens (B, r), 0 for an absent neighbour; split (B, r): where the command starts;
        code_pos: the denoiser's position table (max_len, d), which numbers the command's tokens as the code being
        generated is numbered. Returns (B, r, L, d)."""
        B, r, L, _ = emb.shape
        j = torch.arange(L, device=emb.device)[None, None, :]
        command = j >= split[..., None]  # (B, r, L)
        at = (j - split[..., None]).clamp(0, code_pos.shape[0] - 1)
        pos = torch.where(command[..., None], code_pos[at], self.tokens.pos.weight[:L][None, None])
        pos = pos + self.side(command.long()) + self.rank.weight[:r][None, :, None, :]  # (B, r, L, d)
        out = self.tokens(emb.reshape(B * r, L, -1), lens.reshape(-1).clamp_min(1), pos.reshape(B * r, L, -1))
        return out.view(B, r, L, -1)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (Transformer positions; DDPM's time conditioning). (B,) -> (B, dim)"""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([a.cos(), a.sin()], dim=-1)


class Stack(nn.Module):
    """Latent -> d_model -> blocks with cross-attention -> latent. The denoiser N (with t) and the decoder D."""

    def __init__(self, cfg: ModelConfig, n_layers: int, timed: bool):
        super().__init__()
        d = cfg.d_model
        self.inp = nn.Linear(cfg.d_latent, d)
        self.pos = nn.Embedding(cfg.max_len, d)
        self.time = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d)) if timed else None
        self.blocks = nn.ModuleList(Block(cfg, cross=True) for _ in range(n_layers))
        self.ln = nn.LayerNorm(d)
        self.outp = nn.Linear(d, cfg.d_latent)

    def kv(self, mem: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [b.cross.kv(mem) for b in self.blocks]

    def forward(self, x, kv, mem_len, t=None):
        h = self.inp(x) + self.pos.weight[: x.shape[1]]
        if self.time is not None:
            h = h + self.time(timestep_embedding(t, h.shape[-1]).to(h.dtype))[:, None, :]
        for b, kv_b in zip(self.blocks, kv):
            h = b(h, kv=kv_b, mem_len=mem_len)
        return self.outp(self.ln(h))


def pack(a: torch.Tensor, a_len: torch.Tensor, b: torch.Tensor, b_len: torch.Tensor):
    """Concatenate the valid prefixes of two padded memories per row: (B,Sa,d),(B,Sb,d) -> (B,Sa+Sb,d), lengths.

    Keeps every row's valid keys a prefix, so attention needs only a length per row, not a dense mask.
    """
    B, Sa, _ = a.shape
    Sb = b.shape[1]
    j = torch.arange(Sa + Sb, device=a.device)[None, :]  # (1, S)
    from_a = j < a_len[:, None]
    idx = torch.where(from_a, j, Sa + (j - a_len[:, None]).clamp(0, Sb - 1))
    both = torch.cat([a, b], dim=1)
    out = both.gather(1, idx[..., None].expand(-1, -1, both.shape[-1]))
    return out, a_len + b_len


class CodeFusion(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        if cfg.encoder == "minilm":
            from cfusion.core.minilm import load_minilm

            self.minilm = load_minilm()
            self.minilm.requires_grad_(cfg.encoder_trainable)
            self.enc_proj = nn.Linear(self.minilm.width, d)
            self.literal = TokenEncoder(cfg, cfg.n_literal_layers) if cfg.n_literal_layers else None
        else:
            self.minilm = None
            self.literal = TokenEncoder(cfg, cfg.n_encoder_layers)
        self.neighbours = NeighbourEncoder(cfg) if cfg.n_neighbours else None
        # Marks the request's unquoted values (core/tagger); trained apart, by `cfusion data tagger`, never by the
        # diffusion loss.
        self.tagger = ValueTagger(self.minilm.width).requires_grad_(False) if cfg.tagged_slots else None
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_latent)  # L
        self.denoiser = Stack(cfg, cfg.n_denoiser_layers, timed=True)  # N
        self.decoder = Stack(cfg, cfg.n_decoder_layers, timed=False)  # D
        self.head = nn.Linear(cfg.d_latent, cfg.vocab_size)  # H
        nn.init.normal_(self.embed.weight)

    # ---- encoder E -------------------------------------------------------------------------------------------
    def encode(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Request memory E_s (B, S, d) and its valid lengths (B,), from whichever streams the config has.
        batch["enc_hidden"], when given, is MiniLM's output for enc_ids, already computed (generation with recall).
        A retrieval-aware model appends its neighbours (batch["nb_ids"] (B, r, L), "nb_len", "nb_split" (B, r); see
        NeighbourEncoder), each row's valid keys packed into one prefix; without them it reads the request alone."""
        parts = []
        if self.minilm is not None:
            lens = batch["enc_len"]
            with torch.set_grad_enabled(self.cfg.encoder_trainable and torch.is_grad_enabled()):
                h = batch["enc_hidden"] if "enc_hidden" in batch else self.minilm(batch["enc_ids"], lens)
            parts.append((self.enc_proj(h), lens))
        if self.literal is not None:
            lit = self.literal(self.code_embed(batch["lit_ids"]), batch["lit_len"])
            parts.append((lit, batch["lit_len"]))
        if self.neighbours is not None and "nb_ids" in batch:
            nb_len = batch["nb_len"]
            nb = self.neighbours(self.code_embed(batch["nb_ids"]), nb_len, batch["nb_split"], self.denoiser.pos.weight)
            parts += [(nb[:, i], nb_len[:, i]) for i in range(nb.shape[1])]
        mem, lens = parts[0]
        for part in parts[1:]:
            mem, lens = pack(mem, lens, *part)
        if len(parts) > 2 and not (mem.is_cuda and torch.cuda.is_current_stream_capturing()):
            mem = mem[:, : int(lens.max())]  # neighbours are padded to a fixed width: drop the keys no row reads
        return mem, lens

    def train(self, mode: bool = True):
        super().train(mode)
        if self.minilm is not None and not self.cfg.encoder_trainable:
            self.minilm.eval()  # a frozen encoder never runs dropout
        return self

    # ---- code embedding L, head H --------------------------------------------------------------------------
    def code_table(self) -> torch.Tensor:
        """Rows of L on a sphere of radius sqrt(d_latent), so the MSE terms cannot shrink them to 0. (V, d_latent)"""
        return F.normalize(self.embed.weight, dim=-1) * math.sqrt(self.cfg.d_latent)

    def code_embed(self, y: torch.Tensor) -> torch.Tensor:
        """x0 = L(y). (B, n) -> (B, n, d_latent)"""
        return F.embedding(y, self.code_table())

    def read_tokens(self, x0_hat: torch.Tensor, ctx: dict) -> torch.Tensor:
        """The token that D and H read at each position of x0_hat (the fused argmax head, without the
        log-probabilities). (B, n, d_latent) -> (B, n)"""
        d_s = self.decoder(x0_hat, ctx["kv_d"], ctx["mem_len"])
        if type(self.head) is not nn.Linear:  # an int8 head (cfusion.core.int8, CPU only) multiplies by itself
            return self.head(d_s).argmax(-1)
        return kernels.argmax_rows(d_s, self.head.weight, self.head.bias)

    def read_back(self, x0_hat: torch.Tensor, ctx: dict) -> torch.Tensor:
        """The code embedding of the token that D and H read at each position of x0_hat (read_tokens): what a clamped
        step moves toward. (B, n, d_latent) -> (B, n, d_latent)

        Not the code embedding nearest to x0_hat: early in sampling x0_hat is a blur of tokens, which D and H read
        far better (70% of a training command's tokens from pure noise, against 39% for the nearest embedding;
        benchmarks/notebook/)."""
        return ctx["table"][self.read_tokens(x0_hat, ctx)]

    def logits(self, d_s: torch.Tensor) -> torch.Tensor:
        return self.head(d_s)

    def argmax(self, d_s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if type(self.head) is not nn.Linear:  # an int8 head (cfusion.core.int8, CPU only) multiplies by itself
            logits = self.head(d_s)
            top, ids = logits.max(dim=-1)
            return ids, top - torch.logsumexp(logits, dim=-1)
        return kernels.argmax_head(d_s, self.head.weight, self.head.bias)

    # ---- training loss --------------------------------------------------------------------------------------
    def forward(self, batch: dict, schedule) -> dict[str, torch.Tensor]:
        """CodeFusion's three-term loss: ||x0_hat - x0||^2 + ||D_s - L(y)||^2 - log p(y | D_s) (x0 form of GENIE's).

        batch: code_ids (B, n), request inputs, and the random draws t (B,), noise (B, n, d_latent); when
        batch["noise_memory"] is set (pre-training's generation task) E_s is replaced by mem_noise (B, S, d_model).
        """
        y = batch["code_ids"]
        B, n = y.shape
        if batch.get("noise_memory"):
            mem = batch["mem_noise"]
            mem_len = torch.full((B,), mem.shape[1], device=y.device, dtype=torch.long)
        else:
            mem, mem_len = self.encode(batch)
        x0 = self.code_embed(y)
        t = batch["t"]
        x_t = schedule.add_noise(x0, t, batch["noise"])
        x0_hat = self.denoiser(x_t, self.denoiser.kv(mem), mem_len, t)
        d_s = self.decoder(x0_hat, self.decoder.kv(mem), mem_len)
        logits = self.logits(d_s).float()
        l_diff = F.mse_loss(x0_hat.float(), x0.float())
        l_dec = F.mse_loss(d_s.float(), x0.detach().float())
        l_ce = F.cross_entropy(logits.reshape(B * n, -1), y.reshape(-1))
        acc = (logits.detach().argmax(-1) == y).float().mean()
        return {"loss": l_diff + l_dec + l_ce, "diff": l_diff, "dec": l_dec, "ce": l_ce, "tok_acc": acc}

    # ---- sampling -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def prepare(self, batch: dict, k: int) -> dict:
        """What every denoising step reads, computed once per generation: the request memory repeated k times, the
        cross-attention keys and values of every layer, and the code table for clamping."""
        mem, mem_len = self.encode(batch)
        if k > 1:
            mem, mem_len = mem.repeat_interleave(k, 0), mem_len.repeat_interleave(k, 0)
        return {
            "mem_len": mem_len,
            "kv_n": self.denoiser.kv(mem),
            "kv_d": self.decoder.kv(mem),
            "table": self.code_table(),  # (V, d_latent)
        }

    def denoise_step(self, x, ctx: dict, t, i, coefs, clamp: bool, z=None, read: list | None = None):
        """One step of the sampler, in place on x: x0_hat = N(x_t, t); x <- the DDIM update toward x0_hat, or when
        clamping toward the code embeddings of the tokens D and H read from it (read_back). t, i: (B,) timestep and
        step index. read: when a list, those tokens (B, n) are appended to it; read once for both when clamping, and
        for it alone when not. Returns x0_hat."""
        x0_hat = self.denoiser(x, ctx["kv_n"], ctx["mem_len"], t)
        ids = self.read_tokens(x0_hat, ctx) if clamp or read is not None else None
        if read is not None:
            read.append(ids)
        x0_next = ctx["table"][ids] if clamp else x0_hat  # read_back, from the tokens already read
        x.copy_(kernels.noise_update(x, x0_next, z, coefs, i))
        return x0_hat

    def finish(self, x, ctx: dict, t_last: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The last step: x0_hat = N(x, t_last), then D and H once on it. Returns token ids (B, n) and their
        log-probabilities (B, n)."""
        t = torch.full((x.shape[0],), t_last, device=x.device)
        x0_hat = self.denoiser(x, ctx["kv_n"], ctx["mem_len"], t)
        return self.argmax(self.decoder(x0_hat, ctx["kv_d"], ctx["mem_len"]))

    @torch.no_grad()
    def sample(
        self,
        batch: dict,
        n: int,
        schedule,
        steps: int,
        eta: float,
        generator: torch.Generator,
        k: int = 1,
        clamp: bool = True,
        trace: list | None = None,
    ):
        """k samples per request from one batched pass: x_T ~ N(0, I), `steps` denoising steps, then D and H once.

        clamp: before each update, snap x0_hat to the code embeddings of the tokens D and H read from it (Diffusion-LM's
        clamping trick, with the decoder as the reader), so later steps start from real tokens rather than a blur of
        them; D and H still read the last x0_hat.
        trace: when a list, (t, ids (B*k, n)) is appended to it for each estimate x0_hat, the last one's included: the
        tokens D and H read from it, which shows how the answer forms; sampling gives the same ids either way.
        Returns ids (B*k, n) and per-token log-probabilities of the chosen tokens (B*k, n), rows grouped by request.
        This is the eager loop; cfusion.pipeline.sample replays the same step from a CUDA graph.
        """
        ctx = self.prepare(batch, k)
        Bk, dev, dtype = ctx["mem_len"].shape[0], ctx["mem_len"].device, ctx["table"].dtype
        ts, coefs = schedule.step_table(steps, eta)
        coefs = coefs.to(dev)
        x = torch.randn(Bk, n, self.cfg.d_latent, device=dev, generator=generator, dtype=dtype)
        read = [] if trace is not None else None
        for i, t in enumerate(ts[:-1]):
            z = torch.randn(x.shape, device=dev, generator=generator, dtype=dtype) if eta > 0 else None
            self.denoise_step(
                x, ctx, torch.full((Bk,), t, device=dev), torch.full((Bk,), i, device=dev), coefs, clamp, z, read
            )
        ids, scores = self.finish(x, ctx, ts[-1])
        if trace is not None:
            trace.extend(zip(ts, [*read, ids]))
        return ids, scores
