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


def best_of(fn, repeats=3):
    """The fastest of `repeats` calls of `fn` after a warm-up call (the distributed suites: the
    warm-up ships the energy or replica and starts the workers' imports)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def save_json(path, results):
    """Writes `results` to `path` as indented JSON (nothing when `path` is None)."""
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=1)


def best_threads(runs, key):
    """The run of `runs` (one per thread count) that is fastest by `key` (a field name, or a
    function of the run)."""
    return max(runs, key=key if callable(key) else lambda r: r[key])


def thread_counts():
    """The thread counts a peer that does not use every core by default is measured with: 1 and
    2, and every core when there are more."""
    import os

    return sorted({1, 2, os.cpu_count() or 1})
