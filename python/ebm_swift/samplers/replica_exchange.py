"""Replica exchange (parallel tempering) with non-reversible even–odd swaps (Syed et al. 2022) —
the kernel ``"replica_exchange"``."""

from __future__ import annotations

import numpy as np

from .._validation import flag, positive_float, positive_int, real_array
from ._docs import ADAPTATION_DOC, RETURNS_DOC
from ._record import REGISTRY, Sampler, register, run

__all__ = ["ReplicaExchange", "replica_exchange"]

#: The most replicas per chain the core takes.
MAX_REPLICAS = 1024


def temperature_ladder(temperatures, n_replicas, max_temperature):
    """The ladder as float64 ``(K,)``: ``temperatures`` checked (finite, strictly increasing from
    1, at least 2), or ``n_replicas`` geometric steps from 1 to ``max_temperature``."""
    if temperatures is None:
        k = positive_int(n_replicas, "n_replicas")
        if not 2 <= k <= MAX_REPLICAS:
            raise ValueError(f"n_replicas must be in [2, {MAX_REPLICAS}]; got {n_replicas}")
        top = positive_float(max_temperature, "max_temperature")
        if not top > 1:
            raise ValueError(f"max_temperature must be above 1; got {max_temperature}")
        return np.geomspace(1.0, top, k)
    ladder = real_array(temperatures, "temperatures").astype(np.float64)
    if ladder.ndim != 1 or not 2 <= len(ladder) <= MAX_REPLICAS:
        raise ValueError(f"temperatures must be a 1-D array of 2 to {MAX_REPLICAS} values; got shape {ladder.shape}")
    if not np.isfinite(ladder).all() or ladder[0] != 1 or not (np.diff(ladder) > 0).all():
        raise ValueError(f"temperatures must be finite and strictly increasing from 1 (the target); got "
                         f"{ladder.tolist()}")
    if not (np.diff(ladder.astype(np.float32)) > 0).all():
        raise ValueError(f"temperatures must stay strictly increasing in float32; got {ladder.tolist()}")
    return ladder


@register
class ReplicaExchange(Sampler):
    """The replica-exchange kernel: ``K`` tempered replicas of each chain moved by an inner kernel,
    neighbours swapped by the deterministic even–odd scheme.

    Parameters
    ----------
    step_size : float
        The inner kernel's step at ``T = 1``; replica ``k`` uses ``step_size · T_k``.
    kernel : str or Sampler, default "mala"
        The inner kernel: a kind (``"mala"``, ``"hmc"``, ``"nuts"``, ``"barker"``, ``"langevin"``,
        ``"kinetic_langevin"``) made with ``step_size``, or a record with that step size.
    temperatures : array_like, shape (K,), optional
        The ladder, strictly increasing from 1.
    n_replicas : int, default 8
        Without ``temperatures``: ``K``, spaced geometrically from 1 to ``max_temperature``.
    max_temperature : float, default 10
        Without ``temperatures``: the hottest temperature.
    adapt_temperatures : bool, default True
        With warm-up, re-space each chain's ladder to equalise the swap rates.
    """

    kind = "replica_exchange"
    default_target_accept = 0.574
    moves_x_alone = False
    info_keys = ("acceptance_rate", "swap_rate", "round_trip_rate", "temperatures", "step_size")

    def __init__(self, step_size, *, kernel="mala", temperatures=None, n_replicas=8, max_temperature=10.0,
                 adapt_temperatures=True):
        super().__init__(step_size)
        if isinstance(kernel, str):
            if kernel not in REGISTRY:
                raise ValueError(f"kernel must be one of {list(REGISTRY)} or a sampler record; got {kernel!r}")
            kernel = REGISTRY[kernel](self.step_size)
        if not isinstance(kernel, Sampler):
            raise TypeError(f"kernel must be a sampler kind or record; got {type(kernel).__name__}")
        if kernel.kind == "replica_exchange":
            raise ValueError("kernel must be a kernel whose chains are their positions alone (mala, hmc, nuts, "
                             "barker, langevin, kinetic_langevin); got 'replica_exchange'")
        if kernel.step_size != self.step_size:
            raise ValueError(f"the kernel record's step_size ({kernel.step_size}) differs from step_size "
                             f"({self.step_size})")
        self.kernel = kernel
        self.temperatures = tuple(temperature_ladder(temperatures, n_replicas, max_temperature).tolist())
        self.adapt_temperatures = flag(adapt_temperatures, "adapt_temperatures")

    @property
    def adaptable(self):
        return self.kernel.adaptable

    def settings(self, input_shape):
        inner = {f"inner.{k}": v for k, v in self.kernel.settings(input_shape).items()}
        return {"kernel": self.kernel.kind, "temperatures": np.asarray(self.temperatures),
                "adapt_temperatures": int(self.adapt_temperatures), **inner}

    def finish_info(self, info, n_counted):
        trips = info.pop("round_trips", None)
        if trips is not None:
            info["round_trip_rate"] = trips / n_counted
        return {k: info[k] for k in (*self.info_keys, *info) if k in info}


