"""The NumPy reference: hand-written forward and backward passes of the [D, H, H, 1] SiLU MLP."""

import numpy as np


def _silu(z):
    s = 1 / (1 + np.exp(-z))
    return z * s, s * (1 + z * (1 - s))


class Sampler:
    def __init__(self, network, params, langevin, training, threads=None, seed=0):
        if not network.mlp:
            raise ValueError("the NumPy peer runs the MLP workloads only")
        if langevin.grad_clip is not None or langevin.clamp is not None:
            raise ValueError("the NumPy peer runs plain Langevin only")
        self.p = {k: v.astype(np.float32) for k, v in params.items()}
        self.eta, self.sigma = np.float32(langevin.step_size), np.float32(langevin.noise)
        self.training = training
        self.rng = np.random.default_rng(seed)
        if training is not None:
            lo, hi = training.init_range
            self.buffer = self.rng.uniform(lo, hi, size=(training.buffer_size,) + network.input_shape).astype(np.float32)
            self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
            self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
            self.t = 0

    def _forward(self, x):
        p = self.p
        a1, d1 = _silu(x @ p["0.weight"].T + p["0.bias"])
        a2, d2 = _silu(a1 @ p["2.weight"].T + p["2.bias"])
        return a2 @ p["4.weight"][0] + p["4.bias"][0], (x, a1, d1, a2, d2)

    def _grad_x(self, x):
        _, (_, _, d1, _, d2) = self._forward(x)
        g2 = self.p["4.weight"][0] * d2
        return ((g2 @ self.p["2.weight"]) * d1) @ self.p["0.weight"]

    def langevin(self, x, steps):
        for _ in range(steps):
            x = x - self.eta * self._grad_x(x) + self.sigma * self.rng.standard_normal(x.shape, dtype=np.float32)
        return x

    def train_step(self, pos):
        tr, b, p = self.training, len(pos), self.p
        idx = self.rng.choice(tr.buffer_size, size=b, replace=False)
        neg = self.buffer[idx]
        fresh = self.rng.random(b) < tr.reinit
        neg[fresh] = self.rng.uniform(*tr.init_range, size=(int(fresh.sum()), neg.shape[1])).astype(np.float32)
        neg = self.langevin(neg, tr.n_steps)
        self.buffer[idx] = neg
        e, (x0, a1, d1, a2, d2) = self._forward(np.concatenate([pos, neg]))
        c = np.concatenate([(1 + 2 * tr.alpha * e[:b]) / b, (-1 + 2 * tr.alpha * e[b:]) / b]).astype(np.float32)
        grads = {"4.weight": (c @ a2)[None, :], "4.bias": np.array([c.sum()], dtype=np.float32)}
        delta2 = c[:, None] * p["4.weight"][0] * d2
        grads["2.weight"], grads["2.bias"] = delta2.T @ a1, delta2.sum(0)
        delta1 = (delta2 @ p["2.weight"]) * d1
        grads["0.weight"], grads["0.bias"] = delta1.T @ x0, delta1.sum(0)
        self.t += 1
        b1, b2 = tr.betas
        for k, g in grads.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            mh, vh = self.m[k] / (1 - b1**self.t), self.v[k] / (1 - b2**self.t)
            p[k] -= (tr.lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
