"""`ebm_swift.distributed.sample` on a local Dask cluster against the in-process call.

Workload: the toy2d MLP (2, 128, 128, SiLU), Langevin, 20 steps of η = 0.01, N chains from a
seeded normal. For N = 10⁴, 10⁵, 10⁶: the in-process `ebm_swift.langevin` (all cores), then
`distributed.sample` on a `LocalCluster` of 1 worker process (with every core) and of 2 (one core
each), two chunks per worker; chain-steps/s, the overhead against in-process (time ratio), and a
bit-for-bit check of the result. Each figure is the best of 3 calls after a warm-up call (which
ships the energy and starts the workers' imports). A chunk's round trip with no sampling
(`n_steps` = 1 on 1 chain, as many tasks) gives the per-task latency.
"""

import importlib.util
import os
import sys

import numpy as np
from timing import best_of

STEPS, ETA = 20, 0.01
SIZES = (10_000, 100_000, 1_000_000)


def measure(peer):
    import ebm_swift
    from dask.distributed import Client, LocalCluster
    from ebm_swift import distributed

    cores = os.cpu_count()
    energy = ebm_swift.MLPEnergy(2, (128, 128), seed=0)
    results, local = {"cores": cores, "rows": []}, {}
    for n in SIZES:
        x0 = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
        local[n] = (best_of(lambda: ebm_swift.langevin(energy, x0, STEPS, ETA, seed=1)),
                    ebm_swift.langevin(energy, x0, STEPS, ETA, seed=1))
    for workers in (1, 2):
        threads = str(max(1, cores // workers))
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, env={"EBM_SWIFT_NUM_THREADS": threads}) as cluster, \
                Client(cluster) as client:
            tiny = np.zeros((16 * 2 * workers, 2), np.float32)
            latency = best_of(lambda: distributed.sample(energy, tiny, 1, ETA, client=client, chunk_size=16, seed=1))
            for n in SIZES:
                x0 = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
                chunk = -(-n // (2 * workers))
                call = lambda: distributed.sample(energy, x0, STEPS, ETA, client=client, chunk_size=chunk, seed=1)  # noqa: E731
                seconds = best_of(call)
                results["rows"].append({
                    "workers": workers, "chains": n, "seconds": seconds, "chain_steps_per_s": n * STEPS / seconds,
                    "local_seconds": local[n][0], "local_chain_steps_per_s": n * STEPS / local[n][0],
                    "overhead": seconds / local[n][0], "task_round_trip_s": latency / (2 * workers),
                    "bit_identical": bool(np.array_equal(call(), local[n][1]))})
    return results


def run(child, args):
    if importlib.util.find_spec("dask") is None:
        print("dask not installed: distributed suite skipped (pip install 'dask[distributed]')", file=sys.stderr)
        return None
    results = child("ebm_swift")
    for row in results["rows"]:
        print(f"{row['workers']} worker(s), {row['chains']:>9,} chains: {row['chain_steps_per_s'] / 1e6:6.2f} M "
              f"chain-steps/s (in-process {row['local_chain_steps_per_s'] / 1e6:6.2f} M), overhead "
              f"{row['overhead']:.2f}×, bit-identical {row['bit_identical']}; per-task round trip "
              f"{row['task_round_trip_s'] * 1e3:.1f} ms")
    return results
