"""Annealed importance sampling and the thread setting; the sampling functions themselves live
in :mod:`ebm_swift.samplers` (one file per kernel) and are re-exported here."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import count_within_limit, flag, positive_float, positive_int, real_array, resolve_seed
from .energies import Energy
from .samplers import FUNCTIONS, Sampler, from_name, sample
from .samplers._record import check_chain_offset, run_native

globals().update(FUNCTIONS)  # langevin, mala, hmc, barker, …: every registered kernel's function
__all__ = [*FUNCTIONS, "sample", "ais_log_z", "set_num_threads", "get_num_threads"]


def ais_log_z(energy, *, dim=None, n_chains=1000, n_temps=1000, base_mean=None, base_std=1.0, transition="mala",
              n_steps=1, step_size=0.1, n_leapfrog=5, inverse_mass=None, seed=None, return_info=False,
              chain_offset=0, progress=False):
    """Estimate ``ln Z = ln ∫ exp(−E(x)) dx`` by annealed importance sampling (Neal 2001).

    ``n_chains`` chains start from exact samples of the base ``N(base_mean, base_std² I)`` and
    move through the geometric path ``E_β = (1 − β) E_base + β E`` at ``β = t / n_temps``; each
    gains the log weight ``−(β_t − β_{t−1}) (E(x) − E_base(x))`` before ``n_steps`` transitions
    that leave ``exp(−E_β)`` invariant (MALA, HMC) or nearly so (Langevin). Then
    ``Z = Z_base · mean(w)``.

    Parameters
    ----------
    energy : Energy
    dim : int, optional
        If given, must equal ``energy.dim``.
    n_chains, n_temps, n_steps : int
    base_mean : array_like, shape (dim,) or input_shape, optional
        Default zeros. Choose the base to cover the target: a base narrower than the target
        gives high-variance weights.
    base_std : float
    transition : str or Sampler, default "mala"
        The kernel that moves the chains at each temperature: a registered name (``"mala"``,
        ``"hmc"``, ``"nuts"``, ``"kinetic_langevin"``, ``"barker"``, ``"langevin"``; not
        ``"replica_exchange"``, a sampler of its own) with ``step_size`` (and ``n_leapfrog``,
        ``inverse_mass`` for HMC), or a record such as ``HMC(step_size=0.1, n_leapfrog=5)``, whose
        settings then replace those arguments. Metropolis kernels keep the estimator unbiased in
        ``Z``; Langevin adds its step-size bias. HMC moves further per transition (``n_leapfrog``
        gradients each).
    step_size : float
    n_leapfrog : int, default 5
        Leapfrog steps of an HMC transition.
    inverse_mass : array_like, shape (dim,), optional
        HMC's diagonal inverse mass.
    seed : None, int or numpy.random.Generator
    return_info : bool
        Also return a dict with ``log_weights``, ``acceptance_rate`` (float64) and ``n_divergent``
        (int64), each of shape (n_chains,).
    chain_offset : int
        The global index of the first chain: the chains ``[k, k + n)`` of an estimate, run alone
        with ``chain_offset=k``, have exactly its log weights ``[k, k + n)`` (for ``k`` and
        ``k + n`` multiples of 128, or ``k + n = n_chains``; see :func:`langevin`);
        :func:`ebm_swift.distributed.ais_log_z` splits an estimate this way.

    Returns
    -------
    log_z : float
    std_err : float
        Standard error of ``log_z`` (delta method on the mean weight); NaN for one chain.
        Unreliable when a few weights dominate: check ``log_weights``.
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    if dim is not None and positive_int(dim, "dim") != energy.dim:
        raise ValueError(f"dim must match energy.dim = {energy.dim}; got {dim}")
    n_chains = positive_int(n_chains, "n_chains")
    count_within_limit(n_chains * energy.dim, "n_chains × dim")
    n_temps = positive_int(n_temps, "n_temps")
    n_steps = positive_int(n_steps, "n_steps")
    if n_temps * n_steps >= 2**32 - 1:
        raise ValueError("n_temps * n_steps must be below 2**32 - 1")
    base_std = positive_float(base_std, "base_std")
    if base_mean is None:
        base_mean = np.zeros(energy.dim)
    base_mean = real_array(base_mean, "base_mean")
    shapes = {(energy.dim,), tuple(energy.input_shape)}
    if base_mean.shape not in shapes or not np.isfinite(base_mean).all():
        raise ValueError(f"base_mean must be finite with shape {' or '.join(map(str, sorted(shapes)))}; "
                         f"got shape {base_mean.shape}")
    base_mean = base_mean.ravel()
    if not isinstance(transition, Sampler):
        transition = from_name(transition, step_size, name="transition", n_leapfrog=n_leapfrog,
                               inverse_mass=inverse_mass)
    elif inverse_mass is not None:
        raise ValueError("inverse_mass belongs in the transition record (HMC(inverse_mass=…))")
    if not transition.moves_x_alone:
        raise ValueError(f"transition must be a kernel whose chains are their positions alone (mala, hmc, nuts, "
                         f"kinetic_langevin, …); got {transition.kind}, whose chains carry more state")
    return_info = flag(return_info, "return_info")
    seed = resolve_seed(seed)
    record = (transition.kind, transition.settings(energy.input_shape))
    run = ("", {"n_chains": n_chains, "n_temps": n_temps, "n_steps": n_steps, "base_std": base_std, "seed": seed,
                "chain_offset": check_chain_offset(chain_offset)})
    log_z, std_err, log_weights, acceptance, divergent = run_native(
        lambda report: _native.ais_log_z(energy._handle, record, run, n_chains, base_mean, report), "ais", progress)
    if n_chains == 1:
        std_err = float("nan")  # one weight says nothing of the weights' spread
    if return_info:
        return log_z, std_err, {"log_weights": log_weights, "acceptance_rate": acceptance,
                                "n_divergent": divergent.astype(np.int64)}
    return log_z, std_err


def set_num_threads(n: int) -> None:
    """Set the number of threads sampling uses (default: ``EBM_SWIFT_NUM_THREADS`` or every core).

    Chains are split into blocks that depend only on their number, so results are bit-identical
    for any thread count.
    """
    _native.set_num_threads(positive_int(n, "n", maximum=1024))


def get_num_threads() -> int:
    """The number of threads sampling uses."""
    return _native.get_num_threads()
