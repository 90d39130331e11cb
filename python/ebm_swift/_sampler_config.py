"""The one place a sampler's settings are checked and turned into the native config.

Every sampling entry point (``langevin``, ``mala``, ``hmc``, ``ais_log_z``, ``Trainer``) builds its
kernel here: the result is a dict whose keys are exactly the fields of the C struct
``ebm_sampler_config`` (the shim fills the struct by name and rejects a missing or unknown
field), plus the optional inverse mass, which crosses as an array beside it. Kernel codes come
from the C header through ``_native``.
"""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import (
    flag,
    interval,
    non_negative_float,
    optional_positive_float,
    positive_float,
    positive_int,
    real_array,
)

KERNELS = {
    "langevin": _native.EBM_KERNEL_LANGEVIN,
    "mala": _native.EBM_KERNEL_MALA,
    "hmc": _native.EBM_KERNEL_HMC,
}

# The acceptance rates that make each kernel most efficient in high dimension (optimal scaling):
# MALA 0.574 (Roberts & Rosenthal 1998), HMC 0.651 (Beskos et al. 2013); Stan's default for its
# adaptive HMC is 0.8, more conservative for hard geometry.
DEFAULT_TARGET_ACCEPT = {"mala": 0.574, "hmc": 0.65}

MAX_STEPS = 2**32 - 1


def kernel_name(value, name="sampler", allowed=tuple(KERNELS)):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {value!r}")
    return value


def inverse_mass_array(inverse_mass, input_shape, name="inverse_mass"):
    """``None``, or ``inverse_mass`` as float32 ``(dim,)``: positive and finite, of shape
    ``(dim,)`` or the energy's input shape."""
    if inverse_mass is None:
        return None
    mass = real_array(inverse_mass, name)
    dim = int(np.prod(input_shape))
    shapes = {(dim,), tuple(input_shape)}
    if mass.shape not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, sorted(shapes)))} (a diagonal); "
                         f"got shape {mass.shape}")
    with np.errstate(over="ignore"):
        mass = np.ascontiguousarray(mass, dtype=np.float32).ravel()
    if not (np.isfinite(mass).all() and (mass > 0).all()):
        raise ValueError(f"{name} must hold positive finite values (float32); got min {mass.min()!r}")
    return mass


def sampler_config(kernel, n_steps, step_size, *, seed, input_shape, noise_scale=None, grad_clip=None,
                   clamp=None, n_leapfrog=1, inverse_mass=None, divergence_threshold=None,
                   adapt_step_size=False, n_warmup=None, target_accept=None, adapt_mass=False, chain_offset=0):
    """Checked settings of one kernel: ``(config, inverse_mass)`` for the native call.

    ``noise_scale=None`` is ``sqrt(2·step_size)``; ``n_warmup=None`` with adaptation is half the
    steps (Stan's default); ``target_accept=None`` is the kernel's optimal rate.
    """
    kernel = kernel_name(kernel)
    n_steps = positive_int(n_steps, "n_steps")
    if n_steps >= MAX_STEPS:
        raise ValueError(f"n_steps must be below 2**32 - 1; got {n_steps}")
    step_size = positive_float(step_size, "step_size")
    noise = -1.0 if noise_scale is None else non_negative_float(noise_scale, "noise_scale")
    grad_clip = optional_positive_float(grad_clip, "grad_clip")
    low, high = interval(clamp, "clamp") if clamp is not None else (0.0, 0.0)
    n_leapfrog = positive_int(n_leapfrog, "n_leapfrog")
    threshold = 0.0 if divergence_threshold is None else positive_float(divergence_threshold, "divergence_threshold")
    mass = inverse_mass_array(inverse_mass, input_shape)
    adapt_step_size = flag(adapt_step_size, "adapt_step_size")
    adapt_mass = flag(adapt_mass, "adapt_mass")
    adapting = adapt_step_size or adapt_mass
    if adapting and kernel == "langevin":
        raise ValueError("adaptation needs an acceptance test: use mala or hmc, not langevin")
    if adapt_mass and kernel != "hmc":
        raise ValueError(f"adapt_mass is for hmc; got sampler {kernel!r}")
    if target_accept is None:
        target_accept = DEFAULT_TARGET_ACCEPT.get(kernel, 0.5)
    else:
        target_accept = positive_float(target_accept, "target_accept")
        if not 0 < target_accept < 1:
            raise ValueError(f"target_accept must be in (0, 1); got {target_accept!r}")
    if n_warmup is None:
        n_warmup = n_steps // 2 if adapting else 0
        if adapting and n_warmup < 1:
            raise ValueError(f"adaptation needs n_steps >= 2 (half of them warm-up); got n_steps={n_steps}")
    else:
        n_warmup = positive_int(n_warmup, "n_warmup")
        if n_warmup >= n_steps:
            raise ValueError(f"n_warmup must be below n_steps ({n_steps}): the steps after warm-up are the "
                             f"samples; got n_warmup={n_warmup}")
        if not adapting:
            raise ValueError("n_warmup is the adaptation's warm-up: pass adapt_step_size=True (or adapt_mass=True)")
    if isinstance(chain_offset, bool) or not isinstance(chain_offset, (int, np.integer)) or chain_offset < 0:
        raise ValueError(f"chain_offset must be a non-negative integer; got {chain_offset!r}")
    config = {
        "kernel": KERNELS[kernel], "n_steps": n_steps, "step_size": step_size, "noise_scale": noise,
        "grad_clip": grad_clip or 0.0, "has_clamp": int(clamp is not None), "clamp_low": low, "clamp_high": high,
        "n_leapfrog": n_leapfrog, "divergence_threshold": threshold, "adapt_step_size": int(adapt_step_size),
        "adapt_mass": int(adapt_mass), "n_warmup": n_warmup, "target_accept": float(target_accept),
        "seed": int(seed), "chain_offset": int(chain_offset),
    }
    return config, mass
