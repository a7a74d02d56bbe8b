"""Times the length-aware cross-attention against eager torch, torch.compile and every SDPA backend at the
small and base shapes. Usage: python benchmarks/bench_cross_attention.py [--device cuda]"""

from cfusion.eval.bench import op_main

op_main("cross_attention")
