"""The benchmarks of ebm_swift against its peers, in one run: `make bench`, or
`python benchmarks/run.py [suite ...]` for some suites.

Suites (`suites/`): mlp (MLP energies against NumPy, JAX and PyTorch: Langevin and training
steps), cnn (the UvA CNN on 28×28 images against PyTorch eager, `torch.compile` and JAX), hmc
(HMC against BlackJAX; ebm_swift's samplers side by side), score (denoising and sliced score
matching against PyTorch and JAX), distributed (`distributed.sample` on a local Dask cluster
against the in-process call). The peers are defined once, in `peers/`; the workloads in
`workloads.py`.

Each peer runs in a process of its own, one after the other: thread pools left spinning by one
framework (PyTorch's OpenMP workers, NumPy's OpenBLAS threads) would otherwise take cores from the
next. Every figure is the median over 3 rounds of the best of `--repeats` calls after a warm-up
(JIT compilation included there). A peer that is not installed is named and skipped. Results go to
`<out>/results_<suite>.json`.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from suites import SUITES  # noqa: E402
from timing import save_json  # noqa: E402


def child_runner(suite):
    """`child(peer, env=None, **params)`: `suites.<suite>.measure(peer, **params)` in a fresh
    process (with `env` as its environment when given); returns what it returned."""

    def child(peer, env=None, **params):
        cmd = [sys.executable, __file__, "--child", suite, peer, json.dumps(params)]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
        return json.loads(out.strip().splitlines()[-1])

    return child


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="*", choices=[[], *SUITES], default=[], metavar="suite",
                        help=f"suites to run, of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per round (default 5)")
    parser.add_argument("--peers", help="comma-separated peers to compare with (default: each suite's own)")
    parser.add_argument("--configs", help="mlp suite: comma-separated configurations (default: all)")
    parser.add_argument("--blas-environments", action="store_true",
                        help="mlp suite: also run with the CPU's strongest OpenBLAS core forced by hand")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="folder of the results_<suite>.json files")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # suite, peer, params as JSON
    args = parser.parse_args()
    if args.child:
        suite, peer, params = args.child
        out = importlib.import_module(f"suites.{suite}").measure(peer, **json.loads(params))
        print(json.dumps(out))
        return
    if args.peers:
        args.peers = ["ebm_swift"] + [p for p in args.peers.split(",") if p != "ebm_swift"]
    for suite in args.suites or SUITES:
        print(f"\n## {suite}", flush=True)
        results = importlib.import_module(f"suites.{suite}").run(child_runner(suite), args)
        if results is not None:
            save_json(os.path.join(args.out, f"results_{suite}.json"), results)


if __name__ == "__main__":
    main()
