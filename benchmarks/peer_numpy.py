"""The NumPy reference: hand-written forward and backward passes of the workload."""

import numpy as np

from workload import ALPHA, BUFFER, ETA, LR, REINIT, TRAIN_LANGEVIN_STEPS


def _silu(z):
    s = 1 / (1 + np.exp(-z))
    return z * s, s * (1 + z * (1 - s))


class NumpyPeer:
    name = "numpy"

    def __init__(self, params, d, b, seed=0):
        self.p = {k: v.astype(np.float32) for k, v in params.items()}
        self.rng = np.random.default_rng(seed)
        self.buffer = self.rng.uniform(-1, 1, size=(BUFFER, d)).astype(np.float32)
        self.m = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.t = 0
        self.b = b

    def _forward(self, x):
        p = self.p
        z1 = x @ p["layers.0.weight"].T + p["layers.0.bias"]
        a1, d1 = _silu(z1)
        z2 = a1 @ p["layers.1.weight"].T + p["layers.1.bias"]
        a2, d2 = _silu(z2)
        e = a2 @ p["layers.2.weight"][0] + p["layers.2.bias"][0]
        return e, (x, a1, d1, a2, d2)

    def grad_x(self, x):
        _, (_, _, d1, _, d2) = self._forward(x)
        p = self.p
        g2 = p["layers.2.weight"][0] * d2
        g1 = (g2 @ p["layers.1.weight"]) * d1
        return g1 @ p["layers.0.weight"]

    def langevin(self, x, steps):
        sigma = np.float32(np.sqrt(2 * ETA))
        for _ in range(steps):
            x = x - np.float32(ETA) * self.grad_x(x) + sigma * self.rng.standard_normal(x.shape, dtype=np.float32)
        return x

    def train_step(self, pos):
        b = len(pos)
        idx = self.rng.choice(BUFFER, size=b, replace=False)
        neg = self.buffer[idx]
        fresh = self.rng.random(b) < REINIT
        neg[fresh] = self.rng.uniform(-1, 1, size=(int(fresh.sum()), neg.shape[1])).astype(np.float32)
        neg = self.langevin(neg, TRAIN_LANGEVIN_STEPS)
        self.buffer[idx] = neg
        x = np.concatenate([pos, neg])
        e, (x0, a1, d1, a2, d2) = self._forward(x)
        c = np.concatenate([(1 + 2 * ALPHA * e[:b]) / b, (-1 + 2 * ALPHA * e[b:]) / b]).astype(np.float32)
        p = self.p
        grads = {"layers.2.weight": (c @ a2)[None, :], "layers.2.bias": np.array([c.sum()], dtype=np.float32)}
        delta2 = c[:, None] * p["layers.2.weight"][0] * d2
        grads["layers.1.weight"], grads["layers.1.bias"] = delta2.T @ a1, delta2.sum(0)
        delta1 = (delta2 @ p["layers.1.weight"]) * d1
        grads["layers.0.weight"], grads["layers.0.bias"] = delta1.T @ x0, delta1.sum(0)
        self.t += 1
        for k, g in grads.items():
            self.m[k] = 0.9 * self.m[k] + 0.1 * g
            self.v[k] = 0.999 * self.v[k] + 0.001 * g * g
            mh, vh = self.m[k] / (1 - 0.9**self.t), self.v[k] / (1 - 0.999**self.t)
            p[k] -= (LR * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
