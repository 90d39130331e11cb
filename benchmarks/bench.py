"""ebm_swift against NumPy, JAX and PyTorch on the issue-5 workload, in one run (`make bench`).

For each configuration and framework: the median over 3 rounds of the best of 5 timed calls,
after a warm-up (JIT compilation included there). Reports chain-steps/s (langevin), train
steps/s, matrix-product GFLOP/s and their fraction of the OpenBLAS sgemm roofline (measured in
ebm_swift's process), ratios to each peer, and peak RSS.

Each framework runs in a subprocess of its own, one after the other, on the same seeded weights
and inputs: thread pools left spinning by one framework (PyTorch's OpenMP workers, NumPy's
OpenBLAS threads) would otherwise take cores from the next one measured. `--both-environments`
runs the whole suite with OPENBLAS_CORETYPE removed (what a user's machine has; the headline), with
it forced to the strongest core this CPU runs (`ebm_swift.config.recommended_blas_core()`: the
"right core by hand" to compare the default with), and, if it was set, as set.

Every line names the instruction set of ebm_swift's build and its OpenBLAS core; a warning opens
the run when that core is weaker than the CPU.
"""

import argparse
import ctypes
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peer_ebm_swift import EbmSwiftPeer  # noqa: E402
from peer_numpy import NumpyPeer  # noqa: E402
from timing import save_json, timed  # noqa: E402
from workload import CONFIGS, LANGEVIN_STEPS, TRAIN_LANGEVIN_STEPS, data, matmul_weights, weights  # noqa: E402


def sgemm_roofline(n=1024):
    """GFLOP/s of the OpenBLAS that ebm_swift links, cblas_sgemm at n = 1024, all cores."""
    from ebm_swift import _loading

    blas = ctypes.CDLL(_loading.BLAS_PATH)  # the library ebm_swift loaded (scipy-openblas32)
    blas.scipy_openblas_set_num_threads(os.cpu_count())
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    c = np.zeros((n, n), dtype=np.float32)
    ptr = lambda m: m.ctypes.data_as(ctypes.POINTER(ctypes.c_float))  # noqa: E731
    call = lambda: blas.scipy_cblas_sgemm(101, 111, 111, n, n, n, ctypes.c_float(1.0), ptr(a), n, ptr(b), n,  # noqa: E731
                                          ctypes.c_float(0.0), ptr(c), n)
    seconds = timed(call)
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        blas.scipy_openblas_set_num_threads(1)  # what ebm_swift itself uses (it parallelises over chains)
    return 2 * n**3 / seconds / 1e9


def runtime():
    """ebm_swift's build and BLAS kernels, as printed beside every figure."""
    import ebm_swift

    config = ebm_swift.show_config("dicts")
    blas = config["blas"]
    return {"isa": config["instruction_set"]["selected"], "blas_core": blas["core"],
            "blas_version": blas["version"], "blas_core_level": blas.get("core_level"),
            "cpu_level": blas.get("cpu_level"), "weaker_than_cpu": blas.get("weaker_than_cpu", False),
            "OPENBLAS_CORETYPE": blas["OPENBLAS_CORETYPE"]}


def peer_class(name):
    """The peer class of one framework (imported only in that framework's process)."""
    if name == "ebm_swift":
        return EbmSwiftPeer
    if name == "numpy":
        return NumpyPeer
    if name == "jax":
        from peer_jax import JaxPeer

        return JaxPeer
    from peer_torch import TorchPeer

    return TorchPeer


def available_frameworks(names):
    out = ["ebm_swift", "numpy"]
    for name, hint in (("jax", "make bench installs it"), ("torch", "pip install torch to include it")):
        if name in names:
            if importlib.util.find_spec(name) is None:
                print(f"{name} not installed: skipped ({hint})", file=sys.stderr)
            else:
                out.append(name)
    return out


