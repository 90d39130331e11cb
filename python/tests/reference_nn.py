"""An independent NumPy (float64) forward pass of ebm_swift.nn networks, written from the
layers' definitions (sliding windows for convolutions and pooling), for checking the native code."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ebm_swift import nn
from reference import activation

_ACTIVATIONS = {nn.SiLU: "swish", nn.Tanh: "tanh", nn.Softplus: "softplus", nn.ELU: "elu"}


def forward(module, x, params, prefix=""):
    """``module(x)`` for a batch ``x`` of shape ``(n, *sample_shape)``; ``params`` by name (a
    state dict: spectral norms read their buffers ``weight_u``, ``weight_v`` from it too)."""
    p = lambda name: np.asarray(params[prefix + name], dtype=np.float64)  # noqa: E731
    if isinstance(module, nn.Sequential):
        for i, layer in enumerate(module):
            x = forward(layer, x, params, f"{prefix}{i}.")
        return x
    if isinstance(module, nn.SpectralNorm):  # W / σ with σ = uᵀ W v from the stored vectors
        w = p("weight_orig")
        sigma = p("weight_u") @ w.reshape(len(w), -1) @ p("weight_v")
        return forward(module.module, x, {prefix + "weight": w / sigma, prefix + "bias": p("bias")}, prefix)
    if isinstance(module, nn.Residual):
        return x + forward(module.block, x, params, prefix + "block.")
    if isinstance(module, nn.Linear):
        return x @ p("weight").T + p("bias")
    if isinstance(module, nn.Conv2d):
        (kh, kw), (sh, sw), (ph, pw) = module.kernel_size, module.stride, module.padding
        padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # n, c, oh, ow, kh, kw
        return np.einsum("ncyxij,ocij->noyx", windows, p("weight")) + p("bias")[None, :, None, None]
    if isinstance(module, nn.AvgPool2d):
        (kh, kw), (sh, sw) = module.kernel_size, module.stride
        return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw].mean(axis=(4, 5))
    if isinstance(module, nn.Flatten):
        return x.reshape(len(x), -1)
    if isinstance(module, nn.LeakyReLU):
        return np.where(x > 0, x, module.negative_slope * x)
    if isinstance(module, nn.GELU):
        return activation("gelu" if module.approximate == "tanh" else "gelu_erf", x)[0]
    return activation(_ACTIVATIONS[type(module)], x)[0]


def energy(net, params, x):
    return forward(net, np.asarray(x, dtype=np.float64), params)[:, 0]
