"""The base of every module, and the argument checks they share."""

from __future__ import annotations

import numbers


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