def replica_exchange(energy, x0, n_steps, step_size, *, temperatures=None, n_replicas=8, max_temperature=10.0,
                     kernel="mala", adapt_temperatures=True, adapt_step_size=False, n_warmup=None,
                     target_accept=None, seed=None, thin=None, return_trajectory=False, diagnostics=False,
                     return_info=True, chain_offset=0, progress=False):
    x, info = run(ReplicaExchange(step_size, kernel=kernel, temperatures=temperatures, n_replicas=n_replicas,
                                  max_temperature=max_temperature, adapt_temperatures=adapt_temperatures),
                  energy, x0, n_steps, seed=seed, adapt_step_size=adapt_step_size, n_warmup=n_warmup,
                  target_accept=target_accept, chain_offset=chain_offset, thin=thin,
                  return_trajectory=return_trajectory, diagnostics=diagnostics, progress=progress)
    return (x, info) if flag(return_info, "return_info") else x


replica_exchange.__doc__ = """Run replica exchange (parallel tempering) on a batch of chains.

    Each chain carries ``K`` replicas at temperatures ``1 = T₀ < … < T_{K−1}``, replica ``k``
    sampling ``exp(−E/T_k)``: the hot ones cross the barriers between modes that trap a single
    chain, and swaps bring what they find down to ``T = 1``. Per step every replica takes one step
    of ``kernel`` (step ``step_size · T_k``), then neighbours ``(k, k+1)`` — even ``k`` at even
    steps, odd ``k`` at odd steps (the non-reversible scheme of Syed et al. 2022, whose round trips
    scale linearly in ``K``) — swap states with probability
    ``min(1, exp((1/T_k − 1/T_{k+1}) (E(x_k) − E(x_{k+1}))))``. The ``T = 1`` replicas are returned
    and sample ``exp(−E)`` exactly (with an exact inner kernel). A step costs ``K`` inner steps.

    What to look at: ``swap_rate`` per pair (0.2–0.8 is healthy; a pair near 0 blocks the
    ladder — add replicas there or let warm-up re-space them); ``round_trip_rate`` (round trips
    of a state between ``T = 1`` and the hottest replica per step, the measure Syed et al.
    optimise; 0 means no state has carried information from the hot end down). The hottest
    temperature must flatten the barriers: ``E``'s barrier height divided by ``T_{K−1}`` of the
    order of 1.

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states (all replicas of a chain start there); never modified.
    n_steps : int
        Steps, warm-up included.
    step_size : float
        The inner kernel's step at ``T = 1`` (the starting value when adapted).
    temperatures : array_like, shape (K,), optional
        The ladder, strictly increasing from 1.
    n_replicas : int, default 8
        Without ``temperatures``: ``K``, spaced geometrically from 1 to ``max_temperature``.
    max_temperature : float, default 10
        Without ``temperatures``: the hottest temperature.
    kernel : str or Sampler, default "mala"
        The inner kernel: ``"mala"``, ``"hmc"``, ``"nuts"``, ``"barker"``, ``"langevin"``,
        ``"kinetic_langevin"``, or such a record (e.g. ``HMC(step_size, n_leapfrog=5)``).
    adapt_temperatures : bool, default True
        During warm-up (``adapt_step_size=True``), re-space each chain's interior temperatures
        at the ends of windows of doubling length so the swap rejection rates become equal
        (Syed et al. 2022, §5.1); the ends stay.
    """ + ADAPTATION_DOC.format(
    default="0.574", reason="MALA's, for the default inner kernel; set the inner kernel's own for another.") + """
""" + RETURNS_DOC + """
        Per chain: ``acceptance_rate`` (the ``T = 1`` replica's inner moves after warm-up),
        ``swap_rate`` ``(n, K−1)`` (mean swap acceptance probability of each pair after warm-up),
        ``round_trip_rate`` ``(n,)`` (round trips per step after warm-up), ``temperatures``
        ``(n, K)`` (each chain's final ladder) and ``step_size`` ``(n,)``; plus ``trajectory`` (of
        the ``T = 1`` replicas) and the per-step means when requested.

    Raises
    ------
    DivergenceError
        If a starting state's energy or gradient is not finite.
    """
