"""HMC: ebm_swift against BlackJAX on a correlated 10-D Gaussian (`make bench` runs it).

Target: N(μ, Σ), Σ = Q diag(λ) Qᵀ with λ log-spaced over [0.1, 10] (condition number 100) and a
seeded random rotation Q — the target of the exactness test. Both libraries run the same kernel:
`n_leapfrog` leapfrog steps of size `step_size`, identity mass, Metropolis test; `chains`
independent chains from the same starting point for `steps` steps, the first `burn_in` discarded.

Reported per library: gradient evaluations per second (chains × steps × n_leapfrog / seconds),
the acceptance rate, the smallest effective sample size over the 10 coordinates (the same
estimator, `ebm_swift.diagnostics.effective_sample_size`, on both trajectories) and effective
samples per second; then the ratios. Times: the median over 3 rounds of the best of `--repeats`
calls, after a warm-up (JAX's compilation included there). Each library runs in a subprocess of
its own. Also: effective samples per second of ULA, MALA and HMC (with and without adaptation) on
the same target, for the README's "Which sampler?" table.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import save_json, timed  # noqa: E402

CHAINS, STEPS, BURN_IN, STEP_SIZE, N_LEAPFROG = 1000, 600, 100, 0.15, 12


def target():
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    cov = q @ np.diag(np.logspace(-1, 1, 10)) @ q.T
    return np.linspace(-1, 1, 10), cov


def min_ess(trajectory):
    import ebm_swift

    return float(ebm_swift.diagnostics.effective_sample_size(np.asarray(trajectory)[BURN_IN:]).min())


def run_ebm_swift(repeats):
    import ebm_swift

    mean, cov = target()
    energy = ebm_swift.GaussianEnergy(mean, cov)
    x0 = np.zeros((CHAINS, 10), np.float32)
    call = lambda: ebm_swift.hmc(energy, x0, STEPS, STEP_SIZE, n_leapfrog=N_LEAPFROG, seed=0,  # noqa: E731
                                 return_trajectory=True)
    seconds = timed(call, repeats=repeats)
    _, info = call()
    return {"seconds": seconds, "acceptance": float(info["acceptance_rate"].mean()),
            "min_ess": min_ess(info["trajectory"]), "isa": ebm_swift.show_config(mode="dicts")["instruction_set"]["selected"]}


def run_blackjax(repeats):
    import blackjax
    import jax
    import jax.numpy as jnp

    mean, cov = target()
    precision = jnp.asarray(np.linalg.inv(cov), jnp.float32)
    mu = jnp.asarray(mean, jnp.float32)

    def logdensity(x):
        d = x - mu
        return -0.5 * d @ precision @ d

    kernel = blackjax.hmc(logdensity, STEP_SIZE, jnp.ones(10, jnp.float32), N_LEAPFROG)

    @jax.jit
    def sample(key):
        states = jax.vmap(kernel.init)(jnp.zeros((CHAINS, 10), jnp.float32))

        def one_step(states, key):
            keys = jax.random.split(key, CHAINS)
            states, infos = jax.vmap(kernel.step)(keys, states)
            return states, (states.position, infos.is_accepted)

        _, (positions, accepted) = jax.lax.scan(one_step, states, jax.random.split(key, STEPS))
        return positions, accepted

    key = jax.random.PRNGKey(0)
    call = lambda: jax.block_until_ready(sample(key))  # noqa: E731
    seconds = timed(call, repeats=repeats)
    positions, accepted = call()
    return {"seconds": seconds, "acceptance": float(np.asarray(accepted)[BURN_IN:].mean()),
            "min_ess": min_ess(positions), "jax": jax.__version__, "blackjax": blackjax.__version__}


def samplers_table(repeats):
    """Effective samples per second of each sampler on the target, ebm_swift only."""
    import ebm_swift

    mean, cov = target()
    energy = ebm_swift.GaussianEnergy(mean, cov)
    x0 = np.zeros((CHAINS, 10), np.float32)
    runs = {
        "langevin (η = 0.05)": (lambda: ebm_swift.langevin(energy, x0, STEPS, 0.05, seed=0, return_trajectory=True), 1),
        "mala (η = 0.1)": (lambda: ebm_swift.mala(energy, x0, STEPS, 0.1, seed=0, return_trajectory=True), 1),
        "mala, adapted": (lambda: ebm_swift.mala(energy, x0, STEPS, 0.1, adapt_step_size=True, n_warmup=BURN_IN,
                                                 seed=0, return_trajectory=True), 1),
        f"hmc (η = {STEP_SIZE}, L = {N_LEAPFROG})": (lambda: ebm_swift.hmc(
            energy, x0, STEPS, STEP_SIZE, n_leapfrog=N_LEAPFROG, seed=0, return_trajectory=True), N_LEAPFROG),
        f"hmc, adapted step and mass (L = {N_LEAPFROG})": (lambda: ebm_swift.hmc(
            energy, x0, STEPS, STEP_SIZE, n_leapfrog=N_LEAPFROG, adapt_step_size=True, adapt_mass=True,
            n_warmup=BURN_IN, seed=0, return_trajectory=True), N_LEAPFROG),
    }
    table = {}
    for name, (call, gradients) in runs.items():
        seconds = timed(call, repeats=repeats)
        out = call()
        info = out[1]
        rate = float(info["acceptance_rate"].mean()) if "acceptance_rate" in info else 1.0
        ess = min_ess(info["trajectory"])
        table[name] = {"seconds": seconds, "acceptance": rate, "min_ess": ess, "ess_per_s": ess / seconds,
                       "ess_per_gradient": ess / (CHAINS * (STEPS - BURN_IN) * gradients)}
    return table


def child(name, repeats):
    result = {"ebm_swift": run_ebm_swift, "blackjax": run_blackjax, "samplers": samplers_table}[name](repeats)
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.repeats)
    results = {}
    names = ["ebm_swift", "samplers"] + (["blackjax"] if importlib.util.find_spec("blackjax") else [])
    for name in names:
        out = subprocess.run([sys.executable, __file__, "--child", name, "--repeats", str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])
    gradients = CHAINS * STEPS * N_LEAPFROG
    print(f"HMC on a correlated 10-D Gaussian (condition number 100): {CHAINS} chains × {STEPS} steps, "
          f"L = {N_LEAPFROG}, η = {STEP_SIZE}, identity mass; ESS over the last {STEPS - BURN_IN} steps")
    print(f"{'library':12s} {'seconds':>8s} {'gradients/s':>12s} {'acceptance':>10s} {'min ESS':>9s} {'ESS/s':>9s}")
    for name in ("ebm_swift", "blackjax"):
        if name in results:
            r = results[name]
            r["gradients_per_s"] = gradients / r["seconds"]
            r["ess_per_s"] = r["min_ess"] / r["seconds"]
            print(f"{name:12s} {r['seconds']:8.3f} {r['gradients_per_s']:12.3e} {r['acceptance']:10.3f} "
                  f"{r['min_ess']:9.0f} {r['ess_per_s']:9.0f}")
    if "blackjax" in results:
        e, b = results["ebm_swift"], results["blackjax"]
        results["ratio"] = {"gradients_per_s": e["gradients_per_s"] / b["gradients_per_s"],
                            "ess_per_s": e["ess_per_s"] / b["ess_per_s"]}
        print(f"ebm_swift / BlackJAX: {results['ratio']['gradients_per_s']:.2f}× gradients/s, "
              f"{results['ratio']['ess_per_s']:.2f}× ESS/s (BlackJAX {b['blackjax']}, JAX {b['jax']}; "
              f"ebm_swift {e['isa']} build)")
    print("\nebm_swift's samplers on the same target (min ESS over coordinates):")
    print(f"{'sampler':40s} {'acceptance':>10s} {'min ESS':>9s} {'ESS/s':>9s} {'ESS/gradient':>13s}")
    for name, r in results["samplers"].items():
        print(f"{name:40s} {r['acceptance']:10.3f} {r['min_ess']:9.0f} {r['ess_per_s']:9.0f} {r['ess_per_gradient']:13.2e}")
    save_json(args.json, results)


if __name__ == "__main__":
    main()
