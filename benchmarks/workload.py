"""The benchmark workload, shared by every framework (issue 5).

MLP [D, H, H, 1] with SiLU, float32, fixed seeded weights (PyTorch nn.Linear layout, taken from
an ebm_swift.MLPEnergy so every framework starts from the same numbers). Langevin
x ← x − η∇x E + sqrt(2η) ε with η = 0.01.

- langevin: B chains × 100 steps → chain-steps per second.
- train_step: B negatives from a 10 000-row persistent buffer (5 % re-initialised from U(−1, 1)),
  20 Langevin steps, written back; B data rows; weight gradient of
  mean E(pos) − mean E(neg) + 0.1·(mean E(pos)² + mean E(neg)²); one Adam step → steps per second.
"""

import numpy as np

CONFIGS = [  # (name, D, H, B)
    ("toy2d", 2, 128, 256),
    ("digits8x8", 64, 256, 128),
    ("mnist", 784, 512, 128),
    ("manychains", 2, 64, 4096),
]
ETA = 0.01
LANGEVIN_STEPS = 100
TRAIN_LANGEVIN_STEPS = 20
BUFFER = 10_000
REINIT = 0.05
ALPHA = 0.1
LR = 1e-3


def weights(d, h, seed=0):
    """The seeded parameters as a dict of float32 arrays in nn.Linear layout."""
    import ebm_swift

    return {k: v.copy() for k, v in ebm_swift.MLPEnergy(d, (h, h), "swish", seed=seed).parameters().items()}


def matmul_weights(d, h):
    """P: the number of weight-matrix entries (the FLOP count uses 4·B·P per Langevin step:
    2·B·P for the forward products and 2·B·P for the input-gradient products)."""
    return d * h + h * h + h


def data(d, b, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, size=(b, d)).astype(np.float32)
