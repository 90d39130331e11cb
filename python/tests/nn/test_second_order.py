"""Second-order derivatives of trainable energies (directional_derivatives, grad_params_of_score,
grad_params_of_curvature) against the float64 NumPy reference network (reference_nn.py).

The reference differentiates by central differences: along v with h = 1e-4 (⟨∇E, v⟩: error
~1e-8; vᵀ∇²E v: truncation ~1e-8, rounding ~4e-8·|E|), then in each sampled parameter with
h = 1e-4 (second order: rounding ~2e-4·|E|; a larger step straddles ELU's jump in f'' at 0 on
these nets, measured: h = 1e-3 gave −0.083 where 3e-4 and 1e-4 agree with the native −0.0389).
The native code runs in float32 (~1e-5
relative per value): 2e-3 of the largest entry separates rounding from a wrong term. Networks
that are piecewise linear (ReLU, LeakyReLU) have vᵀ∇²E v = 0 wherever it exists (autograd's
convention too), and a difference straddling a kink is no reference: for them the test asserts
the exact zero. ELU is C¹ only (f'' jumps from 1 to 0 at 0): on the residual conv nets, with
hundreds of units a sample, parameter differences of vᵀ∇²E v keep straddling a jump, so its
second-order parameter gradient is checked on an ELU MLP (the same code) instead.
"""

import numpy as np
import pytest

import ebm_swift
from ebm_swift import nn
from reference_nn import energy as reference_energy
from test_nn import NETWORKS, scale_of, spectral_net

CASES = [case for case in NETWORKS if case[0] != "uva_cnn"] + [
    ("spectral", spectral_net, (2, 7, 6)),
    ("mlp_ELU", lambda: nn.Sequential(nn.Linear(3, 6), nn.ELU(), nn.Linear(6, 4), nn.ELU(), nn.Linear(4, 1)), (3,)),
]


def directional(net, state, x, v, order):
    """⟨∇E, v⟩ (order 1) or vᵀ∇²E v (order 2) of each row, by differences of the reference."""
    h = 1e-4
    plus, minus = reference_energy(net, state, x + h * v), reference_energy(net, state, x - h * v)
    if order == 1:
        return (plus - minus) / (2 * h)
    return (plus - 2 * reference_energy(net, state, x) + minus) / h**2


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_second_order_derivatives_match_the_numpy_reference(name, make, shape):
    rng = np.random.default_rng(7)
    energy = ebm_swift.NetworkEnergy(make(), shape, seed=1)
    state = {k: v.astype(np.float64) for k, v in energy.state_dict().items()}
    x = rng.uniform(-1, 1, size=(3, *shape)).astype(np.float32).astype(np.float64)
    v = rng.normal(size=x.shape).astype(np.float32).astype(np.float64)

    first, second = energy.directional_derivatives(x, v)
    assert first.shape == second.shape == (3,) and first.dtype == np.float32
    ref1 = directional(energy.net, state, x, v, 1)
    np.testing.assert_allclose(first, ref1, rtol=0, atol=2e-3 * scale_of(ref1))
    piecewise_linear = name.endswith("ReLU")
    if piecewise_linear:
        np.testing.assert_array_equal(second, 0)
        for g in energy.grad_params_of_curvature(x, v).values():
            np.testing.assert_array_equal(g, 0)
    else:
        ref2 = directional(energy.net, state, x, v, 2)
        np.testing.assert_allclose(second, ref2, rtol=0, atol=2e-3 * scale_of(ref2))

    second_order_parameters = not (piecewise_linear or name == "residual_ELU")
    orders = ((1, energy.grad_params_of_score(x, v)),) + (
        ((2, energy.grad_params_of_curvature(x, v)),) if second_order_parameters else ())
    for order, grads in orders:
        assert list(grads) == list(energy.parameters())
        h = 1e-4
        for pname, g in grads.items():
            value = state[pname]
            for k in rng.choice(value.size, size=min(4, value.size), replace=False):
                delta = np.zeros(value.size)
                delta[k] = h
                plus, minus = dict(state), dict(state)
                plus[pname] = value + delta.reshape(value.shape)
                minus[pname] = value - delta.reshape(value.shape)
                fd = (directional(energy.net, plus, x, v, order).sum()
                      - directional(energy.net, minus, x, v, order).sum()) / (2 * h)
                np.testing.assert_allclose(g.ravel()[k], fd, rtol=0, atol=2e-3 * scale_of(g),
                                           err_msg=f"order {order}: {pname}[{k}]")


def test_a_batch_in_chunks_equals_the_sum_of_its_parts():
    """Batches above the native chunk (256 rows) are split; the gradient is the sum over rows."""
    energy = ebm_swift.MLPEnergy(2, hidden=(16,), seed=0)
    rng = np.random.default_rng(1)
    x, v = rng.normal(size=(2500, 2)), rng.normal(size=(2500, 2))
    whole = energy.grad_params_of_score(x, v)
    parts = [energy.grad_params_of_score(x[s], v[s]) for s in (slice(0, 1000), slice(1000, 2500))]
    for name, g in whole.items():
        np.testing.assert_allclose(g, parts[0][name] + parts[1][name], rtol=1e-4, atol=1e-4 * scale_of(g))
    first, second = energy.directional_derivatives(x, v)
    f0, s0 = energy.directional_derivatives(x[:7], v[:7])
    np.testing.assert_allclose(first[:7], f0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(second[:7], s0, rtol=1e-6, atol=1e-6)


def test_the_score_of_a_quadratic_energy_has_a_closed_form():
    """E(x) = Σ_j w_j x_j + b (one Linear layer): ∇x E = w, ⟨∇E, v⟩ = w·v, vᵀ∇²E v = 0,
    ∇w Σ_i ⟨w, v_i⟩ = Σ_i v_i and ∇b = 0 — exactly, from the definition."""
    energy = ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(3, 1)), (3,), seed=0)
    rng = np.random.default_rng(2)
    x, v = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)).astype(np.float32)
    w = energy.parameters()["0.weight"][0]
    first, second = energy.directional_derivatives(x, v)
    np.testing.assert_allclose(first, v @ w, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(second, 0)
    g = energy.grad_params_of_score(x, v)
    np.testing.assert_allclose(g["0.weight"][0], v.sum(0), rtol=1e-6)
    np.testing.assert_array_equal(g["0.bias"], 0)


def test_inputs_are_validated_and_left_alone():
    energy = ebm_swift.MLPEnergy(2, hidden=(8,), seed=0)
    x = np.ones((4, 2))
    before = x.copy()
    with pytest.raises(ValueError, match="v must have the shape of x"):
        energy.grad_params_of_score(x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="v must have 2 columns"):
        energy.directional_derivatives(x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="x"):
        energy.grad_params_of_curvature(np.ones((4, 3)), np.ones((4, 3)))
    energy.grad_params_of_score(x, x)
    np.testing.assert_array_equal(x, before)
    assert not hasattr(ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2)), "grad_params_of_score")
