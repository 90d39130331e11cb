"""Trace and rank plots of trajectories (issue 20): the rank counts against a NumPy reference and
their behaviour on chains that agree and on one stuck apart; the plots draw one artist per chain."""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import plots


def test_rank_histograms_match_a_direct_count():
    t = np.random.default_rng(0).normal(size=(50, 4, 3))
    counts = plots.rank_histograms(t, coordinate=2, bins=5)
    pooled = np.sort(t[:, :, 2].ravel())
    ranks = np.searchsorted(pooled, t[:, :, 2])  # distinct values: rank = position in the sorted pool
    expected = np.stack([np.histogram(ranks[:, c], bins=5, range=(0, 200))[0] for c in range(4)])
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == 200


def test_rank_counts_are_flat_for_mixed_chains_and_piled_for_a_stuck_one():
    """MALA on N(0, 1) from spread starts: every chain's counts within a few SE of uniform; one
    chain moved to +5 (as a chain stuck in another mode) has nearly all its draws in the top bin."""
    g = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    _, info = ebm_swift.mala(g, np.linspace(-2, 2, 4)[:, None], 4000, 1.0, seed=1, return_trajectory=True)
    t = info["trajectory"][500:].astype(np.float64)
    counts = plots.rank_histograms(t, bins=4)
    assert np.all(np.abs(counts / counts.sum(1, keepdims=True) - 0.25) < 0.08), counts
    t[:, 0] += 5
    stuck = plots.rank_histograms(t, bins=4)
    assert stuck[0, -1] > 0.95 * len(t)


def test_trace_and_rank_plots_draw():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, info = ebm_swift.nuts(ebm_swift.BananaEnergy(2), np.zeros((6, 2)), 100, 0.2, seed=2, return_trajectory=True)
    fig, axes = plt.subplots(1, 2)
    assert len(plots.plot_trace(info["trajectory"], 1, ax=axes[0]).lines) == 6
    assert len(plots.plot_rank(info["trajectory"], 0, bins=10, chains=3, ax=axes[1]).patches) == 3 * 10
    plt.close(fig)
    with pytest.raises(ValueError, match="coordinate"):
        plots.plot_trace(info["trajectory"], 2)
    with pytest.raises(ValueError, match="trajectory"):
        plots.plot_rank(np.zeros(5))
