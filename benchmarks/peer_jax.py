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

        train_step = persistent_step(energy, langevin, TRAIN_LANGEVIN_STEPS, BUFFER, REINIT, ALPHA, LR)
        self._langevin = jax.jit(langevin, static_argnums=3)
        self._train = jax.jit(train_step)

    def langevin(self, x, steps):
        self.key, sub = self.jax.random.split(self.key)
        out, _ = self._langevin(self.p, self.jnp.asarray(x), sub, steps)
        return out.block_until_ready()

    def train_step(self, pos):
        self.p, self.opt, self.buffer, self.key = self._train(self.p, self.opt, self.buffer, self.jnp.asarray(pos), self.key)
        self.buffer.block_until_ready()


def persistent_step(energy, langevin, steps, buffer_size, reinit, alpha, lr, betas=(0.9, 0.999)):
    """`train_step(p, opt, buffer, pos, key) -> (p, opt, buffer, key)`: one maximum-likelihood step
    with persistent chains (a chain per data row from `buffer`, a fraction `reinit` re-initialised
    from U(−1, 1), `langevin(p, neg, key, steps)`, written back) and one Adam step on
    mean E(pos) − mean E(neg) + alpha·(E(pos)² + E(neg)²), for samples of any shape."""
    import jax
    import jax.numpy as jnp

    def loss(p, pos, neg):
        ep, en = energy(p, pos), energy(p, neg)
        return ep.mean() - en.mean() + alpha * ((ep**2).mean() + (en**2).mean())

    def train_step(p, opt, buffer, pos, key):
        m, v, t = opt
        key, k1, k2, k3, k4 = jax.random.split(key, 5)
        b = pos.shape[0]
        idx = jax.random.choice(k1, buffer_size, (b,), replace=False)
        neg = buffer[idx]
        fresh = jax.random.uniform(k2, (b,) + (1,) * (neg.ndim - 1)) < reinit
        neg = jnp.where(fresh, jax.random.uniform(k3, neg.shape, minval=-1, maxval=1), neg)
        neg, _ = langevin(p, neg, k4, steps)
        buffer = buffer.at[idx].set(neg)
        g = jax.grad(loss)(p, pos, neg)
        t = t + 1
        b1, b2 = betas
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + 1e-8), p, m, v)
        return p, (m, v, t), buffer, key

    return train_step
