"""ebm_swift beyond one machine: chains, AIS, training sweeps and the training of one model
(:func:`fit`) on a Dask cluster (or Ray), seed-exact with the local run.

Every chain's random numbers depend only on ``(seed, global chain index, step)``, and every
sampler takes a ``chain_offset``: the chains ``[k, k + n)`` of a run, computed on their own with
``chain_offset=k``, are exactly rows ``[k, k + n)`` of the whole run. So a run split into chunks
over any number of workers returns the very numbers of :func:`ebm_swift.langevin`,
:func:`ebm_swift.mala`, :func:`ebm_swift.hmc` and :func:`ebm_swift.ais_log_z` on one machine —
for any chunk size, any number of workers, and when a lost worker's chunk is recomputed.

``client`` is a ``dask.distributed.Client`` (``None``: the default client), or the ``ray`` module
after ``ray.init()``. Neither library is imported until a function here is called; install with
``pip install ebm_swift[dask]`` (or ``ray``).
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np

from .. import _native
from .._validation import as_samples, flag, positive_float, positive_int, resolve_seed
from ..energies import Energy
from ._backends import _backend
from .training import fit

__all__ = ["sample", "ais_log_z", "sweep", "fit"]

DEFAULT_CHUNK_SIZE = 10_000


# Chunk boundaries fall on multiples of this many chains. A row's value depends on the shape of the
# BLAS products it takes part in (OpenBLAS computes the rows of a product in groups — 12 rows with
# its Haswell kernels — and an incomplete group with other kernels, equal to a few ulps, not bit for
# bit). The core samples in chain blocks whose size is fixed by the energy and divides this number,
# so a chunk that starts at a multiple of it gives each of its chains the same blocks, hence the same
# products, as the local run.
CHUNK_ALIGNMENT = _native.runtime_info()["chain_alignment"]


def _chunks(n, chunk_size):
    """``(first chain, count)`` of each chunk: ``chunk_size`` rounded up to a multiple of ``CHUNK_ALIGNMENT``."""
    chunk_size = positive_int(chunk_size, "chunk_size")
    chunk_size = -(-chunk_size // CHUNK_ALIGNMENT) * CHUNK_ALIGNMENT
    return [(k, min(chunk_size, n - k)) for k in range(0, n, chunk_size)]


# ---- tasks (module-level, so that workers import them by name) -------------------------------


def _sample_chunk(energy, sampler, x, n_steps, step_size, seed, offset, kwargs):
    from .. import samplers

    return getattr(samplers, sampler)(energy, x, n_steps, step_size, seed=seed, chain_offset=offset, **kwargs)


def _class_chunk(energy, label, x, n_steps, step_size, seed, offset, kwargs):
    from .. import samplers

    return samplers.langevin(energy.class_energy(label), x, n_steps, step_size, seed=seed, chain_offset=offset,
                             **kwargs)


def _ais_chunk(energy, n_chains, seed, offset, kwargs):
    from .. import sampling

    return sampling.ais_log_z(energy, n_chains=n_chains, seed=seed, chain_offset=offset, return_info=True, **kwargs)


def _train(make_trainer, params, X, steps, batch_size):
    trainer = make_trainer(**params)
    rng = np.random.default_rng([trainer.seed, 0x5EE9])
    for _ in range(steps):
        trainer.step(X[rng.integers(0, len(X), batch_size)])
    return {"params": params, "history": trainer.history, "trainer": trainer}


# ---- public functions ------------------------------------------------------------------------


def sample(energy, x0, n_steps, step_size, *, sampler="langevin", client=None, chunk_size=DEFAULT_CHUNK_SIZE,
           seed=None, **kwargs):
    """Sample chains on a cluster: the same result as the local sampler, bit for bit.

    The chains are cut into chunks of ``chunk_size`` rows; each chunk runs as one task with
    ``chain_offset`` set to its first row, the energy shipped once to every worker, and the
    results are written into place as they arrive (a worker holds one chunk at a time).

    Parameters
    ----------
    energy : Energy
        Any picklable ebm_swift energy (every built-in one; a :class:`CallableEnergy` whose
        functions cloudpickle can ship).
    x0 : array_like, shape (n, dim) or (n, *energy.input_shape)
        Initial states; never modified.
    n_steps, step_size
        As in the local sampler.
    sampler : str, default "langevin"
        The name of a registered kernel (``"langevin"``, ``"mala"``, ``"hmc"``, ``"barker"``, …):
        its sampling function (``ebm_swift.<name>``) runs on each chunk.
    client : dask.distributed.Client, the ray module, or None
        ``None`` uses the default Dask client.
    chunk_size : int
        Chains per task, rounded up to a multiple of ``CHUNK_ALIGNMENT`` (128): large enough
        to keep each worker's cores busy (thousands of chains), small enough for memory and to
        spread over the workers.
    seed : None, int or numpy.random.Generator
        Resolved once, here: an int gives the same numbers as the local call with that seed.
    **kwargs
        The sampler's other arguments (``noise_scale``, ``n_leapfrog``, ``adapt_step_size``,
        ``return_trajectory``, ``thin``, …). Not ``diagnostics`` (per-step means over all chains
        would not add up bit for bit) nor ``progress`` (use your cluster's).

    Returns
    -------
    What the local sampler returns: ``samples`` of shape of ``x0`` (and ``info`` with its
    per-chain arrays — and a trajectory — gathered in chain order).
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    from ..samplers import REGISTRY

    if not isinstance(sampler, str) or sampler not in REGISTRY:
        raise ValueError(f"sampler must be one of {list(REGISTRY)}; got {sampler!r}")
    for name in ("chain_offset", "diagnostics", "progress"):
        if name in kwargs:
            raise TypeError(f"distributed.sample sets {name} itself; got {name}={kwargs[name]!r}")
    from .. import samplers

    seed = resolve_seed(seed)
    x, shape = as_samples(x0, energy.input_shape, "x0")
    if kwargs.get("y") is not None:
        return _sample_by_class(energy, sampler, x, shape, n_steps, step_size, seed, client, chunk_size, kwargs)
    # Bad arguments fail here, on the client, before any task is sent.
    inspect.signature(getattr(samplers, sampler)).bind(energy, x, n_steps, step_size, seed=seed, **kwargs)
    _check_locally(sampler, energy, n_steps, step_size, seed, kwargs)
    backend = _backend(client)
    chunks = _chunks(len(x), chunk_size)
    shipped = backend.broadcast(energy)
    futures = [backend.submit(_sample_chunk, shipped, sampler, x[k:k + m], n_steps, step_size, seed, k, kwargs)
               for k, m in chunks]
    samples, info = None, None
    for i, result in backend.completed(futures):
        k, m = chunks[i]
        part, part_info = result if isinstance(result, tuple) else (result, None)
        if samples is None:
            samples = np.empty((len(x), *part.shape[1:]), dtype=part.dtype)
            if part_info is not None:
                info = {key: np.empty(_gathered_shape(key, value, len(x)), dtype=value.dtype)
                        for key, value in part_info.items()}
        samples[k:k + m] = part
        for key, value in (part_info or {}).items():
            if key == "trajectory":
                info[key][:, k:k + m] = value
            else:
                info[key][k:k + m] = value
    samples = samples.reshape(shape)
    return samples if info is None else (samples, info)


def _sample_by_class(energy, sampler, x, shape, n_steps, step_size, seed, client, chunk_size, kwargs):
    """`sample` with labels ``y``: as the local ``langevin(..., y=y)``, each class's chains (in row
    order) run on its class-conditional energy with chain offsets counted over the chains sorted
    by class; each class is cut into aligned chunks of its own, so every chain keeps its noise."""
    from .. import samplers

    kwargs = dict(kwargs)
    y = kwargs.pop("y")
    return_info = flag(kwargs.pop("return_info", False), "return_info")
    if sampler != "langevin":
        raise ValueError(f"y (class-conditional sampling) is taken by sampler='langevin'; got sampler={sampler!r}")
    if getattr(energy, "n_classes", None) is None:
        raise ValueError("y needs a classifier energy (NetworkEnergy with n_classes); this energy has no classes")
    if kwargs.get("thin") is not None or flag(kwargs.get("return_trajectory", False), "return_trajectory"):
        raise ValueError("y (class-conditional sampling) is not combined with thin or return_trajectory")
    labels = energy.labels(y, len(x), "y")
    inspect.signature(samplers.langevin).bind(energy, x, n_steps, step_size, seed=seed, **kwargs)
    _check_locally(sampler, energy, n_steps, step_size, seed, kwargs)
    backend = _backend(client)
    order = np.argsort(labels, kind="stable")
    tasks, start = [], 0  # (rows, label, chain offset)
    for label in np.unique(labels):
        rows = order[labels[order] == label]
        tasks += [(rows[j:j + m], int(label), start + j) for j, m in _chunks(len(rows), chunk_size)]
        start += len(rows)
    shipped = backend.broadcast(energy)
    futures = [backend.submit(_class_chunk, shipped, label, x[rows], n_steps, step_size, seed, offset, kwargs)
               for rows, label, offset in tasks]
    out = np.empty_like(x)
    for i, part in backend.completed(futures):
        out[tasks[i][0]] = part
    out = out.reshape(shape)
    return (out, {}) if return_info else out


def _gathered_shape(key, value, n):
    return (value.shape[0], n, *value.shape[2:]) if key == "trajectory" else (n, *value.shape[1:])


def _check_locally(sampler, energy, n_steps, step_size, seed, kwargs):
    """The sampler's own argument checks, on the client, before any task is sent."""
    from ..samplers import from_name
    from ..samplers._record import adaptation_record, check_chain_offset, check_steps

    record = from_name(sampler, step_size, **kwargs)
    record.settings(energy.input_shape)
    adaptation_record(record, check_steps(n_steps), **{k: kwargs.get(k, d) for k, d in (
        ("adapt_step_size", False), ("adapt_mass", False), ("n_warmup", None), ("target_accept", None))})
    check_chain_offset(kwargs.get("chain_offset", 0))
    for name in ("return_trajectory", "return_info"):
        if name in kwargs:
            flag(kwargs[name], name)


def ais_log_z(energy, *, client=None, chunk_size=DEFAULT_CHUNK_SIZE, n_chains=1000, seed=None, return_info=False,
              **kwargs):
    """Annealed importance sampling on a cluster: the local estimate, bit for bit.

    The chains are cut into chunks of ``chunk_size``; each chunk computes its chains' log
    weights (with ``chain_offset`` set to its first chain); the gathered weights are combined by
    the very summary the local estimator uses.

    Parameters
    ----------
    energy : Energy
    client, chunk_size
        As in :func:`sample`.
    n_chains : int
    seed : None, int or numpy.random.Generator
        Resolved once, here.
    return_info : bool
        Also return ``log_weights``, ``acceptance_rate`` and ``n_divergent`` of every chain.
    **kwargs
        :func:`ebm_swift.ais_log_z`'s other arguments (``n_temps``, ``transition``, ``base_std``, …).

    Returns
    -------
    log_z, std_err : float
    """
    if not isinstance(energy, Energy):
        raise TypeError(f"energy must be an ebm_swift Energy; got {type(energy).__name__}")
    for name in ("chain_offset", "progress", "dim"):
        if name in kwargs:
            raise TypeError(f"distributed.ais_log_z does not take {name}")
    from .. import sampling

    n_chains = positive_int(n_chains, "n_chains")
    seed = resolve_seed(seed)
    inspect.signature(sampling.ais_log_z).bind(energy, n_chains=n_chains, seed=seed, **kwargs)
    base_std = positive_float(kwargs.get("base_std", 1.0), "base_std")
    backend = _backend(client)
    chunks = _chunks(n_chains, chunk_size)
    shipped = backend.broadcast(energy)
    futures = [backend.submit(_ais_chunk, shipped, m, seed, k, kwargs) for k, m in chunks]
    return_info = flag(return_info, "return_info")
    info = {"log_weights": np.empty(n_chains), "acceptance_rate": np.empty(n_chains),
            "n_divergent": np.empty(n_chains, dtype=np.int64)}
    for i, (_, _, part) in backend.completed(futures):
        k, m = chunks[i]
        for key in info:
            info[key][k:k + m] = part[key]
    log_z, std_err = _native.ais_summarise(info["log_weights"], energy.dim, base_std)
    if n_chains == 1:
        std_err = float("nan")  # as sampling.ais_log_z: one weight says nothing of their spread
    return (log_z, std_err, info) if return_info else (log_z, std_err)


def _grid(params_grid):
    """A list of parameter dicts: given as such, or a dict of lists (their product, in order)."""
    if isinstance(params_grid, dict):
        keys = list(params_grid)
        for key in keys:
            if isinstance(params_grid[key], (str, bytes)) or not hasattr(params_grid[key], "__iter__"):
                raise TypeError(f"params_grid[{key!r}] must be a list of values; got {params_grid[key]!r}")
        return [dict(zip(keys, values)) for values in itertools.product(*(list(params_grid[k]) for k in keys))]
    grid = list(params_grid)
    if not grid or not all(isinstance(p, dict) for p in grid):
        raise TypeError("params_grid must be a dict of lists or a non-empty list of dicts")
    return grid


def sweep(make_trainer, params_grid, X, *, client=None, steps, batch_size=128, progress=False):
    """Independent trainings on a cluster, one task each (a hyper-parameter or seed sweep).

    Each task builds ``trainer = make_trainer(**params)`` and takes ``steps`` training steps on
    batches of ``batch_size`` rows drawn from ``X`` by a generator seeded with the trainer's seed —
    the same numbers as running that loop locally. ``X`` is shipped once to every worker.

    Parameters
    ----------
    make_trainer : callable
        ``params → Trainer`` (cloudpickle ships lambdas and closures).
    params_grid : dict of lists, or list of dicts
        A dict of lists is expanded to every combination (in order).
    X : array_like, shape (n, dim)
    client : dask.distributed.Client, the ray module, or None
    steps : int
    batch_size : int
    progress : bool
        Dask's progress bar (console or notebook).

    Returns
    -------
    list of dict
        In grid order: ``params``, ``history`` (the trainer's) and ``trainer`` (trained; picklable,
        :func:`ebm_swift.save`-able).
    """
    if not callable(make_trainer):
        raise TypeError(f"make_trainer must be callable; got {type(make_trainer).__name__}")
    grid = _grid(params_grid)
    steps = positive_int(steps, "steps")
    batch_size = positive_int(batch_size, "batch_size")
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty batch of samples (n, …); got shape {X.shape}")
    backend = _backend(client)
    shipped = backend.broadcast(X)
    futures = [backend.submit(_train, make_trainer, params, shipped, steps, batch_size) for params in grid]
    if flag(progress, "progress"):
        backend.progress(futures)
    results = [None] * len(grid)
    for i, result in backend.completed(futures):
        results[i] = result
    return results
