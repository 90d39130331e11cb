"""MLP energies: ebm_swift against NumPy, JAX, PyTorch eager and `torch.compile` (the issue-5
workload).

MLP [D, H, H, 1] with SiLU, float32, the same seeded weights in every framework. Langevin
x ← x − η∇x E + sqrt(2η) ε with η = 0.01.
- langevin: B chains × 100 steps → chain-steps per second;
- train: B negatives from a 10 000-row persistent buffer (5 % re-initialised from U(−1, 1)),
  20 Langevin steps, written back; B data rows; weight gradient of
  mean E(pos) − mean E(neg) + 0.1·(mean E(pos)² + mean E(neg)²); one Adam step → steps per second.

GFLOP/s counts matrix-product FLOPs only, 4·B·P per Langevin step (P = weight-matrix entries),
against the OpenBLAS sgemm roofline (n = 1024, all cores) measured in ebm_swift's process, which
also measures the scaling over B and resident memory over 10 000 more calls. PyTorch (eager and
compiled) runs with 1 and with 2 threads, each in its own process, and the better of the two is
reported per configuration and figure (its thread count printed). With
`--blas-environments` the suite runs with OPENBLAS_CORETYPE unset (a user's machine; the headline)
and with the CPU's strongest core forced by hand, and prints the ratio.
"""

import ctypes
import os
import platform
import resource
import time

from timing import best_threads, thread_counts, timed
from workloads import Langevin, Training, mlp, uniform_batch

CONFIGS = {"toy2d": (2, 128, 256), "digits8x8": (64, 256, 128), "mnist": (784, 512, 128), "manychains": (2, 64, 4096)}
LANGEVIN = Langevin(step_size=0.01)
TRAINING = Training(n_steps=20, buffer_size=10_000, reinit=0.05, alpha=0.1, lr=1e-3)
LANGEVIN_STEPS = 100
PEERS = ("ebm_swift", "numpy", "jax", "torch", "torch_compile")


def measure(peer, configs, repeats, threads=None):
    from peers import load, options

    module, rows = load(peer), {}
    for config in configs:
        d, h, b = CONFIGS[config]
        network = mlp(d, h)
        sampler = module.Sampler(network, network.weights(), LANGEVIN, TRAINING, threads=threads, **options(peer))
        x0, pos = uniform_batch((b, d), 1), uniform_batch((b, d), 2)
        flops_step = 4 * b * (d * h + h * h + h)
        lang = timed(lambda: sampler.langevin(x0, LANGEVIN_STEPS), repeats)
        train = timed(lambda: sampler.train_step(pos), repeats)
        rows[config] = {"langevin_chain_steps_per_s": b * LANGEVIN_STEPS / lang,
                        "langevin_gflops": flops_step * LANGEVIN_STEPS / lang / 1e9,
                        "train_steps_per_s": 1 / train,
                        "train_langevin_gflops": flops_step * TRAINING.n_steps / train / 1e9}
    out = {"configs": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "threads": threads}
    if peer == "ebm_swift":
        out.update(runtime=module.runtime(), sgemm_roofline_gflops=sgemm_roofline(), scaling=scaling(),
                   memory=memory_growth())
    return out


def run(child, args):
    if not args.blas_environments:
        return _one_environment(child, args, None)
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
        print(f"== {label}: OPENBLAS_CORETYPE {'=' + env['OPENBLAS_CORETYPE'] if 'OPENBLAS_CORETYPE' in env else 'unset'}",
              flush=True)
        combined[label] = _one_environment(child, args, env)
    if len(environments) > 1:
        forced = environments[1][0]
        print(f"== default / {forced} (1.00 = the default is as fast as the core forced by hand)")
        for config, row in combined["default"]["configs"].items():
            mine, ref = row["ebm_swift"], combined[forced]["configs"][config]["ebm_swift"]
            print(f"{config:11s} langevin {mine['langevin_chain_steps_per_s'] / ref['langevin_chain_steps_per_s']:.2f}"
                  f"  train {mine['train_steps_per_s'] / ref['train_steps_per_s']:.2f}")
    return combined


