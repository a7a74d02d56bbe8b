"""Request -> answers: recall -> sample -> edit -> rank (generator.Generator runs them in order).

Kept free of imports so that the CLI reads the defaults without loading torch.
"""

DEFAULT_STEPS = 10  # denoising steps of `gen` and `eval` (on the CPU, a model folder's cpu.json may say fewer)
DEFAULT_RECALL = 30  # known pairs recalled per request when the model has a memory
