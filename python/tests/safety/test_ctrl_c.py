"""Ctrl-C inside the long native loops issue 23 found deaf to it: a batch evaluation of tens of
thousands of images (one native call each for energies, input gradients, parameter gradients
and jets), one HMC trajectory of millions of leapfrog steps, in `hmc`, as trainer negatives and
as AIS transitions. The call must raise KeyboardInterrupt within `LATENCY` seconds of the signal.

The bound is a hang guard, not a speed claim: the core polls every ~50 ms of work (the batch
evaluations between chunks of at most 256 rows, fewer for a costly network — 28 rows of the wide
network below, 10–50 ms of work on this machine; a spectral norm between its power iterations),
and each call here would otherwise run for tens of seconds to minutes, answering only at its
end."""

import numpy as np
import pytest

import ebm_swift
from interrupts import assert_ctrl_c_interrupts

nn = ebm_swift.nn
LATENCY = 10.0  # seconds after the signal; each call below runs for minutes without the polls


@pytest.fixture(scope="module")
def wide_cnn():
    net = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.SiLU(), nn.Conv2d(64, 64, 3, padding=1), nn.SiLU(),
                        nn.Flatten(), nn.Linear(64 * 16 * 16, 1))
    return ebm_swift.NetworkEnergy(net, (1, 16, 16), seed=0)


@pytest.mark.parametrize("method", ["energy", "grad_x", "grad_params", "directional_derivatives"])
def test_a_batch_evaluation_stops_on_ctrl_c(wide_cnn, method):
    # 200 000 images: about 80 s (energy) to 4 minutes (parameter gradients) in one native call.
    x = np.zeros((200_000, 1, 16, 16), np.float32)
    if method == "directional_derivatives":  # second-order jets along x itself
        assert_ctrl_c_interrupts(lambda: wide_cnn.directional_derivatives(x, x), within=LATENCY)
    else:
        assert_ctrl_c_interrupts(lambda: getattr(wide_cnn, method)(x), within=LATENCY)
    assert np.isfinite(wide_cnn.energy(x[:2])).all()  # the energy still works


def test_a_spectral_norms_power_iterations_stop_on_ctrl_c():
    # 1000 power iterations of an 8192 × 8192 weight: about 3 s of initialisation, then 20 s of
    # iterations in the one native call that builds the network.
    net = nn.Sequential(nn.SpectralNorm(nn.Linear(8192, 8192), n_power_iterations=1000), nn.Linear(8192, 1))
    assert_ctrl_c_interrupts(lambda: ebm_swift.NetworkEnergy(net, (8192,), seed=0), within=LATENCY)


def test_an_interrupted_training_step_leaves_the_spectral_norm_as_it_was():
    # 1000 power iterations of a 1536 × 1536 weight open every step (0.2–0.4 s): a Ctrl-C
    # during them (or the negatives after) restores the buffers, and the run goes on to the bits of
    # an uninterrupted one.
    def trainer():
        net = nn.Sequential(nn.SpectralNorm(nn.Linear(4, 1536), n_power_iterations=1000), nn.SiLU(),
                            nn.SpectralNorm(nn.Linear(1536, 1536), n_power_iterations=1000), nn.SiLU(),
                            nn.Linear(1536, 1))
        model = ebm_swift.NetworkEnergy(net, (4,), seed=0)
        return model, ebm_swift.Trainer(model, n_steps=5, buffer_size=64, seed=0)

    x = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32)
    model, interrupted = trainer()
    before = model.state_dict()
    assert_ctrl_c_interrupts(lambda: interrupted.step(x), after=0.1, within=LATENCY)
    assert interrupted.n_iter == 0
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    interrupted.step(x)
    reference_model, reference = trainer()
    reference.step(x)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, reference_model.state_dict()[name], err_msg=name)
    np.testing.assert_array_equal(interrupted.buffer, reference.buffer)


@pytest.mark.parametrize("run", [
    lambda m: ebm_swift.hmc(m, np.zeros((64, 2)), 1, 1e-4, n_leapfrog=2**31 - 1, seed=0),
    lambda m: ebm_swift.Trainer(m, sampler="hmc", n_leapfrog=2**31 - 1, step_size=1e-4, n_steps=1,
                                buffer_size=64, seed=0).step(np.zeros((64, 2), np.float32)),
    lambda m: ebm_swift.ais_log_z(m, n_chains=64, n_temps=1, transition="hmc", n_leapfrog=2**31 - 1,
                                  step_size=1e-4, seed=0),
    lambda m: ebm_swift.Chains(m, np.zeros((64, 2)), ebm_swift.samplers.HMC(1e-4, n_leapfrog=2**31 - 1),
                               seed=0).run(1),
], ids=["hmc", "trainer-hmc", "ais-hmc", "chains-hmc"])
def test_one_endless_trajectory_stops_on_ctrl_c(run):
    model = ebm_swift.MLPEnergy(2, (64, 64), seed=0)
    assert_ctrl_c_interrupts(lambda: run(model), within=LATENCY)
