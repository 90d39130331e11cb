"""BlackJAX (on JAX, `jit` + `vmap` + `lax.scan`): the reference for HMC."""

import blackjax
import jax
import jax.numpy as jnp
import numpy as np


def hmc(target, settings, timed):
    """HMC on the Gaussian `target` = (mean, cov), the kernel of `peers.ebm_swift.hmc`: `n_leapfrog`
    steps of `step_size`, identity mass, Metropolis test, `chains` chains for `steps` steps."""
    mean, cov = target
    chains, steps, dim = settings["chains"], settings["steps"], len(mean)
    precision = jnp.asarray(np.linalg.inv(cov), jnp.float32)
    mu = jnp.asarray(mean, jnp.float32)

    def logdensity(x):
        d = x - mu
        return -0.5 * d @ precision @ d

    kernel = blackjax.hmc(logdensity, settings["step_size"], jnp.ones(dim, jnp.float32), settings["n_leapfrog"])

    @jax.jit
    def sample(key):
        states = jax.vmap(kernel.init)(jnp.zeros((chains, dim), jnp.float32))

        def one_step(states, key):
            states, infos = jax.vmap(kernel.step)(jax.random.split(key, chains), states)
            return states, (states.position, infos.is_accepted)

        _, (positions, accepted) = jax.lax.scan(one_step, states, jax.random.split(key, steps))
        return positions, accepted

    key = jax.random.PRNGKey(0)
    seconds = timed(lambda: jax.block_until_ready(sample(key)))
    positions, accepted = sample(key)
    from peers.ebm_swift import min_ess  # the one ESS estimator, for every library's trajectory

    return {"seconds": seconds, "acceptance": float(np.asarray(accepted)[settings["burn_in"]:].mean()),
            "min_ess": min_ess(positions, settings["burn_in"]), "jax": jax.__version__,
            "blackjax": blackjax.__version__}


def nuts(name, target, settings, timed):
    """NUTS after `window_adaptation` (vmapped over chains) on the Gaussian (mean, cov) or the
    logistic regression (x, y) posterior; the draws' acceptance statistic, leapfrog steps, ESS."""
    if name == "gaussian":
        mean, cov = target
        precision, mu = jnp.asarray(np.linalg.inv(cov), jnp.float32), jnp.asarray(mean, jnp.float32)

        def logdensity(w):
            d = w - mu
            return -0.5 * d @ precision @ d
        dim = len(mean)
    else:
        x, y = (jnp.asarray(a, jnp.float32) for a in target)

        def logdensity(w):  # the energy of peers.ebm_swift.logistic_energy, negated
            z = x @ w
            return jnp.sum(y * z - jnp.logaddexp(0.0, z)) - jnp.sum(jnp.logaddexp(0.0, w) + jnp.logaddexp(0.0, -w))
        dim = x.shape[1]
    chains, warmup, draws = settings["chains"], settings["warmup"], settings["draws"]

    @jax.jit
    def sample(key):
        warm_keys, draw_keys = jax.random.split(key)

        def one_chain(wk, dk):
            adaptation = blackjax.window_adaptation(blackjax.nuts, logdensity, target_acceptance_rate=0.8)
            (state, parameters), _ = adaptation.run(wk, jnp.zeros(dim, jnp.float32), num_steps=warmup)
            kernel = blackjax.nuts(logdensity, **parameters)

            def one_step(state, k):
                state, info = kernel.step(k, state)
                return state, (state.position, info.acceptance_rate, info.num_integration_steps)

            return jax.lax.scan(one_step, state, jax.random.split(dk, draws))[1]

        return jax.vmap(one_chain)(jax.random.split(warm_keys, chains), jax.random.split(draw_keys, chains))

    key = jax.random.PRNGKey(0)
    seconds = timed(lambda: jax.block_until_ready(sample(key)))
    positions, acceptance, steps = (np.asarray(a) for a in sample(key))
    from peers.ebm_swift import min_ess

    return {"seconds": seconds, "acceptance": float(acceptance.mean()), "mean_leapfrog": float(steps.mean()),
            "gradients": float(steps.sum()),  # of the draws
            "min_ess": min_ess(np.swapaxes(positions, 0, 1), 0), "jax": jax.__version__,
            "blackjax": blackjax.__version__}
