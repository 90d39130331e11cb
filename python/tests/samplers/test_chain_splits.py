"""A run split into ``chain_offset`` pieces at multiples of the chain alignment gives the rows of
the whole run bit for bit, also for energies whose evaluation goes through BLAS products (networks,
a Gaussian): those products round a row depending on where the product starts and how many rows it
has (OpenBLAS's Haswell kernels, measured on Zen 3), so this holds only because the core's chain
blocks have a fixed size that divides the alignment."""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import distributed

ALIGN = distributed.CHUNK_ALIGNMENT


def narrow_mlp():
    return ebm_swift.MLPEnergy(2, (32, 32), seed=0)  # blocks of 128 rows, untransposed products


def wide_mlp():
    return ebm_swift.MLPEnergy(16, (256, 256), seed=1)  # the standard 64-row blocks, packed products


def gaussian():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(12, 12))
    return ebm_swift.GaussianEnergy(np.zeros(12), a @ a.T / 12 + np.eye(12))  # one sgemm per block


SAMPLERS = {
    "langevin": {},
    "mala": {"adapt_step_size": True, "n_warmup": 4},
    "hmc": {"n_leapfrog": 3},
    "nuts": {"max_tree_depth": 4},
    "kinetic_langevin": {"metropolis": True},
}


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("make_energy", [narrow_mlp, wide_mlp, gaussian])
def test_pieces_at_the_alignment_are_the_rows_of_the_whole_run(sampler, make_energy):
    energy = make_energy()
    n = 16 * ALIGN + 59  # many blocks (blocks that grew with the run broke this); the last piece is short
    x0 = np.random.default_rng(2).uniform(-1, 1, (n, energy.dim))
    run = getattr(ebm_swift, sampler)
    kwargs = SAMPLERS[sampler]
    whole = run(energy, x0, 8, 0.01, seed=3, **kwargs)
    whole = whole[0] if isinstance(whole, tuple) else whole
    cuts = [0, ALIGN, 11 * ALIGN, n]
    pieces = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        part = run(energy, x0[a:b], 8, 0.01, seed=3, chain_offset=a, **kwargs)
        pieces.append(part[0] if isinstance(part, tuple) else part)
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    assert not np.array_equal(whole, x0)
