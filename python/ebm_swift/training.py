"""Maximum-likelihood training of an energy network with persistent Langevin chains
(Bishop, *Deep Learning*, §14.3.2–14.3.3; the replay buffer of Du & Mordatch 2019)."""

from __future__ import annotations


import numpy as np

from . import _native
from ._validation import as_batch, interval, non_negative_float, positive_float, positive_int, probability, resolve_seed
from .energies import MLPEnergy
from .sampling import _sampler_args

__all__ = ["Trainer"]

_OPTIMIZERS = {"sgd": 0, "adam": 1}


def _unit_interval_open(value, name):
    v = non_negative_float(value, name)
    if v >= 1:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return v


class Trainer:
    """Train an :class:`MLPEnergy` by contrastive divergence with a persistent replay buffer.

    Each :meth:`step` takes as many negatives as the data batch from a persistent buffer (each
    re-drawn from the uniform box ``init_range`` with probability ``reinit_prob``), runs Langevin
    on them, writes them back, and takes one optimiser step on

    ``L = mean E(x_data) − mean E(x_model) + alpha·(mean E(x_data)² + mean E(x_model)²)``

    with the negatives held constant (the squares are per sample, as in IGEBM). Without the
    regulariser, ``∇w L = E_data[∇w E] − E_model[∇w E]``, which is exactly minus the seed's
    estimate of ``∇w ln p(x|w)``: descending ``L`` ascends the likelihood.

    Parameters
    ----------
    energy : MLPEnergy
        The model; updated in place by :meth:`step`.
    lr : float, default 1e-3
    optimizer : {"adam", "sgd"}, default "adam"
    betas : (float, float), default (0.9, 0.999)
        Adam's moment decays (β1 = 0 is common for EBMs).
    eps : float, default 1e-8
        Adam's denominator offset.
    momentum : float, default 0.0
        SGD momentum.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (both optimisers, as in ``torch.optim``).
    n_steps : int, default 20
        Langevin steps per training step.
    step_size : float, default 0.01
    noise_scale : float, optional
        Langevin noise; default ``sqrt(2·step_size)`` (see :func:`ebm_swift.langevin`).
    grad_clip : float, optional
        Elementwise bound on ``∇x E`` during sampling.
    clamp : (float, float), optional
        Box the samples are clipped to.
    buffer_size : int, default 10000
        Number of persistent chains; at least the batch size.
    reinit_prob : float, default 0.05
    init_range : (float, float), default (-1.0, 1.0)
        Box of the uniform noise that starts and restarts chains. Set it to cover the data.
    alpha : float, default 0.0
        Weight of the energy regulariser.
    seed : None, int or numpy.random.Generator
        Seeds the buffer, the chain selection and the Langevin noise: same seed, same run.
    """

    def __init__(
        self,
        energy,
        *,
        lr=1e-3,
        optimizer="adam",
        betas=(0.9, 0.999),
        eps=1e-8,
        momentum=0.0,
        weight_decay=0.0,
        n_steps=20,
        step_size=0.01,
        noise_scale=None,
        grad_clip=None,
        clamp=None,
        buffer_size=10000,
        reinit_prob=0.05,
        init_range=(-1.0, 1.0),
        alpha=0.0,
        seed=None,
    ):
        if not isinstance(energy, MLPEnergy):
            raise TypeError(f"energy must be an MLPEnergy; got {type(energy).__name__}")
        if not isinstance(optimizer, str) or optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}; got {optimizer!r}")
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
        beta1, beta2 = _unit_interval_open(beta1, "betas[0]"), _unit_interval_open(beta2, "betas[1]")
        momentum = _unit_interval_open(momentum, "momentum")
        self.energy = energy
        self.lr = positive_float(lr, "lr")
        self.optimizer = optimizer
        self.betas = (beta1, beta2)
        self.eps = positive_float(eps, "eps")
        self.momentum = momentum
        self.weight_decay = non_negative_float(weight_decay, "weight_decay")
        sampler = _sampler_args(n_steps, step_size, noise_scale, grad_clip, clamp)
        self.n_steps, self.step_size, self.noise_scale = sampler[0], sampler[1], sampler[2]
        self.grad_clip, self.clamp = grad_clip, (sampler[5], sampler[6]) if clamp is not None else None
        self.buffer_size = positive_int(buffer_size, "buffer_size")
        if self.buffer_size >= 2**32 - 1:
            raise ValueError(f"buffer_size must be below 2**32 - 1; got {self.buffer_size}")
        self.reinit_prob = probability(reinit_prob, "reinit_prob")
        self.init_range = interval(init_range, "init_range")
        self.alpha = non_negative_float(alpha, "alpha")
        self.seed = resolve_seed(seed)
        first = beta1 if optimizer == "adam" else momentum
        self._handle = _native.trainer_create(
            energy._handle, *sampler[:7], self.seed, _OPTIMIZERS[optimizer], self.lr, first, beta2,
            self.eps, self.weight_decay, self.buffer_size, self.reinit_prob, *self.init_range, self.alpha,
        )

    def step(self, x_batch) -> dict:
        """One training step.

        Parameters
        ----------
        x_batch : array_like, shape (b, dim)
            Data; ``b ≤ buffer_size``. Never modified.

        Returns
        -------
        dict
            ``loss`` (L above), ``e_data`` (mean energy of the batch), ``e_model`` (mean energy of
            the negatives after sampling), ``grad_norm`` (Euclidean norm of ``∇w L``).

        Raises
        ------
        DivergenceError
            If samples, energies, the gradient or the updated parameters are not finite; the
            model, buffer and optimiser are then left as they were before the step.
        """
        x = as_batch(x_batch, self.energy.dim, "x_batch")
        if x.shape[0] > self.buffer_size:
            raise ValueError(
                f"x_batch has {x.shape[0]} rows but buffer_size is {self.buffer_size}; "
                "each step draws one persistent chain per data row"
            )
        loss, e_data, e_model, grad_norm = _native.trainer_step(self._handle, x, self.energy.dim)
        return {"loss": loss, "e_data": e_data, "e_model": e_model, "grad_norm": grad_norm}

    @property
    def buffer(self) -> np.ndarray:
        """A copy of the persistent chains, shape ``(buffer_size, dim)``."""
        return _native.trainer_get_buffer(self._handle, self.energy.dim)

    @property
    def n_iter(self) -> int:
        """Number of training steps taken."""
        return _native.trainer_step_count(self._handle)

    def __repr__(self) -> str:
        return f"Trainer({self.energy!r}, optimizer={self.optimizer!r}, lr={self.lr}, n_steps={self.n_steps})"
