"""`ebm_swift.distributed.fit` on a local Dask cluster against `Trainer.fit` in one process.

Workloads (batch 128, persistent chains):
- uva-cnn-20 / uva-cnn-60: the UvA CNN of the image recipe (`recipes.image_ebm("pcd")`, 0.8 M
  multiply-adds per image) on Fashion-MNIST, 20 and 60 Langevin steps per training step;
- toy-mlp: the toy2d MLP (2, 128, 128) on eight Gaussians, 20 Langevin steps.

For each: steps/s of the local trainer (every core), then of `distributed.fit` on a
`LocalCluster` of 1 worker process (every core) and of 2 (one core each) — loopback, the same two
cores, so the ratio is the overhead, not a speed-up — and a bit-for-bit check of parameters and
buffer against the local run. Each figure is the best of 3 runs of `STEPS` steps after a warm-up
run (which ships the replica). The overhead is split into the per-step round trip (the median step time of
the same fit with 1 Langevin step per training step, minus the local one's) and the bytes a step
moves.
"""

import importlib.util
import os
import sys

import numpy as np
from timing import best_of

STEPS, BATCH = 10, 128


def _workloads():
    import ebm_swift
    from ebm_swift import recipes

    try:
        images = ebm_swift.datasets.load_fashion_mnist("train")[0][:4096]
    except (FileNotFoundError, OSError, ValueError):
        images = np.random.default_rng(0).uniform(-1, 1, (4096, 1, 28, 28)).astype(np.float32)
        print("Fashion-MNIST not installed: uniform images instead (the speed does not depend on them)",
              file=sys.stderr)
    toy = ebm_swift.datasets.make_toy("8gaussians", 4096, seed=0)

    def cnn(n_steps):
        return recipes.image_ebm("pcd", seed=0, n_steps=n_steps, buffer_size=1024).trainer

    def mlp(n_steps):
        return ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (128, 128), seed=0), n_steps=n_steps, buffer_size=1024, seed=0)

    return {"uva-cnn-20": (cnn, 20, images), "uva-cnn-60": (cnn, 60, images), "toy-mlp": (mlp, 20, toy)}


def _step_time(trainer):
    """The median time of a trainer's steps after its first (the native step, negatives included)."""
    return float(np.median(trainer.history["step_time"][1:]))


def _fit(make, data, fit):
    """A fresh trainer after one epoch of `fit(trainer, data)` on the first `STEPS` batches."""
    trainer = make()
    fit(trainer, data[: STEPS * BATCH])
    return trainer


