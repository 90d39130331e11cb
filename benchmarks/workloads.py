"""What is measured, framework-neutral: networks, Langevin samplers and training recipes.

A suite (`suites/`) picks a `Network`, a `Langevin` and a `Training`; every peer (`peers/`) builds
the same thing from them in its own framework. Parameters are seeded once, by ebm_swift, and
handed to every framework by name in `nn.Sequential` numbering (`"0.weight"`, `"2.bias"`, …, the
names PyTorch's `state_dict` uses), so every framework starts from the same numbers.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Network:
    """A sequential network: `layers` of ("linear", in, out), ("conv2d", in, out, k, stride, pad),
    ("silu",) or ("flatten",), on samples of `input_shape`, ending in one output (the energy).
    `mlp` marks the [D, H, H, 1] SiLU perceptron, which ebm_swift runs as its `MLPEnergy`."""

    layers: tuple
    input_shape: tuple
    mlp: bool = False

    def forward_flops(self):
        """FLOPs of one sample's forward pass through the linear and convolution layers (2 per
        multiply-add)."""
        shape, macs = self.input_shape, 0
        for layer in self.layers:
            if layer[0] == "conv2d":
                c_in, c_out, k, s, p = layer[1:]
                size = (shape[1] + 2 * p - k) // s + 1
                macs += c_out * size * size * c_in * k * k
                shape = (c_out, size, size)
            elif layer[0] == "linear":
                macs += layer[1] * layer[2]
                shape = (layer[2],)
        return 2 * macs

    def weights(self, seed=0):
        """The seeded parameters, `{name: float32 array}` in `nn.Sequential` numbering."""
        import ebm_swift

        if self.mlp:
            d, h = self.input_shape[0], self.layers[0][2]
            params = ebm_swift.MLPEnergy(d, (h, h), "swish", seed=seed).parameters()
            return {f"{2 * int(k.split('.')[1])}.{k.split('.')[2]}": v.copy() for k, v in params.items()}
        from peers.ebm_swift import sequential

        energy = ebm_swift.NetworkEnergy(sequential(self), self.input_shape, seed=seed)
        return {k: v.copy() for k, v in energy.parameters().items()}


def mlp(d, h):
    """The [d, h, h, 1] SiLU perceptron."""
    return Network((("linear", d, h), ("silu",), ("linear", h, h), ("silu",), ("linear", h, 1)), (d,), mlp=True)


@dataclass(frozen=True)
class Langevin:
    """x ← clamp(x − η·clip(∇x E, ±grad_clip) + noise_scale·ε); `noise_scale` None is sqrt(2η),
    `grad_clip` and `clamp` None are off."""

    step_size: float
    noise_scale: float = None
    grad_clip: float = None
    clamp: tuple = None

    @property
    def noise(self):
        return float(np.sqrt(2 * self.step_size)) if self.noise_scale is None else self.noise_scale


@dataclass(frozen=True)
class Training:
    """Maximum likelihood with persistent chains: a batch of negatives from a `buffer_size` buffer
    (a fraction `reinit` re-initialised uniformly over `init_range`), `n_steps` Langevin steps,
    written back; one Adam step on mean E(pos) − mean E(neg) + alpha·(mean E(pos)² + mean E(neg)²)."""

    n_steps: int
    buffer_size: int
    reinit: float
    alpha: float
    lr: float
    betas: tuple = (0.9, 0.999)
    init_range: tuple = (-1.0, 1.0)


def uniform_batch(shape, seed):
    """A seeded float32 batch, uniform over [−1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


def image_batch(shape, seed):
    """A seeded float32 batch like centred images: N(0, 0.5²) clipped to [−1, 1]."""
    return np.clip(np.random.default_rng(seed).normal(0, 0.5, size=shape), -1, 1).astype(np.float32)
