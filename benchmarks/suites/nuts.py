"""NUTS: ebm_swift against BlackJAX's NUTS after window adaptation, and the "Which sampler?" table.

Targets (the same arrays in every process):
- `gaussian`: the correlated 10-D Gaussian of the HMC suite (condition number 100);
- `logistic`: the posterior of a 100-D Bayesian logistic regression, 1000 synthetic observations
  (features N(0, 1), true weights N(0, 0.5²), labels Bernoulli(σ(x·w))), a standard logistic
  prior on each weight (density 1/(2 + 2 cosh w)). ebm_swift evaluates it as a network
  (`peers.ebm_swift.logistic_energy`: Linear, Softplus, Linear with the data as weights);
  BlackJAX through its jitted log density, the same function.

Both libraries: `chains` chains from the origin, step size and diagonal mass adapted over `warmup`
steps (ebm_swift: `adapt_step_size`, `adapt_mass`, Stan's windows; BlackJAX: `window_adaptation`,
vmapped over chains), target acceptance 0.8, then `draws` draws. Timed: warm-up and draws
together. Reported: the smallest effective sample size over coordinates (one estimator,
`ebm_swift.diagnostics.effective_sample_size`, for both), ESS per second and per gradient of the
draws.
"""

import numpy as np

from timing import timed

SETTINGS = {"chains": 64, "warmup": 500, "draws": 1000}
PEERS = ("ebm_swift", "blackjax")
TARGETS = ("gaussian", "logistic")


def logistic_data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1000, 100))
    w = rng.normal(scale=0.5, size=100)
    y = (rng.uniform(size=1000) < 1 / (1 + np.exp(-x @ w))).astype(np.float64)
    return x, y


def target(name):
    if name == "gaussian":
        from suites.hmc import target as gaussian

        return gaussian()
    return logistic_data()


def measure(peer, repeats, target_name, table=False):
    from peers import load

    if table:
        return samplers_table(repeats)
    return load(peer).nuts(target_name, target(target_name), SETTINGS, lambda call: timed(call, repeats=repeats,
                                                                                          rounds=1))


def samplers_table(repeats):
    """ESS per second (and per gradient) of every sampler on the Gaussian target; replica exchange
    also on the two-mode mixture of its test (modes 8σ apart, weights 0.2/0.8): the error of the
    weight it recovers, per second of sampling."""
    import ebm_swift
    from peers.ebm_swift import min_ess

    mean, cov = target("gaussian")
    energy = ebm_swift.GaussianEnergy(mean, cov)
    chains, warmup, draws = 256, 500, 1000
    steps = warmup + draws
    x0 = np.zeros((chains, 10), np.float32)
    adapt = dict(adapt_step_size=True, n_warmup=warmup, seed=0, return_trajectory=True)
    runs = {
        "langevin (η = 0.05)": lambda: ebm_swift.langevin(energy, x0, steps, 0.05, seed=0, return_trajectory=True),
        "mala, adapted step and mass": lambda: ebm_swift.mala(energy, x0, steps, 0.1, adapt_mass=True, **adapt),
        "hmc, adapted (L = 12)": lambda: ebm_swift.hmc(energy, x0, steps, 0.15, n_leapfrog=12, adapt_mass=True,
                                                         **adapt),
        "hmc, adapted, jitter 0.5": lambda: ebm_swift.hmc(energy, x0, steps, 0.15, n_leapfrog=12, adapt_mass=True,
                                                            step_jitter=0.5, **adapt),
        "nuts, adapted": lambda: ebm_swift.nuts(energy, x0, steps, 0.15, adapt_mass=True, **adapt),
        "kinetic_langevin (h = 0.1, γ = 1)": lambda: ebm_swift.kinetic_langevin(energy, x0, steps, 0.1, seed=0,
                                                                                  return_trajectory=True),
        "kinetic_langevin, Metropolis, adapted": lambda: ebm_swift.kinetic_langevin(
            energy, x0, steps, 0.1, metropolis=True, adapt_mass=True, **adapt),
        "replica_exchange (mala, 4 replicas)": lambda: ebm_swift.replica_exchange(
            energy, x0, steps, 0.1, n_replicas=4, max_temperature=4.0, **adapt),
    }
    table = {}
    for name, call in runs.items():
        seconds = timed(call, repeats=repeats, rounds=1)
        info = call()[1]
        ess = min_ess(info["trajectory"], warmup)
        gradients = _gradients(name, info, steps)
        table[name] = {"seconds": seconds, "min_ess": ess, "ess_per_s": ess / seconds,
                       "ess_per_gradient": ess / gradients}
    table["mixture"] = mixture_weights(repeats)
    return table


