"""A fully connected layer."""

from __future__ import annotations

from ._module import Module, _positive


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
