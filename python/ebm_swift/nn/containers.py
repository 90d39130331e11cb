"""Modules made of modules: a sequence, a residual block."""

from __future__ import annotations

from ._module import Module


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