def _gradients(name, info, steps):
    chains = len(info["trajectory"][0])
    if name.startswith("nuts"):
        return float(info["n_leapfrog"].sum()) * steps  # mean leapfrogs per draw after warm-up, × all steps
    per_step = 12 if name.startswith("hmc") else 4 if name.startswith("replica") else 1
    return chains * steps * per_step


def mixture_weights(repeats):
    """The +4 mode's weight (exact 0.8) after each sampler's run from the small mode, 2000 chains,
    with as many gradients per chain: |error| and seconds."""
    import ebm_swift

    means = np.array([[-4.0, 0.0], [4.0, 0.0]])
    mixture = ebm_swift.GaussianMixtureEnergy(means, [np.eye(2)] * 2, [0.2, 0.8])
    x0 = np.tile([-4.0, 0.0], (2000, 1))
    runs = {
        "replica_exchange (8 replicas, T ≤ 40)": lambda: ebm_swift.replica_exchange(
            mixture, x0, 2000, 0.8, n_replicas=8, max_temperature=40.0, adapt_step_size=True, n_warmup=500, seed=1),
        "mala": lambda: ebm_swift.mala(mixture, x0, 16000, 0.8, seed=2),
        "hmc (L = 4)": lambda: ebm_swift.hmc(mixture, x0, 4000, 0.5, n_leapfrog=4, seed=3),
    }
    out = {}
    for name, call in runs.items():
        seconds = timed(call, repeats=1, rounds=1)
        x = call()[0]
        out[name] = {"seconds": seconds, "weight": float(np.mean(x[:, 0] > 0)),
                     "error": abs(float(np.mean(x[:, 0] > 0)) - 0.8)}
    return out


def run(child, args):
    from peers import available

    s = SETTINGS
    results = {}
    for name in TARGETS:
        results[name] = {peer: child(peer, repeats=args.repeats, target_name=name)
                         for peer in available(args.peers or PEERS)}
    results["samplers"] = child("ebm_swift", repeats=args.repeats, target_name="gaussian", table=True)
    print(f"NUTS after window adaptation: {s['chains']} chains, {s['warmup']} warm-up steps + {s['draws']} draws "
          f"(timed together); min ESS over coordinates of the draws")
    print(f"{'target':10s} {'library':10s} {'seconds':>8s} {'accept':>7s} {'leapfrog':>9s} {'min ESS':>9s} "
          f"{'ESS/s':>9s} {'ESS/grad':>9s}")
    for name in TARGETS:
        for peer, r in results[name].items():
            r["ess_per_s"] = r["min_ess"] / r["seconds"]
            r["ess_per_gradient"] = r["min_ess"] / r["gradients"]
            print(f"{name:10s} {peer:10s} {r['seconds']:8.2f} {r['acceptance']:7.3f} {r['mean_leapfrog']:9.1f} "
                  f"{r['min_ess']:9.0f} {r['ess_per_s']:9.0f} {r['ess_per_gradient']:9.2e}")
        if {"ebm_swift", "blackjax"} <= results[name].keys():
            e, b = results[name]["ebm_swift"], results[name]["blackjax"]
            results[name]["ratio"] = {"ess_per_s": e["ess_per_s"] / b["ess_per_s"],
                                      "ess_per_gradient": e["ess_per_gradient"] / b["ess_per_gradient"]}
            print(f"{'':10s} ebm_swift / BlackJAX: {results[name]['ratio']['ess_per_s']:.2f}× ESS/s, "
                  f"{results[name]['ratio']['ess_per_gradient']:.2f}× ESS per gradient")
    print("\nWhich sampler? On the correlated 10-D Gaussian, 256 chains, 500 warm-up + 1000 draws:")
    print(f"{'sampler':40s} {'seconds':>8s} {'min ESS':>9s} {'ESS/s':>9s} {'ESS/grad':>9s}")
    for name, r in results["samplers"].items():
        if name != "mixture":
            print(f"{name:40s} {r['seconds']:8.2f} {r['min_ess']:9.0f} {r['ess_per_s']:9.0f} "
                  f"{r['ess_per_gradient']:9.2e}")
    print("\nTwo modes 8σ apart (weights 0.2/0.8), 2000 chains from the small mode, equal gradients per chain:")
    for name, r in results["samplers"]["mixture"].items():
        print(f"{name:40s} weight {r['weight']:.3f} (error {r['error']:.3f}) in {r['seconds']:.1f} s")
    return results
