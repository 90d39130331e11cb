"""JAX, `jit`-compiled (`lax.fori_loop` for the chains), the strongest CPU peer."""

import jax
import jax.numpy as jnp


def energy_fn(spec):
    """`energy(p, x)`: the energies (n,) of `spec` (a `workloads.Network`) at x, parameters by
    `nn.Sequential` name."""

    def energy(p, x):
        for i, layer in enumerate(spec.layers):
            if layer[0] == "linear":
                x = x @ p[f"{i}.weight"].T + p[f"{i}.bias"]
            elif layer[0] == "conv2d":
                s, pad = layer[4], layer[5]
                x = jax.lax.conv_general_dilated(x, p[f"{i}.weight"], (s, s), [(pad, pad), (pad, pad)],
                                                 dimension_numbers=("NCHW", "OIHW", "NCHW"))
                x = x + p[f"{i}.bias"][None, :, None, None]
            elif layer[0] == "silu":
                x = jax.nn.silu(x)
            elif layer[0] == "flatten":
                x = x.reshape(x.shape[0], -1)
        return x[:, 0]

    return energy


def adam(lr, betas):
    """`update(p, opt, g) -> (p, opt)`, Adam with PyTorch's defaults otherwise; `opt` starts as
    `adam_state(p)`."""
    b1, b2 = betas

    def update(p, opt, g):
        m, v, t = opt
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + 1e-8),
                                   p, m, v)
        return p, (m, v, t)

    return update


def adam_state(p):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, p)
    return zeros, zeros, 0


class Sampler:
    def __init__(self, network_spec, params, langevin, training, threads=None, seed=0):
        self.p = {k: jnp.asarray(v) for k, v in params.items()}
        self.key = jax.random.PRNGKey(seed)
        energy = energy_fn(network_spec)
        grad_x = jax.grad(lambda x, p: energy(p, x).sum())
        s = langevin

        def run(p, x, key, steps):
            def body(_, carry):
                x, key = carry
                key, sub = jax.random.split(key)
                g = grad_x(x, p)
                if s.grad_clip is not None:
                    g = jnp.clip(g, -s.grad_clip, s.grad_clip)
                x = x - s.step_size * g + s.noise * jax.random.normal(sub, x.shape)
                if s.clamp is not None:
                    x = jnp.clip(x, *s.clamp)
                return x, key

            return jax.lax.fori_loop(0, steps, body, (x, key))

        self._langevin = jax.jit(run, static_argnums=3)
        if training is not None:
            lo, hi = training.init_range
            self.buffer = jax.random.uniform(jax.random.PRNGKey(seed + 1),
                                             (training.buffer_size,) + network_spec.input_shape, minval=lo, maxval=hi)
            self.opt = adam_state(self.p)
            self._train = jax.jit(_persistent_step(energy, run, training))

    def langevin(self, x, steps):
        self.key, sub = jax.random.split(self.key)
        out, _ = self._langevin(self.p, jnp.asarray(x), sub, steps)
        return out.block_until_ready()

    def train_step(self, pos):
        self.p, self.opt, self.buffer, self.key = self._train(self.p, self.opt, self.buffer, jnp.asarray(pos), self.key)
        self.buffer.block_until_ready()


def _persistent_step(energy, langevin, tr):
    update = adam(tr.lr, tr.betas)

    def loss(p, pos, neg):
        ep, en = energy(p, pos), energy(p, neg)
        return ep.mean() - en.mean() + tr.alpha * ((ep**2).mean() + (en**2).mean())

    def step(p, opt, buffer, pos, key):
        key, k1, k2, k3, k4 = jax.random.split(key, 5)
        b = pos.shape[0]
        idx = jax.random.choice(k1, tr.buffer_size, (b,), replace=False)
        neg = buffer[idx]
        fresh = jax.random.uniform(k2, (b,) + (1,) * (neg.ndim - 1)) < tr.reinit
        lo, hi = tr.init_range
        neg = jnp.where(fresh, jax.random.uniform(k3, neg.shape, minval=lo, maxval=hi), neg)
        neg, _ = langevin(p, neg, k4, tr.n_steps)
        buffer = buffer.at[idx].set(neg)
        p, opt = update(p, opt, jax.grad(loss)(p, pos, neg))
        return p, opt, buffer, key

    return step


class ScoreTrainer:
    """Denoising (`dsm`) or sliced (`ssm`) score matching: `jax.grad` of a loss holding `jax.grad`
    (SSM: `jax.jvp` of the gradient, forward over reverse)."""

    def __init__(self, network_spec, params, objective, sigma, lr, threads=None):
        self.p = {k: jnp.asarray(v) for k, v in params.items()}
        self.opt = adam_state(self.p)
        self.key = jax.random.PRNGKey(0)
        energy = energy_fn(network_spec)
        axes = tuple(range(1, len(network_spec.input_shape) + 1))

        def dsm(p, x, key):
            eps = jax.random.normal(key, x.shape)
            g = jax.grad(lambda z: energy(p, z).sum())(x + sigma * eps)
            return 0.5 * jnp.mean(jnp.sum((eps - sigma * g) ** 2, axis=axes))

        def ssm(p, x, key):
            v = jax.random.rademacher(key, x.shape, dtype=x.dtype)
            g, hv = jax.jvp(jax.grad(lambda z: energy(p, z).sum()), (x,), (v,))
            gv = jnp.sum(g * v, axis=axes)
            return jnp.mean(-jnp.sum(hv * v, axis=axes) + 0.5 * gv**2)

        loss, update = (dsm if objective == "dsm" else ssm), adam(lr, (0.9, 0.999))

        def train(p, opt, x, key):
            key, sub = jax.random.split(key)
            p, opt = update(p, opt, jax.grad(loss)(p, x, sub))
            return p, opt, key

        self._train = jax.jit(train)

    def step(self, x):
        self.p, self.opt, self.key = self._train(self.p, self.opt, jnp.asarray(x), self.key)
        self.key.block_until_ready()


def runtime(threads=None):
    return {"jax": jax.__version__}
