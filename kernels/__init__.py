"""Fused ops of the denoising loop. Each op has a plain-torch reference (`*_ref`): the CPU path and the test oracle."""

from cfusion.kernels.argmax_head import argmax_head_ref
from cfusion.kernels.cross_attention import cross_attention_ref
from cfusion.kernels.noise_update import noise_update_ref

__all__ = ["argmax_head_ref", "cross_attention_ref", "noise_update_ref"]
