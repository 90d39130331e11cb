"""Composable energy networks, with ``torch.nn``'s names and arguments.

A network is a tree of small modules — :class:`Linear`, :class:`Conv2d`, :class:`AvgPool2d`,
:class:`Flatten`, activations, :class:`Residual`, :class:`SpectralNorm` — composed by :class:`Sequential`, and becomes
an energy with :class:`ebm_swift.NetworkEnergy`, which computes it natively::

    from ebm_swift import nn, NetworkEnergy
    net = nn.Sequential(nn.Conv2d(1, 16, 5, stride=2, padding=4), nn.SiLU(),
                        nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(), nn.Flatten(),
                        nn.Linear(32 * 8 * 8, 64), nn.SiLU(), nn.Linear(64, 1))
    energy = NetworkEnergy(net, input_shape=(1, 28, 28), seed=0)

Samples are ``NCHW`` (channels, height, width) as in PyTorch. Parameter names and shapes are
those of the same architecture's ``torch.nn.Sequential(...).state_dict()`` (``"0.weight"`` of
shape ``(out, in, kh, kw)``, ``"0.bias"``, …; a :class:`Residual` at index ``i`` holding a
:class:`Sequential` names its parameters ``"{i}.block.{j}.weight"``), so weights move to and
from PyTorch unchanged. Modules only describe the architecture: they hold no parameters.

Supported activations: :class:`SiLU` (alias :class:`Swish`), :class:`Tanh`, :class:`Softplus`,
:class:`ELU`, :class:`GELU` (``approximate="none"`` or ``"tanh"``), :class:`ReLU`, :class:`LeakyReLU`.
"""

from __future__ import annotations

from ._module import Module
from .activations import ELU, GELU, LeakyReLU, ReLU, SiLU, Softplus, Swish, Tanh
from .containers import Residual, Sequential
from .conv import AvgPool2d, Conv2d, Flatten
from .linear import Linear
from .spectral_norm import SpectralNorm, spectral_norm

__all__ = [
    "from_config", "Module", "Sequential", "Linear", "Conv2d", "AvgPool2d", "Flatten", "Residual",
    "SpectralNorm", "spectral_norm", "SiLU", "Swish", "Tanh", "Softplus", "ELU", "GELU", "ReLU", "LeakyReLU",
]


def from_config(config) -> Module:
    """The module described by :meth:`Module.to_config`.

    Raises
    ------
    ValueError
        For an unknown module type or arguments it does not take.
    """
    if not isinstance(config, dict) or config.get("type") not in _MODULES:
        raise ValueError(f"not an ebm_swift.nn module description: {config!r}")
    cls, args = _MODULES[config["type"]], {k: v for k, v in config.items() if k != "type"}
    if cls is Sequential:
        return Sequential(*[from_config(c) for c in args.get("layers", [])])
    if cls is Residual:
        return Residual(from_config(args.get("block")))
    if cls is SpectralNorm:
        args["module"] = from_config(args.get("module"))
    try:
        return cls(**args)
    except TypeError as exc:
        raise ValueError(f"bad arguments for {config['type']}: {exc}") from None


_MODULES = {cls.__name__: cls for cls in (Sequential, Linear, Conv2d, AvgPool2d, Flatten, Residual, SpectralNorm, SiLU,
                                          Tanh, Softplus, ELU, GELU, ReLU, LeakyReLU)}
