"""JAX (jit + lax.fori_loop), the strongest CPU peer. Imported only when jax is installed."""

import numpy as np

from workload import ALPHA, BUFFER, ETA, LR, REINIT, TRAIN_LANGEVIN_STEPS


class JaxPeer:
    name = "jax"

    def __init__(self, params, d, b, seed=0):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.p = {k: jnp.asarray(v) for k, v in params.items()}
        self.key = jax.random.PRNGKey(seed)
        self.buffer = jax.random.uniform(jax.random.PRNGKey(seed + 1), (BUFFER, d), minval=-1, maxval=1)
        self.opt = (jax.tree_util.tree_map(jnp.zeros_like, self.p), jax.tree_util.tree_map(jnp.zeros_like, self.p), 0)

        def energy(p, x):
            a = jax.nn.silu(x @ p["layers.0.weight"].T + p["layers.0.bias"])
            a = jax.nn.silu(a @ p["layers.1.weight"].T + p["layers.1.bias"])
            return (a @ p["layers.2.weight"].T + p["layers.2.bias"])[:, 0]

        grad_x = jax.grad(lambda x, p: energy(p, x).sum())
        sigma = float(np.sqrt(2 * ETA))

        def langevin(p, x, key, steps):
            def body(_, carry):
                x, key = carry
                key, sub = jax.random.split(key)
                return x - ETA * grad_x(x, p) + sigma * jax.random.normal(sub, x.shape), key

            return jax.lax.fori_loop(0, steps, body, (x, key))

        def loss(p, pos, neg):
            ep, en = energy(p, pos), energy(p, neg)
            return ep.mean() - en.mean() + ALPHA * ((ep**2).mean() + (en**2).mean())

        def train_step(p, opt, buffer, pos, key):
            m, v, t = opt
            key, k1, k2, k3, k4 = jax.random.split(key, 5)
            idx = jax.random.choice(k1, BUFFER, (pos.shape[0],), replace=False)
            neg = buffer[idx]
            fresh = jax.random.uniform(k2, (pos.shape[0], 1)) < REINIT
            neg = jnp.where(fresh, jax.random.uniform(k3, neg.shape, minval=-1, maxval=1), neg)
            neg, _ = langevin(p, neg, k4, TRAIN_LANGEVIN_STEPS)
            buffer = buffer.at[idx].set(neg)
            g = jax.grad(loss)(p, pos, neg)
            t = t + 1
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - LR * (m / (1 - 0.9**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8), p, m, v)
            return p, (m, v, t), buffer, key

        self._langevin = jax.jit(langevin, static_argnums=3)
        self._train = jax.jit(train_step)

    def langevin(self, x, steps):
        self.key, sub = self.jax.random.split(self.key)
        out, _ = self._langevin(self.p, self.jnp.asarray(x), sub, steps)
        return out.block_until_ready()

    def train_step(self, pos):
        self.p, self.opt, self.buffer, self.key = self._train(self.p, self.opt, self.buffer, self.jnp.asarray(pos), self.key)
        self.buffer.block_until_ready()
