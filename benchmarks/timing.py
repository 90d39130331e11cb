"""The one timer of the benchmarks: the median over `rounds` of the best of `repeats` calls, after
one warm-up call (JIT compilation, first-touch allocation); and the one writer of their results."""

import json
import statistics
import time


def timed(fn, repeats=5, rounds=3):
    fn()  # warm-up
    rounds_best = []
    for _ in range(rounds):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        rounds_best.append(best)
    return statistics.median(rounds_best)


def save_json(path, results):
    """Writes `results` to `path` as indented JSON (nothing when `path` is None)."""
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=1)


def tagged(out, name, threads):
    """A peer's measured `out`, tagged with what it ran on: ebm_swift's build, BLAS core and thread
    count, or the thread count PyTorch was given."""
    if name == "ebm_swift":
        out["runtime"] = ebm_swift_runtime()
    if name == "torch":
        out["threads"] = threads
    return out


def ebm_swift_runtime():
    """The build, BLAS core and thread count a figure of ebm_swift was measured with."""
    import ebm_swift

    cfg = ebm_swift.show_config("dicts")
    return {"isa": cfg["instruction_set"]["selected"], "blas_core": cfg["blas"]["core"],
            "blas_version": cfg["blas"]["version"], "threads": ebm_swift.get_num_threads()}


def run_child(script, *args):
    """Runs `script` with `args` in a fresh Python process and returns the JSON it prints: one
    framework per process, so that one's thread pools cannot take cores from the next."""
    import subprocess
    import sys

    cmd = [sys.executable, script, *map(str, args)]
    return json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
