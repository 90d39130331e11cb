"""An independent NumPy (float64) re-implementation of the MLP energy's forward and backward
passes, written from the formulas, for checking the native code."""

import numpy as np

SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)


def activation(name, z):
    """Value and derivative of an activation at z."""
    if name == "swish":
        s = 1.0 / (1.0 + np.exp(-z))
        return z * s, s + z * s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t * t
    if name == "softplus":
        return np.logaddexp(0.0, z), 1.0 / (1.0 + np.exp(-z))
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0))), np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.2 * z), np.where(z > 0, 1.0, 0.2)
    if name == "gelu":
        u = SQRT_2_OVER_PI * (z + 0.044715 * z**3)
        t = np.tanh(u)
        return 0.5 * z * (1 + t), 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * z * z)
    if name == "gelu_erf":
        phi = 0.5 * (1 + _erf(z / np.sqrt(2.0)))
        return z * phi, phi + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    raise ValueError(name)


def _erf(z):
    from math import erf

    return np.vectorize(erf, otypes=[np.float64])(z)


def layers(params):
    """[(W, b), …] from a parameters() dict, in float64."""
    n = len(params) // 2
    return [(params[f"layers.{i}.weight"].astype(np.float64), params[f"layers.{i}.bias"].astype(np.float64)) for i in range(n)]


def forward(params, act, x):
    """Energies (n,) and the cache for backward."""
    a = np.asarray(x, dtype=np.float64)
    cache = []
    ls = layers(params)
    for w, b in ls[:-1]:
        value, deriv = activation(act, a @ w.T + b)
        cache.append((a, deriv))
        a = value
    w, b = ls[-1]
    cache.append((a, None))
    return (a @ w.T + b)[:, 0], cache


def backward(params, act, x, cotangent):
    """(grad_x (n, dim), {name: grad}) of Σ_i c_i E(x_i)."""
    _, cache = forward(params, act, x)
    ls = layers(params)
    c = np.asarray(cotangent, dtype=np.float64)[:, None]
    grads = {}
    top = len(ls) - 1
    a_top, _ = cache[top]
    grads[f"layers.{top}.weight"] = (c * a_top).sum(0)[None, :]
    grads[f"layers.{top}.bias"] = np.array([c.sum()])
    delta = c * ls[top][0]  # (n, width of last hidden)
    for layer in range(top - 1, -1, -1):
        a_in, deriv = cache[layer]
        delta = delta * deriv
        grads[f"layers.{layer}.weight"] = delta.T @ a_in
        grads[f"layers.{layer}.bias"] = delta.sum(0)
        delta = delta @ ls[layer][0]
    return delta, grads


def grad_x(params, act, x):
    return backward(params, act, x, np.ones(len(x)))[0]


def grad_params_of_mean(params, act, x):
    return backward(params, act, x, np.full(len(x), 1.0 / len(x)))[1]
