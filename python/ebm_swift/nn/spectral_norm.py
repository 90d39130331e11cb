"""Spectral normalisation of a weight layer."""

from __future__ import annotations

import numbers

import numpy as np

from ._module import Module, _positive
from .conv import Conv2d
from .linear import Linear


#: The most power iterations per training step: one iteration's two products already track the
#: slowly changing top singular vector; thousands only make every step (and construction) slow.
MAX_POWER_ITERATIONS = 1000


class SpectralNorm(Module):
    """Spectral normalisation of a :class:`Linear` or :class:`Conv2d` (Miyato et al. 2018), as
    ``torch.nn.utils.spectral_norm(module)``: the layer computes with ``W / σ(W)``, ``σ`` the largest
    singular value of the weight as an ``(out, in·kh·kw)`` matrix, estimated by power iteration.

    Parameters
    ----------
    module : Linear or Conv2d
    n_power_iterations : int, default 1
        Power iterations ``v ← normalise(Wᵀ u)``, ``u ← normalise(W v)`` per training step, at
        most ``MAX_POWER_ITERATIONS`` (1000).
    eps : float, default 1e-12
        Floor of the norms in the normalisations.

    Notes
    -----
    Names as PyTorch's: parameters ``weight_orig`` (the module's weight shape) and ``bias``,
    buffers ``weight_u`` ``(out,)`` and ``weight_v`` ``(in·kh·kw,)`` (see
    ``NetworkEnergy.buffers``). ``σ = uᵀ W v`` from the stored ``u`` and ``v``, which a
    :class:`~ebm_swift.Trainer` moves by the power iterations once at the start of every step
    (PyTorch iterates at every forward pass in training mode; ebm_swift samples and evaluates as
    PyTorch's evaluation mode does, with the stored vectors). Gradients hold ``u`` and ``v`` fixed,
    as PyTorch's do. ``u`` and ``v`` start as random unit vectors drawn from the energy's seed and
    moved by one power iteration when the energy is built (PyTorch's first forward pass in
    training mode does the same), so ``σ`` estimates the largest singular value from the start.
    """

    def __init__(self, module, n_power_iterations=1, eps=1e-12):
        if not isinstance(module, (Linear, Conv2d)):
            raise TypeError(f"SpectralNorm wraps an nn.Linear or nn.Conv2d; got {type(module).__name__}")
        self.module = module
        self.n_power_iterations = _positive(n_power_iterations, "n_power_iterations")
        if self.n_power_iterations > MAX_POWER_ITERATIONS:
            raise ValueError(f"n_power_iterations must be at most {MAX_POWER_ITERATIONS} (each runs at every "
                             f"training step; PyTorch's default is 1); got {n_power_iterations!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (0 < float(eps) < float("inf")):
            raise ValueError(f"eps must be a positive finite number; got {eps!r}")
        self.eps = float(eps)

    def output_shape(self, input_shape):
        return self.module.output_shape(input_shape)

    def _records(self, input_shape):
        return [("spectral_norm", {"n_power_iterations": self.n_power_iterations, "eps": self.eps})] + \
            self.module._records(input_shape)

    def _parameter_shapes(self, input_shape):
        weight, bias = self.module._parameter_shapes(input_shape)
        return [("weight_orig", weight[1]), bias]

    def _buffer_shapes(self, input_shape):
        weight = self.module._parameter_shapes(input_shape)[0][1]
        return [("weight_u", (weight[0],)), ("weight_v", (int(np.prod(weight[1:])),))]

    def _arguments(self):
        return {"module": self.module.to_config(), "n_power_iterations": self.n_power_iterations, "eps": self.eps}

    def __repr__(self):
        return f"SpectralNorm({self.module!r})"


def spectral_norm(module, n_power_iterations=1, eps=1e-12) -> SpectralNorm:
    """``SpectralNorm(module, n_power_iterations, eps)``, under PyTorch's function name."""
    return SpectralNorm(module, n_power_iterations, eps)
