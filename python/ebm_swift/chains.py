"""Chains that persist between calls: a sampler checked once, its workspace kept, moved many times."""

from __future__ import annotations

import numpy as np

from . import _native
from ._validation import as_samples, resolve_seed
from .energies import Energy
from .samplers._record import MAX_STEPS, check_chain_offset, check_steps, run_native, sampler_record

__all__ = ["Chains"]


class Chains:
    """Chains of one sampler on one energy that persist between calls.

    The sampling functions (:func:`~ebm_swift.langevin`, :func:`~ebm_swift.mala`, …) check their
    arguments and set up the sampler's workspace on every call; a loop of short calls — one step
    at a time, to watch chains move, to change something between steps or to interleave sampling
    with other work — pays that every time. ``Chains`` checks once and keeps the workspace, so a
    run of one step costs little more than the step itself.

    The noise of chain ``i`` at its ``t``-th step depends only on ``(seed, chain_offset + i, t)``:
    runs of ``n1`` then ``n2`` steps give exactly the states of one run of ``n1 + n2`` steps, and
    the same states as ``sample(energy, x0, n1 + n2, sampler, seed=seed)`` (bit for bit, for any
    thread count). Kinetic Langevin's momenta are kept from run to run (:attr:`carried`) for the
    same reason. The energy is read at every run, so chains follow a model being trained
    (persistent contrastive divergence by hand).

    Parameters
    ----------
    energy : Energy
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states, one chain per row; copied, never modified.
    sampler : Sampler
        A sampler record with its settings: ``Langevin(step_size=0.01)``, ``MALA(…)``,
        ``HMC(…)``, ``Barker(…)``, ``NUTS(…)``, ``KineticLangevin(…)`` (not ``ReplicaExchange``,
        whose hot replicas are more state than ``x``). No warm-up adaptation: adapt with the
        sampling function (``return_info=True`` gives the step sizes), then build the record.
    seed : None, int or numpy.random.Generator
    chain_offset : int
        The global index of the first chain (as in :func:`~ebm_swift.langevin`).

    Attributes
    ----------
    energy : Energy
    sampler : Sampler
    seed : int
        The 64-bit seed every run continues.
    chain_offset : int

    Examples
    --------
    >>> chains = Chains(model, x0, Langevin(step_size=0.01), seed=0)
    >>> for _ in range(100):
    ...     x = chains.run(1)          # (n, dim), read-only; chains.x is the same
    >>> chains.n_steps_taken
    100
    """

    def __init__(self, energy, x0, sampler, *, seed=None, chain_offset=0):
        if not isinstance(energy, Energy):
            raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
        sampler = sampler_record(sampler)
        if not sampler.moves_x_alone:
            raise ValueError(f"Chains keeps the states x alone between runs; {type(sampler).__name__} keeps more "
                             f"(use its sampling function)")
        x, self._shape = as_samples(x0, energy.input_shape, "x0", copy=True)
        self.energy, self.sampler = energy, sampler
        self.seed, self.chain_offset = resolve_seed(seed), check_chain_offset(chain_offset)
        n = x.shape[0]
        self._counted = "acceptance_rate" in sampler.info_keys  # kernels with an acceptance test
        self._accepted, self._divergent = np.zeros(n), np.zeros(n)
        self._steps = 0
        self._handle, width = _native.chains_create(energy._handle, (sampler.kind, sampler.settings(energy.input_shape)),
                                                    n)
        self._carried = np.zeros((n, width), dtype=np.float32) if width else None
        x.flags.writeable = False
        self._x = x

    def run(self, n_steps=1, *, progress=False):
        """Move every chain ``n_steps`` steps; return the new states.

        Parameters
        ----------
        n_steps : int, default 1
        progress : bool
            Show a progress bar (tqdm when installed).

        Returns
        -------
        x : ndarray, shape of x0, float32
            The states after the run, read-only (``.copy()`` to change them); also :attr:`x`.

        Raises
        ------
        DivergenceError
            If a gradient or state becomes NaN or infinite (the step named counts from the start
            of this run). The chains are then unchanged, as after Ctrl-C (``KeyboardInterrupt``,
            within about 50 ms).
        """
        if type(n_steps) is not int or n_steps < 1:
            n_steps = check_steps(n_steps)
        if self._steps + n_steps >= MAX_STEPS:
            raise ValueError(f"these chains have taken {self._steps} steps and the noise counter ends at 2**32 - 2: "
                             f"n_steps must be below {MAX_STEPS - self._steps}; got {n_steps} (start new Chains "
                             f"with another seed)")
        x = self._x.copy()  # the run changes nothing if it fails
        accepted = divergent = None
        if self._counted:
            accepted, divergent = self._accepted.copy(), self._divergent.copy()
        carried = None if self._carried is None else self._carried.copy()
        if progress is False:  # the common case, without the progress bar's set-up
            _native.chains_run(self._handle, x, n_steps, self.seed, self.chain_offset, self._steps, accepted,
                               divergent, carried, None)
        else:
            run_native(lambda report: _native.chains_run(self._handle, x, n_steps, self.seed, self.chain_offset,
                                                         self._steps, accepted, divergent, carried, report),
                       self.sampler.kind, progress)
        x.flags.writeable = False
        self._x, self._steps, self._carried = x, self._steps + n_steps, carried
        if self._counted:
            self._accepted, self._divergent = accepted, divergent
        return x if x.shape == self._shape else x.reshape(self._shape)

    @property
    def x(self):
        """ndarray, shape of x0, float32: the current states (read-only)."""
        return self._x.reshape(self._shape)

    @property
    def n_steps_taken(self):
        """int: the steps every chain has taken."""
        return self._steps

    @property
    def acceptance_rate(self):
        """ndarray, shape (n,), float64: accepted moves over the steps taken, per chain (ones for
        kernels that take every move; NaN before the first step)."""
        if not self._counted:
            return np.full(self._x.shape[0], 1.0 if self._steps else np.nan)
        return self._accepted / self._steps if self._steps else np.full(self._x.shape[0], np.nan)

    @property
    def carried(self):
        """ndarray, shape (n, width), float32, or None: what the kernel carries from step to step
        besides the states — kinetic Langevin's momenta ``(n, dim)`` (zeros before the first
        step); ``None`` for kernels whose chains are their states alone."""
        return None if self._carried is None else self._carried.copy()

    @property
    def n_divergent(self):
        """ndarray, shape (n,), int64: divergent trajectories per chain (HMC, NUTS)."""
        return self._divergent.astype(np.int64)

    def __getstate__(self):
        # The native handle is a cache: a copy (pickle, copy.deepcopy, a Dask task) makes its own.
        return {"energy": self.energy, "sampler": self.sampler, "seed": self.seed, "chain_offset": self.chain_offset,
                "x": self.x, "n_steps_taken": self._steps, "accepted": self._accepted, "divergent": self._divergent,
                "carried": self._carried}

    def __setstate__(self, state):
        self.__init__(state["energy"], state["x"], state["sampler"], seed=state["seed"],
                      chain_offset=state["chain_offset"])
        n, steps = len(self), state["n_steps_taken"]
        if type(steps) is not int or not 0 <= steps < MAX_STEPS:
            raise ValueError(f"n_steps_taken must be an int in [0, 2**32 - 1); got {steps!r}")
        counts = [np.array(state[k], dtype=np.float64) for k in ("accepted", "divergent")]
        carried = None if state["carried"] is None else np.array(state["carried"], dtype=np.float32)
        if any(c.shape != (n,) for c in counts) or (carried is None) != (self._carried is None) or \
                (carried is not None and carried.shape != self._carried.shape):
            raise ValueError("the pickled chains' counts or carried values do not match their states")
        self._steps, (self._accepted, self._divergent), self._carried = steps, counts, carried

    def __len__(self):
        return self._x.shape[0]

    def __repr__(self):
        return f"Chains({len(self)} chains, {self.sampler!r}, {self._steps} steps taken)"
