"""Layers of images: convolution, average pooling, flattening."""

from __future__ import annotations

from ._module import Module, _pair, _positive


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
