"""Replica exchange (issue 20): the mode weights of a two-mode mixture 8σ apart within Monte Carlo
error where MALA and HMC alone stay in the mode they start in; the T = 1 replica exact on the
correlated Gaussian; swap rates equalised by the ladder's adaptation; round trips; Ctrl-C; clear
errors."""

import math

import numpy as np
import pytest

import ebm_swift
from distributions import check_gaussian
from interrupts import assert_ctrl_c_interrupts
from test_hmc import correlated_gaussian

# Modes at ±4 with unit variance (8σ apart), weights 0.2 and 0.8: the barrier at 0 is e^8 high.
WEIGHTS = np.array([0.2, 0.8])


def two_modes(d=2):
    means = np.zeros((2, d))
    means[:, 0] = [-4.0, 4.0]
    return ebm_swift.GaussianMixtureEnergy(means, [np.eye(d)] * 2, WEIGHTS)


def test_recovers_mode_weights_where_mala_and_hmc_stay_stuck():
    """2000 independent chains, all started in the small mode: after 2000 steps the share right of
    0 is 0.8 within 5 SE (√(0.16/2000) ≈ 0.009) for replica exchange; MALA and HMC alone, with as
    many gradients, are still more than 10 SE away (measured: 0.33 and 0.67), crossing the
    barrier a few chains at a time."""
    n, steps = 2000, 2000
    x0 = np.tile([-4.0, 0.0], (n, 1))
    target = two_modes()
    x, info = ebm_swift.replica_exchange(target, x0, steps, 0.8, n_replicas=8, max_temperature=40.0,
                                         adapt_step_size=True, n_warmup=500, seed=1)
    right = float(np.mean(x[:, 0] > 0))
    print(f"\nreplica exchange: weight of the +4 mode {right:.3f} (exact 0.8); swap rates "
          f"{np.round(info['swap_rate'].mean(0), 2)}; round trips per step {info['round_trip_rate'].mean():.4f}")
    assert abs(right - 0.8) < 5 * math.sqrt(0.16 / n)
    assert info["swap_rate"].shape == (n, 7) and info["temperatures"].shape == (n, 8)
    assert np.all(info["round_trip_rate"] > 0)
    for name, run in [("mala", lambda: ebm_swift.mala(target, x0, 8 * steps, 0.8, seed=2)),
                      ("hmc", lambda: ebm_swift.hmc(target, x0, 2 * steps, 0.5, n_leapfrog=4, seed=3))]:
        stuck, _ = run()
        share = float(np.mean(stuck[:, 0] > 0))
        print(f"{name} alone (as many gradients): weight of the +4 mode {share:.3f}")
        assert abs(share - 0.8) > 10 * math.sqrt(0.16 / n)


def test_cold_replica_is_exact_on_the_correlated_gaussian():
    target, mean, cov = correlated_gaussian()
    n = 4000
    x, info = ebm_swift.replica_exchange(target, np.tile(mean, (n, 1)), 150, 0.12, n_replicas=4,
                                         max_temperature=4.0, seed=4)
    check_gaussian(x, mean, cov, ks_factor=2.2)
    assert np.all(info["temperatures"] == info["temperatures"][0])


def test_adaptation_equalises_the_swap_rates():
    """On a Gaussian, the swap rate of a pair depends on T_{k+1}/T_k alone, so the geometric
    ladder equalises the rates. A linear ladder does not (its low pairs are far apart, its high
    ones close); warm-up re-spaces each chain's ladder so that the spread of its rates shrinks to
    under half, with the end points kept."""
    target = ebm_swift.GaussianEnergy(np.zeros(20), np.eye(20))
    n = 64
    kwargs = dict(temperatures=np.linspace(1.0, 30.0, 8), seed=5)
    x0 = np.zeros((n, 20))
    _, fixed = ebm_swift.replica_exchange(target, x0, 3000, 0.5, adapt_temperatures=False, adapt_step_size=True,
                                          n_warmup=1500, **kwargs)
    _, adapted = ebm_swift.replica_exchange(target, x0, 3000, 0.5, adapt_step_size=True, n_warmup=1500, **kwargs)
    spread = lambda info: float(np.mean(info["swap_rate"].max(1) - info["swap_rate"].min(1)))
    print(f"\nswap-rate spread per chain: linear ladder {spread(fixed):.3f}, adapted {spread(adapted):.3f}; "
          f"rates {np.round(fixed['swap_rate'].mean(0), 2)} → {np.round(adapted['swap_rate'].mean(0), 2)}")
    assert spread(adapted) < 0.5 * spread(fixed)
    t = adapted["temperatures"]
    assert np.all(t[:, 0] == 1) and np.all(np.diff(t, axis=1) > 0) and np.allclose(t[:, -1], 30.0)


@pytest.mark.parametrize("kernel", ["hmc", "nuts", "barker", "kinetic_langevin", "langevin"])
def test_any_inner_kernel(kernel):
    from ebm_swift.samplers import from_name

    record = from_name(kernel, 0.3, n_leapfrog=3)
    x, info = ebm_swift.replica_exchange(two_modes(), np.tile([-4.0, 0.0], (200, 1)), 300, 0.3, kernel=record,
                                         n_replicas=6, max_temperature=40.0, seed=6)
    assert np.all(np.isfinite(x)) and np.mean(x[:, 0] > 0) > 0.3


def test_ctrl_c_interrupts_replica_exchange():
    energy = ebm_swift.MLPEnergy(64, (512, 512), seed=0)
    assert_ctrl_c_interrupts(lambda: ebm_swift.replica_exchange(energy, np.zeros((64, 64)), 10**8, 1e-3,
                                                                n_replicas=16, seed=0))


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_replicas=1), "n_replicas"),
    (dict(n_replicas=0), "n_replicas"),
    (dict(temperatures=[1.0]), "temperatures"),
    (dict(temperatures=[1.0, 0.5]), "temperatures"),
    (dict(temperatures=[2.0, 4.0]), "temperatures"),
    (dict(temperatures=[1.0, 2.0, 2.0]), "temperatures"),
    (dict(temperatures=[1.0, -2.0]), "temperatures"),
    (dict(temperatures=[1.0, float("inf")]), "temperatures"),
    (dict(max_temperature=1.0), "max_temperature"),
    (dict(kernel="gibbs"), "kernel"),
    (dict(kernel="replica_exchange"), "kernel"),
    (dict(step_size=0.0), "step_size"),
])
def test_replica_exchange_arguments(kwargs, match):
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    kwargs = {"step_size": 0.1, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        ebm_swift.replica_exchange(target, np.zeros((3, 1)), 5, **kwargs)


def test_replica_exchange_is_refused_where_chains_keep_only_x():
    target = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    with pytest.raises(ValueError, match="transition"):
        ebm_swift.ais_log_z(target, transition="replica_exchange")
    with pytest.raises(ValueError, match="sampler"):
        ebm_swift.Trainer(ebm_swift.MLPEnergy(1, (4,), seed=0), sampler="replica_exchange")
