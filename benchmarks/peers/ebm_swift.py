"""ebm_swift itself, through its public Python API."""

import numpy as np

import ebm_swift


def sequential(network):
    """`network` (a `workloads.Network`) as an `ebm_swift.nn.Sequential`."""
    from ebm_swift import nn

    build = {"linear": lambda i, o: nn.Linear(i, o), "silu": nn.SiLU, "flatten": nn.Flatten,
             "conv2d": lambda i, o, k, s, p: nn.Conv2d(i, o, k, stride=s, padding=p)}
    return nn.Sequential(*(build[layer[0]](*layer[1:]) for layer in network.layers))


def energy(network, params):
    """The energy of `network` with `params` (`nn.Sequential` names): an `MLPEnergy` for the
    perceptron (what users of MLPs run), a `NetworkEnergy` otherwise."""
    if network.mlp:
        d, h = network.input_shape[0], network.layers[0][2]
        model = ebm_swift.MLPEnergy(d, (h, h), "swish", seed=0)
        model.set_parameters({f"layers.{int(k.split('.')[0]) // 2}.{k.split('.')[1]}": v for k, v in params.items()})
        return model
    model = ebm_swift.NetworkEnergy(sequential(network), network.input_shape, seed=0)
    model.set_parameters(params)
    return model


def _langevin_options(langevin):
    options = {"noise_scale": langevin.noise_scale, "grad_clip": langevin.grad_clip, "clamp": langevin.clamp}
    return {k: v for k, v in options.items() if v is not None}


class Sampler:
    def __init__(self, network, params, langevin, training, threads=None, seed=0):
        if threads is not None:
            ebm_swift.set_num_threads(threads)
        self.energy = energy(network, params)
        self.settings = langevin
        self.seed = seed
        if training is not None:
            self.trainer = ebm_swift.Trainer(
                self.energy, lr=training.lr, betas=training.betas, alpha=training.alpha, n_steps=training.n_steps,
                step_size=langevin.step_size, buffer_size=training.buffer_size, reinit_prob=training.reinit,
                init_range=training.init_range, seed=seed, **_langevin_options(langevin))

    def langevin(self, x, steps):
        self.seed += 1
        return ebm_swift.langevin(self.energy, x, steps, self.settings.step_size, seed=self.seed,
                                  **_langevin_options(self.settings))

    def train_step(self, pos):
        self.trainer.step(pos)


class ScoreTrainer:
    def __init__(self, network, params, objective, sigma, lr, threads=None):
        if threads is not None:
            ebm_swift.set_num_threads(threads)
        extra = dict(sigma=sigma) if objective == "dsm" else {}
        self.trainer = ebm_swift.Trainer(energy(network, params), objective=objective, lr=lr, seed=0, **extra)

    def step(self, x):
        self.trainer.step(x)


def runtime(threads=None):
    """The build, BLAS core and thread count a figure of ebm_swift was measured with."""
    config = ebm_swift.show_config("dicts")
    blas = config["blas"]
    return {"isa": config["instruction_set"]["selected"], "blas_core": blas["core"],
            "blas_version": blas["version"], "blas_core_level": blas.get("core_level"),
            "cpu_level": blas.get("cpu_level"), "weaker_than_cpu": blas.get("weaker_than_cpu", False),
            "OPENBLAS_CORETYPE": blas["OPENBLAS_CORETYPE"], "threads": ebm_swift.get_num_threads()}


def min_ess(trajectory, burn_in):
    """The smallest effective sample size over coordinates after `burn_in` steps (the estimator
    every library's trajectory is judged by)."""
    return float(ebm_swift.diagnostics.effective_sample_size(np.asarray(trajectory)[burn_in:]).min())


def hmc(target, settings, timed):
    """HMC on the Gaussian `target` = (mean, cov): `settings` has chains, steps, burn_in, step_size,
    n_leapfrog; returns seconds, acceptance and min ESS."""
    mean, cov = target
    gaussian = ebm_swift.GaussianEnergy(mean, cov)
    x0 = np.zeros((settings["chains"], len(mean)), np.float32)

    def call():
        return ebm_swift.hmc(gaussian, x0, settings["steps"], settings["step_size"], n_leapfrog=settings["n_leapfrog"],
                             seed=0, return_trajectory=True)

    seconds = timed(call)
    _, info = call()
    return {"seconds": seconds, "acceptance": float(info["acceptance_rate"].mean()),
            "min_ess": min_ess(info["trajectory"], settings["burn_in"]), "isa": runtime()["isa"]}


def nuts(name, target, settings, timed):
    """NUTS after step and mass adaptation on `target` (the Gaussian's (mean, cov) or the logistic
    regression's (x, y)); returns seconds, acceptance statistic, leapfrog steps and min ESS."""
    if name == "gaussian":
        energy = ebm_swift.GaussianEnergy(*target)
    else:
        energy = logistic_energy(*target)
    warmup, draws = settings["warmup"], settings["draws"]
    x0 = np.zeros((settings["chains"], energy.dim), np.float32)

    def call():
        return ebm_swift.nuts(energy, x0, warmup + draws, 0.1, adapt_step_size=True, adapt_mass=True,
                              n_warmup=warmup, seed=0, return_trajectory=True)

    seconds = timed(call)
    _, info = call()
    return {"seconds": seconds, "acceptance": float(info["acceptance_stat"].mean()),
            "mean_leapfrog": float(info["n_leapfrog"].mean()),
            "gradients": float(info["n_leapfrog"].sum()) * draws,  # of the draws (mean per draw × draws)
            "min_ess": min_ess(info["trajectory"], warmup), "isa": runtime()["isa"]}


def logistic_energy(x, y):
    """−log posterior of Bayesian logistic regression with a standard logistic prior per weight, as
    a network: softplus(z) − y z = softplus((1 − 2y) z), so with rows x̃ = (1 − 2y) x,
    E(w) = Σ_n softplus(x̃_n·w) + Σ_i [softplus(w_i) + softplus(−w_i)] (the prior's −log density
    up to a constant) = ones · softplus([x̃; I; −I] w): Linear, Softplus, Linear, biases zero."""
    from ebm_swift import nn

    n, d = x.shape
    rows = np.concatenate([(1 - 2 * y)[:, None] * x, np.eye(d), -np.eye(d)]).astype(np.float32)
    network = nn.Sequential(nn.Linear(d, len(rows)), nn.Softplus(), nn.Linear(len(rows), 1))
    energy = ebm_swift.NetworkEnergy(network, (d,), seed=0)
    energy.load_state_dict({"0.weight": rows, "0.bias": np.zeros(len(rows), np.float32),
                            "2.weight": np.ones((1, len(rows)), np.float32), "2.bias": np.zeros(1, np.float32)})
    return energy
