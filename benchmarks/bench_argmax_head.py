"""Times the fused argmax head against eager torch, torch.compile at the
small and base shapes. Usage: python benchmarks/bench_argmax_head.py [--device cuda]"""

from cfusion.eval.bench import op_main

op_main("argmax_head")
