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