def measure(name, configs, repeats):
    """This process's framework on every configuration (the `--only` child)."""
    cls = peer_class(name)
    rows = {}
    for config, d, h, b in configs:
        p = weights(d, h)
        flops_step = 4 * b * matmul_weights(d, h)
        x0, pos = data(d, b, seed=1), data(d, b, seed=2)
        peer = cls(p, d, b)
        lang = timed(lambda: peer.langevin(x0, LANGEVIN_STEPS), repeats)
        train = timed(lambda: peer.train_step(pos), repeats)
        rows[config] = {
            "langevin_chain_steps_per_s": b * LANGEVIN_STEPS / lang,
            "langevin_gflops": flops_step * LANGEVIN_STEPS / lang / 1e9,
            "train_steps_per_s": 1 / train,
            "train_langevin_gflops": flops_step * TRAIN_LANGEVIN_STEPS / train / 1e9,
        }
    out = {"configs": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if name == "ebm_swift":
        out["runtime"] = runtime()
        out["sgemm_roofline_gflops"] = sgemm_roofline()
        out["scaling"] = scaling()
        out["memory"] = memory_growth()
    return out


def run_suite(args):
    results = {"environment": {"OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "cpu_count": os.cpu_count(),
                               "machine": platform.machine(), "python": platform.python_version()},
               "configs": {}}
    per_framework = {}
    for name in available_frameworks(args.frameworks.split(",")):
        cmd = [sys.executable, __file__, "--only", name, "--configs", args.configs, "--repeats", str(args.repeats)]
        child = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
        per_framework[name] = json.loads(child.stdout)
    ours = per_framework["ebm_swift"]
    roofline = ours["sgemm_roofline_gflops"]
    results["sgemm_roofline_gflops"] = roofline
    rt = results["runtime"] = ours["runtime"]
    tag = f"[ebm_swift {rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}]"
    if rt["weaker_than_cpu"]:
        print(f"WARNING: OpenBLAS runs {rt['blas_core']} ({rt['blas_core_level']}) kernels on a CPU that runs "
              f"{rt['cpu_level']} ones: these figures are not what this machine can do", flush=True)
    for config in ours["configs"]:
        row = {name: dict(r["configs"][config]) for name, r in per_framework.items()}
        for r in row.values():
            r["langevin_roofline_fraction"] = r["langevin_gflops"] / roofline
        mine = row["ebm_swift"]
        for peer_name, r in row.items():
            if peer_name != "ebm_swift":
                mine[f"langevin_vs_{peer_name}"] = mine["langevin_chain_steps_per_s"] / r["langevin_chain_steps_per_s"]
                mine[f"train_vs_{peer_name}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
        results["configs"][config] = row
        print(f"{config:11s}", tag, " | ".join(
            f"{k}: {v['langevin_chain_steps_per_s'] / 1e3:9.1f} k chain-steps/s, {v['train_steps_per_s']:7.1f} train/s"
            for k, v in row.items()), flush=True)
    results["scaling"] = ours["scaling"]
    results["memory"] = ours["memory"]
    results["peak_rss_mb"] = ours["peak_rss_mb"]
    results["peak_rss_mb_by_framework"] = {name: r["peak_rss_mb"] for name, r in per_framework.items()}
    return results


def resident_mb():
    """Current resident set size (not the peak), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_growth(calls=10_000):
    """Resident memory before and after `calls` more langevin calls and trainer steps (toy2d
    widths, 256 chains, 5 steps each), after 500 warm-up calls of each. The trainer's Python-side
    history (six floats per step, by design) is cleared after each step so that only the
    library's own memory is measured."""
    import ebm_swift

    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    trainer = ebm_swift.Trainer(model, lr=1e-4, n_steps=5, buffer_size=10_000, seed=0)
    x0, pos = data(2, 256, seed=1), data(2, 256, seed=2)
    out = {"calls": calls}
    for label, call in (("langevin", lambda i: ebm_swift.langevin(model, x0, 5, 0.01, seed=i)),
                        ("train_step", lambda i: (trainer.step(pos), [h.clear() for h in trainer.history.values()]))):
        for i in range(500):
            call(i)
        before = resident_mb()
        for i in range(calls):
            call(i)
        out[label] = {"rss_before_mb": before, "rss_after_mb": resident_mb()}
    return out


def scaling():
    """Chain-steps/s over B at toy2d widths, and the one-step one-chain latency."""
    import ebm_swift

    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    out = {"chain_steps_per_s": {}}
    for b in (1, 16, 256, 4096, 65536):
        x0 = data(2, b)
        steps = max(2, min(100, 2_000_000 // (b * 100)))
        seconds = timed(lambda: ebm_swift.langevin(model, x0, steps, 0.01, seed=0), repeats=3)
        out["chain_steps_per_s"][b] = b * steps / seconds
    x1 = data(2, 1)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        ebm_swift.langevin(model, x1, 1, 0.01, seed=0)
    out["one_step_one_chain_latency_us"] = (time.perf_counter() - t0) / n * 1e6
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frameworks", default="jax,torch")
    parser.add_argument("--configs", default=",".join(c[0] for c in CONFIGS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default="benchmarks/results.json")
    parser.add_argument("--both-environments", action="store_true")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # child process: one framework, JSON on stdout
    args = parser.parse_args()
    configs = [c for c in CONFIGS if c[0] in args.configs.split(",")]
    if args.only:
        json.dump(measure(args.only, configs, args.repeats), sys.stdout)
        return
    if not args.both_environments:
        results = run_suite(args)
        print(json.dumps({k: v for k, v in results.items() if k != "configs"}, indent=1))
        save_json(args.json, results)
        return
    import ebm_swift.config

    without = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    environments = [("default", without)]
    recommended = ebm_swift.config.recommended_blas_core()
    if recommended is not None:
        environments.append((f"forced_{recommended}", dict(without, OPENBLAS_CORETYPE=recommended)))
    if "OPENBLAS_CORETYPE" in os.environ:
        environments.append(("as_set", dict(os.environ)))
    combined = {}
    for label, env in environments:
        out = args.json.replace(".json", f".{label}.json")
        cmd = [sys.executable, __file__, "--frameworks", args.frameworks, "--configs", args.configs,
               "--repeats", str(args.repeats), "--json", out]
        print(f"== {label}: OPENBLAS_CORETYPE {'=' + env['OPENBLAS_CORETYPE'] if 'OPENBLAS_CORETYPE' in env else 'unset'}",
              flush=True)
        subprocess.run(cmd, env=env, check=True)
        with open(out) as f:
            combined[label] = json.load(f)
    if len(environments) > 1:
        forced = environments[1][0]
        print(f"== default / {forced} (1.00 = the default is as fast as the core forced by hand)")
        for config, row in combined["default"]["configs"].items():
            mine, ref = row["ebm_swift"], combined[forced]["configs"][config]["ebm_swift"]
            print(f"{config:11s} langevin {mine['langevin_chain_steps_per_s'] / ref['langevin_chain_steps_per_s']:.2f}"
                  f"  train {mine['train_steps_per_s'] / ref['train_steps_per_s']:.2f}")
    save_json(args.json, combined)


if __name__ == "__main__":
    main()