def _one_environment(child, args, env):
    from peers import available

    configs = [c for c in args.configs.split(",") if c in CONFIGS] if args.configs else list(CONFIGS)
    per_peer = {}
    for name in available(args.peers or PEERS):
        if name.startswith("torch"):
            runs = [child(name, env=env, configs=configs, repeats=args.repeats, threads=t) for t in thread_counts()]
            per_peer[name] = _best_of_threads(runs)
        else:
            per_peer[name] = child(name, env=env, configs=configs, repeats=args.repeats)
    ours = per_peer["ebm_swift"]
    roofline, rt = ours["sgemm_roofline_gflops"], ours["runtime"]
    results = {"environment": {"OPENBLAS_CORETYPE": (env or os.environ).get("OPENBLAS_CORETYPE"),
                               "cpu_count": os.cpu_count(), "machine": platform.machine(),
                               "python": platform.python_version()},
               "sgemm_roofline_gflops": roofline, "runtime": rt, "configs": {}}
    tag = f"[ebm_swift {rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}]"
    if rt["weaker_than_cpu"]:
        print(f"WARNING: OpenBLAS runs {rt['blas_core']} ({rt['blas_core_level']}) kernels on a CPU that runs "
              f"{rt['cpu_level']} ones: these figures are not what this machine can do", flush=True)
    for config in ours["configs"]:
        row = {name: dict(r["configs"][config]) for name, r in per_peer.items()}
        for r in row.values():
            r["langevin_roofline_fraction"] = r["langevin_gflops"] / roofline
        mine = row["ebm_swift"]
        for name, r in row.items():
            if name != "ebm_swift":
                mine[f"langevin_vs_{name}"] = mine["langevin_chain_steps_per_s"] / r["langevin_chain_steps_per_s"]
                mine[f"train_vs_{name}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
        results["configs"][config] = row
        print(f"{config:11s}", tag, " | ".join(
            f"{k}: {v['langevin_chain_steps_per_s'] / 1e3:9.1f} k chain-steps/s, {v['train_steps_per_s']:7.1f} train/s"
            + (f" (threads {v['threads']['langevin']}/{v['threads']['train']})" if "threads" in v else "")
            for k, v in row.items()), flush=True)
        print(f"{'':11s} ebm_swift / peer: " + ", ".join(
            f"{k} {mine[f'langevin_vs_{k}']:.2f}x · {mine[f'train_vs_{k}']:.2f}x" for k in row if k != "ebm_swift")
            + f"; Langevin at {mine['langevin_roofline_fraction']:.0%} of the sgemm roofline", flush=True)
    results.update(scaling=ours["scaling"], memory=ours["memory"], peak_rss_mb=ours["peak_rss_mb"],
                   peak_rss_mb_by_framework={name: r["peak_rss_mb"] for name, r in per_peer.items()})
    return results


def _best_of_threads(runs):
    """One peer's runs at several thread counts merged: per configuration, the Langevin figures of
    the run fastest at Langevin and the training figures of the run fastest at training."""
    out = dict(runs[0], configs={}, by_threads={str(r["threads"]): r["configs"] for r in runs})
    for config in runs[0]["configs"]:
        lang = best_threads(runs, lambda r: r["configs"][config]["langevin_chain_steps_per_s"])
        train = best_threads(runs, lambda r: r["configs"][config]["train_steps_per_s"])
        row = {k: v for k, v in lang["configs"][config].items() if k.startswith("langevin")}
        row.update({k: v for k, v in train["configs"][config].items() if k.startswith("train")})
        row["threads"] = {"langevin": lang["threads"], "train": train["threads"]}
        out["configs"][config] = row
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return out


def sgemm_roofline(n=1024):
    """GFLOP/s of the OpenBLAS that ebm_swift links, cblas_sgemm at n = 1024, all cores."""
    import numpy as np
    from ebm_swift import _loading

    blas = ctypes.CDLL(_loading.BLAS_PATH)  # the library ebm_swift loaded (scipy-openblas32)
    blas.scipy_openblas_set_num_threads(os.cpu_count())
    a, b = (np.random.default_rng(s).random((n, n), dtype=np.float32) for s in (0, 1))
    c = np.zeros((n, n), dtype=np.float32)
    ptr = lambda m: m.ctypes.data_as(ctypes.POINTER(ctypes.c_float))  # noqa: E731
    seconds = timed(lambda: blas.scipy_cblas_sgemm(101, 111, 111, n, n, n, ctypes.c_float(1.0), ptr(a), n, ptr(b), n,
                                                   ctypes.c_float(0.0), ptr(c), n))
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        blas.scipy_openblas_set_num_threads(1)  # what ebm_swift itself uses (it parallelises over chains)
    return 2 * n**3 / seconds / 1e9


def _resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_growth(calls=10_000):
    """Resident memory before and after `calls` more langevin calls and trainer steps (toy2d
    widths, 256 chains, 5 steps each), after 500 warm-up calls of each. The trainer's Python-side
    history is cleared after each step so that only the library's own memory is measured."""
    import ebm_swift

    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    trainer = ebm_swift.Trainer(model, lr=1e-4, n_steps=5, buffer_size=10_000, seed=0)
    x0, pos = uniform_batch((256, 2), 1), uniform_batch((256, 2), 2)
    out = {"calls": calls}
    for label, call in (("langevin", lambda i: ebm_swift.langevin(model, x0, 5, 0.01, seed=i)),
                        ("train_step", lambda i: (trainer.step(pos), [h.clear() for h in trainer.history.values()]))):
        for i in range(500):
            call(i)
        before = _resident_mb()
        for i in range(calls):
            call(i)
        out[label] = {"rss_before_mb": before, "rss_after_mb": _resident_mb()}
    return out


def scaling():
    """Chain-steps/s over B at toy2d widths, and the one-step one-chain latency of `langevin` and
    of persistent `Chains`."""
    import ebm_swift

    model = ebm_swift.MLPEnergy(2, (128, 128), "swish", seed=0)
    out = {"chain_steps_per_s": {}}
    for b in (1, 16, 256, 4096, 65536):
        x0 = uniform_batch((b, 2), 1)
        steps = max(2, min(100, 2_000_000 // (b * 100)))
        seconds = timed(lambda: ebm_swift.langevin(model, x0, steps, 0.01, seed=0), repeats=3)
        out["chain_steps_per_s"][b] = b * steps / seconds
    x1, n = uniform_batch((1, 2), 1), 2000
    t0 = time.perf_counter()
    for _ in range(n):
        ebm_swift.langevin(model, x1, 1, 0.01, seed=0)
    out["one_step_one_chain_latency_us"] = (time.perf_counter() - t0) / n * 1e6
    chains = ebm_swift.Chains(model, x1, ebm_swift.samplers.Langevin(0.01), seed=0)
    chains.run(1)
    t0 = time.perf_counter()
    for _ in range(n):
        chains.run(1)
    out["one_step_one_chain_chains_latency_us"] = (time.perf_counter() - t0) / n * 1e6
    return out
