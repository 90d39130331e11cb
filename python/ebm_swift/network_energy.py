"""Energies computed by composable networks (:mod:`ebm_swift.nn`)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from . import _native, nn
from ._validation import positive_ints, resolve_seed
from .energies import TrainableEnergy, _split_named
from .persistence import persistent

__all__ = ["NetworkEnergy"]

_MAX_COUNT = 2**31 - 1


@persistent("NetworkEnergy")
class NetworkEnergy(TrainableEnergy):
    """The energy ``E: R^input_shape → R`` computed by an :mod:`ebm_swift.nn` network.

    Parameters
    ----------
    net : nn.Sequential
        The network; it must end in one output per sample (e.g. ``nn.Linear(64, 1)``).
    input_shape : int or tuple of int
        The shape of one sample: ``(channels, height, width)`` for images, ``(dim,)`` for vectors.
    seed : None, int or numpy.random.Generator
        Seed of the initialisation (PyTorch's defaults for ``Linear`` and ``Conv2d``: uniform on
        ``±1/sqrt(fan_in)``); ``None`` draws fresh entropy.

    Attributes
    ----------
    net, input_shape, dim, num_parameters

    Notes
    -----
    Batches are ``(n, *input_shape)`` or flat ``(n, dim)``; :meth:`grad_x` returns the shape it
    was given, and so do the samplers. :meth:`parameters` names and shapes the parameters as the
    same architecture's ``torch.nn.Sequential(...).state_dict()``.

    Raises
    ------
    ValueError
        At construction, naming the layer index and both shapes, when a layer cannot take the
        previous layer's output, or when the network does not end in one output.
    """

    def __init__(self, net, input_shape, seed=None):
        if not isinstance(net, nn.Sequential):
            raise TypeError(f"net must be an ebm_swift.nn.Sequential; got {type(net).__name__}")
        self._input_shape = positive_ints(input_shape, "input_shape")
        self.net = net
        self._layer_shapes = net.shapes(self._input_shape)
        if self._layer_shapes[-1] != (1,):
            raise ValueError(f"the network must end in one output per sample; layer {len(net) - 1} produces "
                             f"shape {self._layer_shapes[-1]}")
        self._shapes = OrderedDict(net._parameter_shapes(self._input_shape))
        self._buffer_shapes = OrderedDict(net._buffer_shapes(self._input_shape))
        # Sizes in Python integers, before anything native is built (the core's limit is 2**31 - 1).
        for i, shape in [("input", self._input_shape), *enumerate(self._layer_shapes)]:
            if math.prod(shape) > _MAX_COUNT:
                where = "input_shape" if i == "input" else f"layer {i}'s output"
                raise ValueError(f"{where} {tuple(shape)} has {math.prod(shape)} elements per sample; at most 2**31 - 1")
        for what, shapes in (("parameters", self._shapes), ("buffers", self._buffer_shapes)):
            count = sum(math.prod(s) for s in shapes.values())
            if count > _MAX_COUNT:
                raise ValueError(f"the network has {count} {what}; at most 2**31 - 1 are supported")
        self.dim = math.prod(self._input_shape)
        self._handle = _native.network_create(np.asarray(self._input_shape, dtype=np.int64),
                                              net._records(self._input_shape), resolve_seed(seed))

    @property
    def input_shape(self) -> tuple:
        """The shape of one sample."""
        return self._input_shape

    def summary(self) -> str:
        """A table of the layers: index, layer, output shape per sample, parameter count.

        Returns
        -------
        str
        """
        rows, shape = [], self._input_shape
        for i, (layer, out) in enumerate(zip(self.net, self._layer_shapes)):
            count = sum(int(np.prod(s)) for _, s in layer._parameter_shapes(shape))
            rows.append((str(i), repr(layer).replace("\n", " ").replace("  ", ""), str(out), f"{count:,}"))
            shape = out
        head = ("#", "layer", "output shape", "parameters")
        widths = [max(len(r[k]) for r in rows + [head]) for k in range(4)]
        line = lambda r: "  ".join(c.ljust(w) if k < 3 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
        total = f"input shape {self._input_shape}; {self.num_parameters:,} parameters"
        return "\n".join([line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows] + [total])

    def _state(self):
        arrays = {"params": self._flat_parameters()}
        if self._buffer_shapes:
            arrays["buffers"] = _native.energy_get_buffers(self._handle)
        return arrays, {"net": self.net.to_config(), "input_shape": list(self._input_shape)}

    @classmethod
    def _from_state(cls, arrays, meta):
        net, input_shape = nn.from_config(meta.get("net")), positive_ints(meta.get("input_shape"), "the file's input_shape")
        # The sizes the architecture implies, in Python, before anything is allocated for it.
        expected = sum(math.prod(s) for _, s in net._parameter_shapes(input_shape))
        if arrays["params"].size != expected:
            raise ValueError(f"the file's network has {expected} parameters but the file holds {arrays['params'].size}")
        energy = cls(net, input_shape, seed=0)
        energy._load_flat(arrays["params"])
        if energy._buffer_shapes:
            if "buffers" not in arrays:
                raise ValueError("the saved network has spectral norms but no buffers")
            energy.set_buffers(_split_named(np.asarray(arrays["buffers"], dtype=np.float32), energy._buffer_shapes))
        return energy

    def __repr__(self) -> str:
        return f"NetworkEnergy(input_shape={self._input_shape}, num_parameters={self.num_parameters})"
