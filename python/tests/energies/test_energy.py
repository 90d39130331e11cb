"""MLPEnergy and GaussianEnergy against a NumPy re-implementation (reference.py)."""

import pickle

import numpy as np
import pytest

import ebm_swift
from reference import forward, grad_params_of_mean, grad_x

ARCHITECTURES = [(1, (4,)), (2, (16,)), (3, (32, 16)), (5, (8, 8, 8)), (64, (128, 64))]
ACTIVATIONS = sorted(ebm_swift.ACTIVATIONS)


def scale_of(values):
    return max(1.0, float(np.max(np.abs(values))))


# float32 forward/backward against float64: relative rounding ~1e-7 per operation, summed over
# up to a few hundred terms per dot product → 1e-5 relative to the largest entry is ample, and a
# genuine mistake (a wrong term, a transposed weight) shows as O(1e-1) or more.
RTOL = 1e-5


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dim,hidden", ARCHITECTURES)
@pytest.mark.parametrize("n", [1, 7, 130])
def test_matches_numpy_reference(activation, dim, hidden, n, rng):
    model = ebm_swift.MLPEnergy(dim, hidden, activation, seed=dim * 31 + n)
    x = rng.normal(scale=2.0, size=(n, dim))
    params = model.parameters()
    x32 = x.astype(np.float32).astype(np.float64)

    e_ref, _ = forward(params, activation, x32)
    e = model.energy(x)
    assert e.shape == (n,) and e.dtype == np.float32
    np.testing.assert_allclose(e, e_ref, rtol=0, atol=RTOL * scale_of(e_ref))

    g_ref = grad_x(params, activation, x32)
    g = model.grad_x(x)
    assert g.shape == (n, dim) and g.dtype == np.float32
    np.testing.assert_allclose(g, g_ref, rtol=0, atol=RTOL * scale_of(g_ref))

    gp_ref = grad_params_of_mean(params, activation, x32)
    gp = model.grad_params(x)
    assert list(gp) == list(params)
    for name in params:
        assert gp[name].shape == params[name].shape
        np.testing.assert_allclose(gp[name], gp_ref[name], rtol=0, atol=RTOL * scale_of(gp_ref[name]), err_msg=name)


def test_grad_x_matches_finite_differences_of_energy(rng):
    """Independent of the reference: central differences of the native energy itself (float32,
    h = 1e-2 on a smooth tanh net: truncation ~h²·E''' ≈ 1e-4, rounding ~1e-7/h ≈ 1e-5)."""
    model = ebm_swift.MLPEnergy(3, (16, 16), "tanh", seed=4)
    x = rng.normal(size=(5, 3)).astype(np.float64)
    h = 1e-2
    fd = np.empty_like(x)
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        fd[:, j] = (model.energy(x + step).astype(np.float64) - model.energy(x - step)) / (2 * h)
    np.testing.assert_allclose(model.grad_x(x), fd, atol=2e-3)


def test_parameters_layout_and_round_trip(rng):
    model = ebm_swift.MLPEnergy(3, (5, 4), seed=1)
    params = model.parameters()
    assert list(params) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
    ]
    assert [p.shape for p in params.values()] == [(5, 3), (5,), (4, 5), (4,), (1, 4), (1,)]
    assert model.num_parameters == sum(p.size for p in params.values()) == 15 + 5 + 20 + 4 + 4 + 1
    # nn.Linear default init: uniform on ±1/sqrt(fan_in).
    assert np.abs(params["layers.1.weight"]).max() <= 1 / np.sqrt(5)
    # Copies: mutating the returned dict does not touch the model.
    params["layers.0.weight"][:] = 0
    assert np.abs(model.parameters()["layers.0.weight"]).max() > 0
    new = {k: rng.normal(size=v.shape) for k, v in params.items()}
    model.set_parameters(new)
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, new[k].astype(np.float32))
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(model.energy(x), forward(model.parameters(), "swish", x.astype(np.float32))[0], rtol=1e-5, atol=1e-5)


def test_same_seed_same_model_and_pickle(rng):
    a, b, c = (ebm_swift.MLPEnergy(2, (8,), seed=s) for s in (3, 3, 4))
    for k in a.parameters():
        np.testing.assert_array_equal(a.parameters()[k], b.parameters()[k])
    assert not np.array_equal(a.parameters()["layers.0.weight"], c.parameters()["layers.0.weight"])
    clone = pickle.loads(pickle.dumps(a))
    x = rng.normal(size=(3, 2))
    np.testing.assert_array_equal(clone.energy(x), a.energy(x))
    assert (clone.dim, clone.hidden, clone.activation) == (2, (8,), "swish")


def test_gaussian_energy_closed_form(rng):
    mean = np.array([1.0, -2.0, 0.5])
    a = rng.normal(size=(3, 3))
    cov = a @ a.T + 0.5 * np.eye(3)
    g = ebm_swift.GaussianEnergy(mean, cov)
    x = rng.normal(size=(10, 3))
    d = x - mean
    p = np.linalg.inv(cov)
    e_ref = 0.5 * np.einsum("ni,ij,nj->n", d, p, d)
    np.testing.assert_allclose(g.energy(x), e_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g.grad_x(x), d @ p, rtol=1e-4, atol=1e-5)
    assert g.log_z == pytest.approx(1.5 * np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(cov)[1])
    g2 = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(g2.energy(x), g.energy(x))


def test_accepts_float64_int_and_non_contiguous_input():
    model = ebm_swift.MLPEnergy(2, (8,), seed=0)
    base = np.arange(24, dtype=np.float64).reshape(6, 4) / 10
    view = base[::2, 1:3]  # non-contiguous, float64
    expected = model.energy(np.ascontiguousarray(view, dtype=np.float32))
    np.testing.assert_array_equal(model.energy(view), expected)
    np.testing.assert_array_equal(model.energy(view.tolist()), expected)
    ints = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(model.energy(ints), model.energy(ints.astype(np.float32)))
