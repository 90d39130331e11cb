"""The benchmarks of ebm_swift against its peers, in one run: `make bench`, or
`python benchmarks/run.py [suite ...]` for some suites.

Suites (`suites/`): mlp (MLP energies against NumPy, JAX and PyTorch: Langevin and training
steps), cnn (the UvA CNN on 28×28 images against PyTorch eager, `torch.compile` and JAX), hmc
(HMC against BlackJAX; ebm_swift's samplers side by side), score (denoising and sliced score
matching against PyTorch and JAX), distributed (`distributed.sample` on a local Dask cluster
against the in-process call). The peers are defined once, in `peers/`; the workloads in
`workloads.py`.

The report starts with the CPU's model and SIMD flags (saved with every suite's results): speed
ratios depend on the machine. Each peer runs in a process of its own, one after the other: thread pools left spinning by one
framework (PyTorch's OpenMP workers, NumPy's OpenBLAS threads) would otherwise take cores from the
next. Every figure is the median over 3 rounds of the best of `--repeats` calls after a warm-up
(JIT compilation included there). A peer that is not installed is named and skipped. Results go to
`<out>/results_<suite>.json`.
"""

import argparse
import importlib
import json
import os
import platform
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


SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512", "amx", "avx_vnni")


def cpu():
    """The CPU the figures were measured on: model name, family/model, cores and its SIMD flags
    (from /proc/cpuinfo; empty fields elsewhere)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = sorted(f for f in fields.get("flags", "").split() if f.startswith(SIMD_FLAGS))
    return {"model_name": fields.get("model name", platform.processor()), "family": fields.get("cpu family"),
            "model": fields.get("model"), "cores": os.cpu_count(), "simd_flags": flags}


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
    os.makedirs(args.out, exist_ok=True)
    machine = cpu()
    print(f"CPU: {machine['model_name']} (family {machine['family']}, model {machine['model']}), "
          f"{machine['cores']} cores; SIMD: {' '.join(machine['simd_flags'])}", flush=True)
    if args.peers:
        args.peers = ["ebm_swift"] + [p for p in args.peers.split(",") if p != "ebm_swift"]
    for suite in args.suites or SUITES:
        print(f"\n## {suite}", flush=True)
        results = importlib.import_module(f"suites.{suite}").run(child_runner(suite), args)
        if results is not None:
            results["cpu"] = machine
            save_json(os.path.join(args.out, f"results_{suite}.json"), results)


if __name__ == "__main__":
    main()
