"""HMC: ebm_swift against BlackJAX on a correlated 10-D Gaussian, and ebm_swift's samplers side
by side on the same target.

Target: N(μ, Σ), Σ = Q diag(λ) Qᵀ with λ log-spaced over [0.1, 10] (condition number 100) and a
seeded random rotation Q — the target of the exactness test. Both libraries run the same kernel:
`n_leapfrog` leapfrog steps of size `step_size`, identity mass, Metropolis test; 1000 independent
chains from the same starting point for 600 steps, the first 100 discarded. Reported: gradient
evaluations per second, acceptance, the smallest effective sample size over the 10 coordinates
(one estimator, `ebm_swift.diagnostics.effective_sample_size`, for both) and ESS per second.
"""

import numpy as np

from timing import timed

SETTINGS = {"chains": 1000, "steps": 600, "burn_in": 100, "step_size": 0.15, "n_leapfrog": 12}
PEERS = ("ebm_swift", "blackjax")


def target():
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    return np.linspace(-1, 1, 10), q @ np.diag(np.logspace(-1, 1, 10)) @ q.T


def measure(peer, repeats, table=False):
    from peers import load

    module = load(peer)
    if table:
        return samplers_table(repeats)
    return module.hmc(target(), SETTINGS, lambda call: timed(call, repeats=repeats))


def samplers_table(repeats):
    """Effective samples per second of each of ebm_swift's samplers on the target."""
    import ebm_swift
    from peers.ebm_swift import min_ess

    mean, cov = target()
    energy = ebm_swift.GaussianEnergy(mean, cov)
    s = SETTINGS
    x0, steps, burn_in, eta, n_leapfrog = np.zeros((s["chains"], 10), np.float32), s["steps"], s["burn_in"], \
        s["step_size"], s["n_leapfrog"]
    runs = {
        "langevin (η = 0.05)": (lambda: ebm_swift.langevin(energy, x0, steps, 0.05, seed=0, return_trajectory=True), 1),
        "mala (η = 0.1)": (lambda: ebm_swift.mala(energy, x0, steps, 0.1, seed=0, return_trajectory=True), 1),
        "mala, adapted": (lambda: ebm_swift.mala(energy, x0, steps, 0.1, adapt_step_size=True, n_warmup=burn_in,
                                                 seed=0, return_trajectory=True), 1),
        "barker (η = 0.5)": (lambda: ebm_swift.barker(energy, x0, steps, 0.5, seed=0, return_trajectory=True), 1),
        f"hmc (η = {eta}, L = {n_leapfrog})": (lambda: ebm_swift.hmc(
            energy, x0, steps, eta, n_leapfrog=n_leapfrog, seed=0, return_trajectory=True), n_leapfrog),
        f"hmc, adapted step and mass (L = {n_leapfrog})": (lambda: ebm_swift.hmc(
            energy, x0, steps, eta, n_leapfrog=n_leapfrog, adapt_step_size=True, adapt_mass=True,
            n_warmup=burn_in, seed=0, return_trajectory=True), n_leapfrog),
    }
    if not hasattr(ebm_swift, "barker"):  # an ebm_swift from before it had Barker (a before/after run)
        runs = {k: v for k, v in runs.items() if not k.startswith("barker")}
    table = {}
    for name, (call, gradients) in runs.items():
        seconds = timed(call, repeats=repeats)
        info = call()[1]
        rate = float(info["acceptance_rate"].mean()) if "acceptance_rate" in info else 1.0
        ess = min_ess(info["trajectory"], burn_in)
        table[name] = {"seconds": seconds, "acceptance": rate, "min_ess": ess, "ess_per_s": ess / seconds,
                       "ess_per_gradient": ess / (s["chains"] * (steps - burn_in) * gradients)}
    return table


def run(child, args):
    from peers import available

    s = SETTINGS
    results = {name: child(name, repeats=args.repeats) for name in available(args.peers or PEERS)}
    results["samplers"] = child("ebm_swift", repeats=args.repeats, table=True)
    gradients = s["chains"] * s["steps"] * s["n_leapfrog"]
    print(f"HMC on a correlated 10-D Gaussian (condition number 100): {s['chains']} chains × {s['steps']} steps, "
          f"L = {s['n_leapfrog']}, η = {s['step_size']}, identity mass; ESS over the last {s['steps'] - s['burn_in']} steps")
    print(f"{'library':12s} {'seconds':>8s} {'gradients/s':>12s} {'acceptance':>10s} {'min ESS':>9s} {'ESS/s':>9s}")
    for name in PEERS:
        if name in results:
            r = results[name]
            r["gradients_per_s"], r["ess_per_s"] = gradients / r["seconds"], r["min_ess"] / r["seconds"]
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
    return results
