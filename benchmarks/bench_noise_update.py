"""Times the fused noise-schedule update against eager torch, torch.compile at the
small and base shapes. Usage: python benchmarks/bench_noise_update.py [--device cuda]"""

from cfusion.eval.bench import op_main

op_main("noise_update")
