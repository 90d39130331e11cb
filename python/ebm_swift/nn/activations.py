"""Elementwise activations."""

from __future__ import annotations

import numbers

from ._module import Module


class _Activation(Module):
    _function = None

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def _records(self, input_shape):
        return [("activation", {"function": self._function})]


class SiLU(_Activation):
    """``x·σ(x)`` (``torch.nn.SiLU``)."""

    _function = "swish"


#: Alias of :class:`SiLU`.
Swish = SiLU


class Tanh(_Activation):
    """``tanh x``."""

    _function = "tanh"


class Softplus(_Activation):
    """``ln(1 + eˣ)`` (``beta=1``)."""

    _function = "softplus"


class ELU(_Activation):
    """``x`` for ``x > 0``, else ``eˣ − 1`` (``alpha=1``)."""

    _function = "elu"


class GELU(_Activation):
    """GELU, as ``torch.nn.GELU``: ``x·Φ(x)`` (``approximate="none"``, the default, with ``Φ`` the
    standard normal distribution function) or its tanh form
    ``½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))`` (``approximate="tanh"``).

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        Both are computed natively; the tanh form has a vectorised kernel and is the faster.
    """

    def __init__(self, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate
        self._function = "gelu" if approximate == "tanh" else "gelu_erf"

    def _arguments(self):
        return {"approximate": self.approximate}

    def __repr__(self):
        return f"GELU(approximate={self.approximate!r})"


class LeakyReLU(Module):
    """``x`` for ``x > 0``, else ``negative_slope·x``.

    Parameters
    ----------
    negative_slope : float, default 0.01
    """

    def __init__(self, negative_slope=0.01):
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real) \
                or not float(negative_slope) == float(negative_slope) or abs(float(negative_slope)) == float("inf"):
            raise ValueError(f"negative_slope must be a finite real number; got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def _records(self, input_shape):
        return [("leaky_relu", {"negative_slope": self.negative_slope})]

    def _arguments(self):
        return {"negative_slope": self.negative_slope}

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class ReLU(LeakyReLU):
    """``max(x, 0)``."""

    def __init__(self):
        super().__init__(0.0)

    def _arguments(self):
        return {}

    def __repr__(self):
        return "ReLU()"
