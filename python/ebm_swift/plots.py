"""Plots (matplotlib, an optional dependency: ``pip install ebm_swift[plot]``)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_energy_2d", "plot_samples", "plot_history", "plot_image_grid", "plot_energy_histogram", "plot_trace",
           "plot_rank", "rank_histograms"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def _axes(ax):
    return ax if ax is not None else _pyplot().subplots(figsize=(5, 5))[1]


def plot_energy_2d(energy, bounds=(-4.0, 4.0), grid=200, *, density=False, ax=None):
    """Filled contours of ``E`` (or of ``exp(−E)`` with ``density=True``) over a 2-D box."""
    ax = _axes(ax)
    xs = np.linspace(bounds[0], bounds[1], grid)
    gx, gy = np.meshgrid(xs, xs)
    e = energy.energy(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape).astype(np.float64)
    values = np.exp(-(e - e.min())) if density else e
    im = ax.contourf(gx, gy, values, levels=40, cmap="viridis")
    ax.figure.colorbar(im, ax=ax, label="exp(−E) (unnormalised)" if density else "E(x)")
    ax.set_aspect("equal")
    ax.set_title("density" if density else "energy")
    return ax


def plot_samples(data, samples, *, ax=None, size=2):
    """Data and model samples overlaid in 2-D."""
    ax = _axes(ax)
    data, samples = np.asarray(data), np.asarray(samples)
    ax.scatter(data[:, 0], data[:, 1], s=size, alpha=0.4, label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=size, alpha=0.4, label="samples")
    ax.legend(markerscale=4)
    ax.set_aspect("equal")
    return ax


def plot_history(history, *, ax=None):
    """Loss and the two mean energies per training step."""
    ax = _axes(ax)
    for key in ("loss", "e_data", "e_model"):
        ax.plot(np.asarray(history[key]), label=key, lw=0.8)
    ax.set_xlabel("step")
    ax.legend()
    return ax


def plot_image_grid(images, shape=None, *, columns=10, ax=None, value_range=(-1.0, 1.0)):
    """Grey-scale images tiled into one grid (samples, a trainer's buffer, data).

    Parameters
    ----------
    images : array_like, shape (n, 1, h, w), (n, h, w) or (n, h·w)
        One channel; flat rows need ``shape``.
    shape : (int, int), optional
        ``(h, w)`` of one image; by default the last two axes of an image batch, or ``(8, 8)``
        for flat rows of 64.
    columns : int
        Images per row of the grid.
    value_range : (float, float)
        The pixel values shown as black and white.

    Returns
    -------
    matplotlib.axes.Axes
    """
    images = np.asarray(images)
    if shape is None:
        if images.ndim == 4 and images.shape[1] == 1 or images.ndim == 3:
            shape = images.shape[-2:]
        elif images.ndim == 2 and images.shape[1] == 64:
            shape = (8, 8)
        else:
            raise ValueError(f"images must be (n, 1, h, w), (n, h, w), or flat with shape=(h, w); got {images.shape}")
    images = images.reshape(-1, *shape)
    ax = _axes(ax)
    rows = -(-len(images) // columns)
    canvas = np.full((rows * (shape[0] + 1), columns * (shape[1] + 1)), value_range[0], dtype=np.float64)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (shape[0] + 1) : r * (shape[0] + 1) + shape[0], c * (shape[1] + 1) : c * (shape[1] + 1) + shape[1]] = img
    ax.imshow(canvas, cmap="gray", vmin=value_range[0], vmax=value_range[1])
    ax.axis("off")
    return ax


def plot_energy_histogram(energy, *, ax=None, bins=50, **sets):
    """Histograms of ``E(x)`` over named sets of samples, on common bins.

    Parameters
    ----------
    energy : Energy
    **sets : array_like, shape (n, dim) or (n, *input_shape)
        E.g. ``data=X_test, samples=trainer.buffer, noise=U``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not sets:
        raise ValueError("plot_energy_histogram needs at least one named set, e.g. data=X")
    ax = _axes(ax)
    values = {name: np.asarray(energy.energy(x), dtype=np.float64) for name, x in sets.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    for name, e in values.items():
        ax.hist(e, bins=edges, alpha=0.5, label=f"{name} (mean {e.mean():.2f})")
    ax.set_xlabel("E(x)")
    ax.legend()
    return ax


def _trajectory(trajectory):
    """``trajectory`` as ``(steps, chains, dim)`` float64 (from ``info["trajectory"]``)."""
    t = np.asarray(trajectory, dtype=np.float64)
    if t.ndim < 2 or t.shape[0] < 2 or 0 in t.shape:
        raise ValueError(f"trajectory must be (steps ≥ 2, chains, …) as info['trajectory'] holds; got shape {t.shape}")
    return t.reshape(t.shape[0], t.shape[1], -1)


def _coordinate(t, coordinate):
    if isinstance(coordinate, bool) or not isinstance(coordinate, (int, np.integer)) or \
            not 0 <= coordinate < t.shape[2]:
        raise ValueError(f"coordinate must be an int in [0, {t.shape[2]}) (of the flattened sample); got {coordinate!r}")
    return t[:, :, int(coordinate)]


def plot_trace(trajectory, coordinate=0, *, chains=None, ax=None):
    """Trace plot: one coordinate of each chain against the step — chains that overlap and
    wander alike have mixed; a chain stuck apart or drifting has not.

    Parameters
    ----------
    trajectory : array_like, shape (steps, chains, dim) or (steps, chains, *input_shape)
        ``info["trajectory"]`` of a sampling call (``return_trajectory=True``).
    coordinate : int, default 0
        Index into the flattened sample.
    chains : int, optional
        Plot only the first this many chains (default all, at most 20).

    Returns
    -------
    matplotlib.axes.Axes
    """
    values = _coordinate(_trajectory(trajectory), coordinate)
    count = min(values.shape[1], 20) if chains is None else min(values.shape[1], chains)
    ax = ax if ax is not None else _pyplot().subplots(figsize=(8, 3))[1]
    for c in range(count):
        ax.plot(values[:, c], lw=0.6, alpha=0.8)
    ax.set_xlabel("draw")
    ax.set_ylabel(f"x[{coordinate}]")
    ax.set_title(f"trace of {count} chains")
    return ax


def rank_histograms(trajectory, coordinate=0, bins=20):
    """The counts of a rank plot: every draw of one coordinate ranked among all chains' draws,
    then each chain's ranks binned; ``(chains, bins)`` integer counts. Chains that sample the same
    distribution have near-uniform counts (Vehtari et al. 2021)."""
    values = _coordinate(_trajectory(trajectory), coordinate)
    bins = int(bins)
    if bins < 2:
        raise ValueError(f"bins must be at least 2; got {bins}")
    ranks = np.empty(values.size)
    ranks[np.argsort(values, axis=None, kind="stable")] = np.arange(values.size)
    ranks = ranks.reshape(values.shape)
    which = np.minimum((ranks * bins // values.size).astype(np.int64), bins - 1)
    return np.stack([np.bincount(which[:, c], minlength=bins) for c in range(values.shape[1])])


def plot_rank(trajectory, coordinate=0, *, bins=20, chains=None, ax=None):
    """Rank plot: for each chain, the histogram of its draws' ranks among all chains' draws of one
    coordinate. Flat bars near the dashed line (the uniform count) say the chains agree; a chain
    with bars piled at one end sits in another region than the rest.

    Parameters
    ----------
    trajectory : array_like, shape (steps, chains, dim) or (steps, chains, *input_shape)
        ``info["trajectory"]`` of a sampling call.
    coordinate : int, default 0
    bins : int, default 20
    chains : int, optional
        Plot only the first this many chains (default all, at most 8); ranks are over all chains.

    Returns
    -------
    matplotlib.axes.Axes
    """
    counts = rank_histograms(trajectory, coordinate, bins)
    count = min(len(counts), 8) if chains is None else min(len(counts), chains)
    ax = ax if ax is not None else _pyplot().subplots(figsize=(8, 1 + 0.8 * count))[1]
    expected = counts.sum(1)[0] / bins
    scale = 0.8 / max(counts[:count].max(), 1)
    for c in range(count):
        ax.bar(np.arange(bins), counts[c] * scale, bottom=c, width=1.0, alpha=0.7, edgecolor="white")
        ax.axhline(c + expected * scale, color="k", lw=0.6, ls="--")
    ax.set_yticks(np.arange(count) + 0.4, [f"chain {c}" for c in range(count)])
    ax.set_xlabel("rank bin")
    ax.set_title(f"rank plot of x[{coordinate}]")
    return ax
