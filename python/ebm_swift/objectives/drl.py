"""Diffusion recovery likelihood — the objective ``"drl"``."""

import numpy as np

from .._native import DivergenceError
from .._validation import as_samples, positive_int, resolve_seed
from ._record import Objective, register

__all__ = ["DRL"]

#: Six diffusion steps from the data to nearly pure noise for images in [−1, 1]: the data keep a
#: factor ``Π √(1 − σ²) ≈ 0.12`` at the last level.
DEFAULT_SIGMAS = (0.08, 0.15, 0.28, 0.5, 0.8, 0.97)


@register
class DRL(Objective):
    """Diffusion recovery likelihood (Gao et al. 2021): the data diffuse in ``T`` steps,
    ``x_{t+1} = √(1 − σ²_{t+1}) x_t + σ_{t+1} ε``, and the energy learns to undo each:
    ``p(y | x_{t+1}) ∝ exp(−E(y) − ‖y − x_{t+1}‖² / (2σ²_{t+1}))`` for ``y = √(1 − σ²_{t+1}) x_t``.
    These conditionals are tied to a point by the quadratic term — unimodal, sampled well by
    ``n_steps`` short Langevin steps from ``x_{t+1}`` — so training needs no persistent buffer, and
    :meth:`sample` draws new samples from pure noise by running the conditionals down the levels.

    Row ``i`` of a step's batch takes level ``(i + step) mod T``. The energy knows the level
    through a head per level: a classifier ``NetworkEnergy(net, shape, n_classes=T)`` is read as
    ``E(y, t) = −f(y)[t]`` — the levels share the network and each has its own last layer (Gao et
    al. embed the level in every block). ``energy.class_energy(0)`` is then the density of the data
    scaled by ``√(1 − σ_1²)``: it scores data-range inputs (lower = more likely). Any other energy
    is one energy for every level — exact with one level, a poor compromise with several (noise is
    likely at the last level and unlikely at the first).

    Parameters
    ----------
    sigmas : sequence of float, default ``DEFAULT_SIGMAS``
        The noise each diffusion step adds, in diffusion order (smallest first), each in (0, 1);
        at most 1024. The last levels should leave little of the data (``Π √(1 − σ²)`` small):
        :meth:`sample` starts from ``N(0, I)``.
    n_steps : int, default 30
        Langevin steps per negative (and per level in :meth:`sample`).
    step_scale : float, default 0.5
        ``b``: level ``t``'s Langevin step is ``h = b σ_{t+1} √(1 − σ²_{t+1})``
        (``y ← y − (h²/2) ∇U(y) + h ε``) — ``b`` times the conditional's width for data of unit
        variance, so the step keeps its proportion whether the tether or the energy confines
        ``y``; in (0, 2).
    """

    kind = "drl"

    def __init__(self, sigmas=DEFAULT_SIGMAS, n_steps=30, step_scale=0.5):
        try:
            values = np.asarray(sigmas, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"sigmas must be a sequence of numbers; got {type(sigmas).__name__}") from None
        if values.ndim != 1 or not 1 <= len(values) <= 1024:
            raise ValueError(f"sigmas must be a sequence of 1 to 1024 noise scales; got shape {values.shape}")
        bad = np.flatnonzero(~((values > 0) & (values < 1)))
        if len(bad):
            raise ValueError(f"sigmas[{bad[0]}] must lie in (0, 1); got {values[bad[0]]!r}")
        self.sigmas = tuple(float(v) for v in values)
        self.n_steps = positive_int(n_steps, "n_steps")
        if self.n_steps > 2**31 - 1:
            raise ValueError(f"n_steps must be at most 2**31 - 1; got {self.n_steps}")
        if isinstance(step_scale, bool) or not isinstance(step_scale, (int, float, np.floating, np.integer)):
            raise TypeError(f"step_scale must be a number; got {type(step_scale).__name__}")
        if not 0 < float(step_scale) < 2:
            raise ValueError(f"step_scale must lie in (0, 2); got {step_scale!r}")
        self.step_scale = float(step_scale)

    def check(self, energy) -> None:
        k = getattr(energy, "n_classes", None)
        if k is not None and k != len(self.sigmas):
            raise ValueError(f"objective='drl' reads a classifier energy's logits as its levels' heads: it needs "
                             f"n_classes = {len(self.sigmas)} (one per sigma); got n_classes={k}")

    @staticmethod
    def level_energy(energy, level):
        """The energy of level ``level`` (0 is the data's): ``energy.class_energy(level)`` for an
        energy with a head per level, else ``energy`` itself."""
        return energy if getattr(energy, "n_classes", None) is None else energy.class_energy(level)

    def settings(self, energy) -> dict:
        return {"sigmas": np.asarray(self.sigmas, dtype=np.float64), "n_steps": self.n_steps,
                "step_scale": self.step_scale}

    @property
    def signal_kept(self) -> float:
        """``Π √(1 − σ²)``: the factor of the data left at the last level."""
        return float(np.prod(np.sqrt(1 - np.square(self.sigmas))))

    def sample(self, energy, n, *, seed=None, x=None, clamp=None, return_levels=False):
        """Samples of the model from noise: ``x_T ~ N(0, I)`` (or ``x``), then at each level, from
        the last down, ``n_steps`` Langevin steps on ``E(y) + ‖y − x_{t+1}‖²/(2σ²_{t+1})`` from
        ``x_{t+1}``, and ``x_t = y / √(1 − σ²_{t+1})``.

        Parameters
        ----------
        energy : Energy
            The energy this objective trained (with a head per level, or one for all).
        n : int
            Number of samples.
        seed : int or numpy.random.Generator, optional
        x : array_like, shape (n, *energy.input_shape), optional
            Starting points at the last level instead of ``N(0, I)`` draws; not modified.
        clamp : (float, float), optional
            Clip the returned samples to this range (the data's, e.g. ``(-1, 1)``).
        return_levels : bool, default False
            Also return ``x_t`` for every level, shape ``(T + 1, n, *input_shape)`` (``x_0`` first).

        Returns
        -------
        ndarray, shape (n, *energy.input_shape), float32

        Raises
        ------
        DivergenceError
            A chain became non-finite (``chain``, ``step`` counted over all levels).
        """
        n = positive_int(n, "n")
        shape = tuple(energy.input_shape)
        rng = np.random.default_rng(resolve_seed(seed))
        if x is None:
            current = rng.standard_normal((n, int(np.prod(shape)))).astype(np.float32)
        else:
            current, _ = as_samples(x, shape, "x", copy=True)
            if len(current) != n:
                raise ValueError(f"x must hold n = {n} starting points; got {len(current)}")
        if clamp is not None:
            low, high = (float(v) for v in clamp)
            if not low < high:
                raise ValueError(f"clamp must be (low, high) with low < high; got {clamp!r}")
        self.check(energy)
        levels, done = [current.copy()], 0
        for t in reversed(range(len(self.sigmas))):
            sigma, level_energy = self.sigmas[t], self.level_energy(energy, t)
            h = np.float32(self.step_scale * sigma * np.sqrt(1 - sigma * sigma))
            drift, tether = np.float32(h * h / 2), np.float32(1 / (sigma * sigma))
            anchor, y = current, current.copy()
            for _ in range(self.n_steps):
                g = level_energy.grad_x(y)
                y += h * rng.standard_normal(y.shape, dtype=np.float32) - drift * (g + tether * (y - anchor))
                done += 1
                bad = np.flatnonzero(~np.isfinite(y).all(axis=1))
                if len(bad):
                    exc = DivergenceError(f"sampling diverged at level σ = {sigma} (step {done}): chain {bad[0]} "
                                          "is not finite — try a smaller step_scale")
                    exc.site, exc.quantity, exc.step, exc.chain = "drl", "samples", done, int(bad[0])
                    raise exc
            current = y / np.float32(np.sqrt(1 - sigma * sigma))
            levels.append(current.copy())
        out = current if clamp is None else np.clip(current, low, high)
        out = out.reshape(n, *shape)
        if return_levels:
            return out, np.stack(levels[::-1]).reshape(len(levels), n, *shape)
        return out
