"""cfusion: offline natural-language-to-code with a CodeFusion-style diffusion model."""

__version__ = "0.1.0"
