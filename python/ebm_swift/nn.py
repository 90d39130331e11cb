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

import numbers

import numpy as np

from . import _native

__all__ = [
    "from_config", "Module", "Sequential", "Linear", "Conv2d", "AvgPool2d", "Flatten", "Residual",
    "SpectralNorm", "spectral_norm", "SiLU", "Swish", "Tanh", "Softplus", "ELU", "GELU", "ReLU", "LeakyReLU",
]

def _pair(value, name):
    """An int or a pair of ints as ``(h, w)``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    try:
        h, w = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an int or a pair of ints; got {value!r}") from None
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an int or a pair of ints; got {value!r}")
    return int(h), int(w)


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


class Module:
    """Base of the layers. A module maps one sample shape to another.

    Subclasses define :meth:`output_shape`, :meth:`_records` (the layer records of the C ABI,
    ``(kind, {field: value})`` in pre-order, read by the core's layer of the same kind) and :meth:`_parameter_shapes`.
    """

    def output_shape(self, input_shape: tuple) -> tuple:
        """The shape of one output sample for one input sample of ``input_shape``.

        Raises
        ------
        ValueError
            If the module cannot take that shape.
        """
        raise NotImplementedError

    def _records(self, input_shape: tuple) -> list:
        raise NotImplementedError

    def _parameter_shapes(self, input_shape: tuple) -> list:
        """``[(name, shape), …]`` of the parameters, in their native order."""
        return []

    def _buffer_shapes(self, input_shape: tuple) -> list:
        """``[(name, shape), …]`` of the buffers (state that is not trained), in their native order."""
        return []

    def _arguments(self) -> dict:
        """The constructor's keyword arguments (JSON-able) that rebuild this module."""
        return {}

    def to_config(self) -> dict:
        """The architecture as JSON-able data: ``{"type": class name, **constructor arguments}``
        (nested for :class:`Sequential` and :class:`Residual`); :func:`from_config` rebuilds it."""
        return {"type": type(self).__name__, **self._arguments()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


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


class Linear(Module):
    """``y = x Wᵀ + b`` on samples of shape ``(in_features,)``; weight ``(out_features, in_features)``,
    bias ``(out_features,)``.

    Parameters
    ----------
    in_features, out_features : int
    """

    def __init__(self, in_features, out_features):
        self.in_features = _positive(in_features, "in_features")
        self.out_features = _positive(out_features, "out_features")

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(f"{self!r} expects input of shape ({self.in_features},) but receives {tuple(input_shape)}"
                             + (" (add nn.Flatten() before it)" if len(input_shape) > 1 else ""))
        return (self.out_features,)

    def _records(self, input_shape):
        return [("linear", {"in_features": self.in_features, "out_features": self.out_features})]

    def _arguments(self):
        return {"in_features": self.in_features, "out_features": self.out_features}

    def _parameter_shapes(self, input_shape):
        return [("weight", (self.out_features, self.in_features)), ("bias", (self.out_features,))]

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"


class Conv2d(Module):
    """2-D convolution of ``(in_channels, height, width)`` samples with zero padding, as
    ``torch.nn.Conv2d``; weight ``(out_channels, in_channels, kh, kw)``, bias ``(out_channels,)``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding : int or (int, int)
        ``(height, width)`` when a pair. Output size ``(H + 2·ph − kh) // sh + 1`` (likewise for W).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = _positive(in_channels, "in_channels")
        self.out_channels = _positive(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d needs kernel_size and stride ≥ 1 and padding ≥ 0; got kernel_size="
                             f"{self.kernel_size}, stride={self.stride}, padding={self.padding}")

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[0] != self.in_channels:
            raise ValueError(f"{self!r} expects input of shape ({self.in_channels}, height, width) but receives {input_shape}")
        size = [(n + 2 * p - k) // s + 1 for n, k, s, p in zip(input_shape[1:], self.kernel_size, self.stride, self.padding)]
        if any(n + 2 * p < k for n, k, p in zip(input_shape[1:], self.kernel_size, self.padding)) or min(size) < 1:
            raise ValueError(f"{self!r} would have an empty output on input of shape {input_shape}")
        return (self.out_channels, *size)

    def _records(self, input_shape):
        return [("conv2d", {"in_channels": self.in_channels, "out_channels": self.out_channels,
                            "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding})]

    def _parameter_shapes(self, input_shape):
        return [("weight", (self.out_channels, self.in_channels, *self.kernel_size)), ("bias", (self.out_channels,))]

    def _arguments(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class AvgPool2d(Module):
    """Average pooling of ``(channels, height, width)`` samples over ``kernel_size`` windows
    (no padding, ``ceil_mode=False``), as ``torch.nn.AvgPool2d``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``, as in PyTorch.
    """

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"AvgPool2d needs kernel_size and stride ≥ 1; got {self.kernel_size}, {self.stride}")

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"{self!r} expects input of shape (channels, height, width) but receives {input_shape}")
        if any(k > n for k, n in zip(self.kernel_size, input_shape[1:])):
            raise ValueError(f"{self!r} would have an empty output on input of shape {input_shape}")
        return (input_shape[0], *[(n - k) // s + 1 for n, k, s in zip(input_shape[1:], self.kernel_size, self.stride)])

    def _records(self, input_shape):
        return [("avgpool2d", {"kernel_size": self.kernel_size, "stride": self.stride})]

    def _arguments(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def __repr__(self):
        return f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Module):
    """A sample of any shape as one vector (``torch.nn.Flatten()`` on a batch)."""

    def output_shape(self, input_shape):
        size = 1
        for n in input_shape:
            size *= n
        return (size,)

    def _records(self, input_shape):
        return [("flatten", {})]


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


class Sequential(Module):
    """Modules applied in order; ``len``, indexing and iteration as ``torch.nn.Sequential``.

    Parameters
    ----------
    *layers : Module
    """

    def __init__(self, *layers):
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential layer {i} must be an ebm_swift.nn Module; got {type(layer).__name__}")
        self.layers = tuple(layers)

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    def shapes(self, input_shape) -> list:
        """``[output shape of layer 0, of layer 1, …]`` for samples of ``input_shape``.

        Raises
        ------
        ValueError
            Naming the first layer (by index) that cannot take its input, and both shapes.
        """
        shape, out = tuple(input_shape), []
        for i, layer in enumerate(self.layers):
            try:
                shape = tuple(layer.output_shape(shape))
            except ValueError as exc:
                raise ValueError(f"layer {i}: {exc}") from None
            out.append(shape)
        return out

    def output_shape(self, input_shape):
        return self.shapes(input_shape)[-1]

    def _records(self, input_shape):
        records, shape = [], tuple(input_shape)
        for layer, out in zip(self.layers, self.shapes(input_shape)):
            records += layer._records(shape)
            shape = out
        return records

    def _named(self, input_shape, shapes_of):
        """``shapes_of(layer, its input shape)`` for every layer, names prefixed ``"{i}."``."""
        named, shape = [], tuple(input_shape)
        for i, (layer, out) in enumerate(zip(self.layers, self.shapes(input_shape))):
            named += [(f"{i}.{name}", s) for name, s in shapes_of(layer, shape)]
            shape = out
        return named

    def _parameter_shapes(self, input_shape):
        return self._named(input_shape, lambda layer, shape: layer._parameter_shapes(shape))

    def _buffer_shapes(self, input_shape):
        return self._named(input_shape, lambda layer, shape: layer._buffer_shapes(shape))

    def _arguments(self):
        return {"layers": [layer.to_config() for layer in self.layers]}

    def __repr__(self):
        inner = "".join(f"\n  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


class Residual(Module):
    """``x + module(x)``; ``module`` must keep the sample shape.

    Parameters
    ----------
    module : Module
        Usually a :class:`Sequential`; its parameters are named ``"block.{name}"``.
    """

    def __init__(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Residual needs an ebm_swift.nn Module; got {type(module).__name__}")
        self.block = module

    def output_shape(self, input_shape):
        out = tuple(self.block.output_shape(input_shape))
        if out != tuple(input_shape):
            raise ValueError(f"Residual needs a block that keeps the shape: input {tuple(input_shape)}, block output {out}")
        return out

    def _records(self, input_shape):
        inner = self.block._records(input_shape)
        return [("residual", {"layers": len(inner)})] + inner

    def _parameter_shapes(self, input_shape):
        return [(f"block.{name}", s) for name, s in self.block._parameter_shapes(input_shape)]

    def _buffer_shapes(self, input_shape):
        return [(f"block.{name}", s) for name, s in self.block._buffer_shapes(input_shape)]

    def _arguments(self):
        return {"block": self.block.to_config()}

    def __repr__(self):
        return f"Residual({repr(self.block)})"


class SpectralNorm(Module):
    """Spectral normalisation of a :class:`Linear` or :class:`Conv2d` (Miyato et al. 2018), as
    ``torch.nn.utils.spectral_norm(module)``: the layer computes with ``W / σ(W)``, ``σ`` the largest
    singular value of the weight as an ``(out, in·kh·kw)`` matrix, estimated by power iteration.

    Parameters
    ----------
    module : Linear or Conv2d
    n_power_iterations : int, default 1
        Power iterations ``v ← normalise(Wᵀ u)``, ``u ← normalise(W v)`` per training step.
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


_MODULES = {cls.__name__: cls for cls in (Sequential, Linear, Conv2d, AvgPool2d, Flatten, Residual, SpectralNorm, SiLU,
                                          Tanh, Softplus, ELU, GELU, ReLU, LeakyReLU)}