def measure(peer):
    from dask.distributed import Client, LocalCluster
    from ebm_swift import distributed

    def local_fit(t, x):
        t.fit(x, batch_size=BATCH, shuffle=False, progress=False)

    cores = os.cpu_count()
    workloads = _workloads()
    results = {"cores": cores, "steps": STEPS, "batch": BATCH, "rows": []}
    local = {}
    for name, (make, n_steps, data) in workloads.items():
        local[name] = (best_of(lambda: _fit(lambda: make(n_steps), data, local_fit)), _fit(lambda: make(n_steps), data, local_fit))
        local[name + "/probe"] = _step_time(_fit(lambda: make(1), data, local_fit))
    # Seconds per step of the local trainer (the probe: its median step with one Langevin step).
    results["local"] = {k: v[0] / STEPS if isinstance(v, tuple) else v for k, v in local.items()}
    for workers in (1, 2):
        threads = str(max(1, cores // workers))
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, env={"EBM_SWIFT_NUM_THREADS": threads}) as cluster, \
                Client(cluster) as client:

            def remote_fit(t, x):
                distributed.fit(t, x, client=client, batch_size=BATCH, shuffle=False, progress=False)

            for name, (make, n_steps, data) in workloads.items():
                seconds = best_of(lambda: _fit(lambda: make(n_steps), data, remote_fit))
                trainer = _fit(lambda: make(n_steps), data, remote_fit)
                reference = local[name][1]
                # Steps of one Langevin step: what a step costs beyond its work (the fit's setup,
                # which ships the replica, is not in a step's time).
                round_trip = _step_time(_fit(lambda: make(1), data, remote_fit)) - local[name + "/probe"]
                p = trainer.energy.num_parameters + sum(b.size for b in trainer.energy.buffers().values())
                d = int(np.prod(trainer.energy.input_shape))
                pieces = min(workers, -(-BATCH // 64))
                results["rows"].append({
                    "workload": name, "workers": workers, "steps_per_s": STEPS / seconds,
                    "local_steps_per_s": STEPS / local[name][0], "overhead": seconds / local[name][0],
                    "round_trip_s": round_trip, "parameters": p,
                    "bytes_per_step": 4 * (pieces * p + 2 * BATCH * d),
                    "bit_identical": bool(all(np.array_equal(a, b) for a, b in zip(
                        reference.energy.state_dict().values(), trainer.energy.state_dict().values()))
                        and np.array_equal(reference.buffer, trainer.buffer))})
    return results


# The estimate for M machines: 10 Gbit/s links, 0.1 ms latency on top of the measured round trip.
BANDWIDTH, LATENCY = 1.25e9, 1e-4


def cnn_size(width):
    """(parameters, multiply-adds per image) of `recipes.image_cnn(width=width)` (its shapes)."""
    w = width
    convs = [(1, w, 5, 16), (w, 2 * w, 3, 8), (2 * w, 4 * w, 3, 4), (4 * w, 4 * w, 3, 2)]  # in, out, k, output side
    params = sum(i * o * k * k + o for i, o, k, _ in convs) + 16 * w * 64 + 64 + 65
    macs = sum(i * o * k * k * side * side for i, o, k, side in convs) + 16 * w * 64 + 64
    return params, macs


def estimate(results):
    """Time per step on M machines: the driver's part (draws, gradient, update: the local probe's
    step less its one Langevin step, which costs the 20-step step less the probe's over 19) + the
    negatives' Langevin work over min(M, blocks) machines + the round trip + the bytes over the
    driver's link (parameters to each machine, chains out and back). Two cases: batch 128 (2
    blocks of 64: no gain beyond 2 machines) and batch 64·M (a block per machine)."""
    local = results["local"]
    trip = max(0.0, min(r["round_trip_s"] for r in results["rows"] if r["workload"] == "uva-cnn-20"))
    langevin = (local["uva-cnn-20"] - local["uva-cnn-20/probe"]) / 19  # one Langevin step of 128 chains
    driver = max(0.0, local["uva-cnn-20/probe"] - langevin)
    lines = []
    for width in (16, 160):
        p, macs = cnn_size(width)
        scale = macs / cnn_size(16)[1]
        for n_steps in (20, 60):
            for machines, batch in sorted({(m, b) for m in (1, 2, 8, 64, 512) for b in (BATCH, max(BATCH, 64 * m))}):
                rows = batch / BATCH
                used = min(machines, -(-batch // 64))
                step = (scale * rows * (driver + n_steps * langevin / used) + trip + LATENCY
                        + (4 * p * used + 8 * batch * 784) / BANDWIDTH)
                one = scale * rows * (driver + n_steps * langevin)
                lines.append({"width": width, "n_steps": n_steps, "machines": machines, "batch": batch,
                              "seconds_per_step": step, "speedup": one / step, "parameters": p,
                              "driver_s": scale * rows * driver, "langevin_step_s": scale * rows * langevin})
    return lines


def run(child, args):
    if importlib.util.find_spec("dask") is None:
        print("dask not installed: distributed_training suite skipped (pip install 'dask[distributed]')",
              file=sys.stderr)
        return None
    results = child("ebm_swift")
    for row in results["rows"]:
        print(f"{row['workload']:>10}, {row['workers']} worker(s): {row['steps_per_s']:6.2f} steps/s (local "
              f"{row['local_steps_per_s']:6.2f}), time ratio {row['overhead']:.2f}, round trip "
              f"{row['round_trip_s'] * 1e3:.1f} ms/step, {row['bytes_per_step'] / 1e6:.2f} MB/step "
              f"({row['parameters']:,} parameters), bit-identical {row['bit_identical']}")
    results["estimate"] = estimate(results)
    first = results["estimate"][0]
    print(f"measured locally: the driver's part of a step {first['driver_s'] * 1e3:.1f} ms, one Langevin step of "
          f"{BATCH} chains {first['langevin_step_s'] * 1e3:.1f} ms")
    print("estimate (time per step, speed-up over one machine of 2 cores training the same batch):")
    for e in results["estimate"]:
        print(f"  width {e['width']:>3}, {e['n_steps']} Langevin steps, {e['machines']:>3} machines, batch "
              f"{e['batch']:>6}: {e['seconds_per_step']:8.3f} s/step, speed-up {e['speedup']:6.1f}×")
    return results
