"""Multi-core scaling of sampling: chain-steps per second with 1 and 2 threads, same process.

The issue-3 configuration: MLP [2, 64, 64, 1] (SiLU), 4096 chains, Langevin and MALA.
Run with `make bench-threads` (or `.venv/bin/python benchmarks/threads.py`). Reports the median of
several repeats after a warm-up, and checks that the outputs are bit-identical across thread counts.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import ebm_swift

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import save_json  # noqa: E402


def rate(fn, chain_steps, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return chain_steps / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chains", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    model = ebm_swift.MLPEnergy(2, (64, 64), "swish", seed=0)
    x0 = np.random.default_rng(0).uniform(-2, 2, size=(args.chains, 2)).astype(np.float32)
    work = args.chains * args.steps
    samplers = {
        "langevin": lambda: ebm_swift.langevin(model, x0, args.steps, 0.01, seed=1),
        "mala": lambda: ebm_swift.mala(model, x0, args.steps, 0.01, seed=1)[0],
    }
    results = {}
    original = ebm_swift.get_num_threads()
    try:
        for name, fn in samplers.items():
            outputs, rates = [], {}
            for threads in (1, 2):
                ebm_swift.set_num_threads(threads)
                rates[threads] = rate(fn, work, args.repeats)
                outputs.append(fn())
            identical = bool(np.array_equal(outputs[0], outputs[1]))
            results[name] = {"chain_steps_per_s_1_thread": rates[1], "chain_steps_per_s_2_threads": rates[2],
                             "speedup": rates[2] / rates[1], "bit_identical": identical}
            print(f"{name:9s} 1 thread {rates[1] / 1e6:6.2f} M chain-steps/s | 2 threads {rates[2] / 1e6:6.2f} M "
                  f"| speed-up {rates[2] / rates[1]:.2f}x | bit-identical: {identical}")
    finally:
        ebm_swift.set_num_threads(original)
    print(f"(MLP [2, 64, 64, 1], {args.chains} chains x {args.steps} steps, median of {args.repeats}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, cores={os.cpu_count()})")
    save_json(args.json, results)


if __name__ == "__main__":
    main()
