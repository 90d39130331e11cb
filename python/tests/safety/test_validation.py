"""Bad input raises ValueError/TypeError naming the argument; inputs are never modified."""

import numpy as np
import pytest

import ebm_swift


@pytest.fixture
def model():
    return ebm_swift.MLPEnergy(3, (8,), seed=0)


@pytest.fixture
def gauss():
    return ebm_swift.GaussianEnergy([0.0, 0.0], [[1.0, 0.2], [0.2, 1.0]])


BAD_BATCHES = [
    (np.zeros(3), ValueError, "2-D"),
    (np.zeros((2, 3, 1)), ValueError, "2-D"),
    (np.zeros((4, 2)), ValueError, "3 columns"),
    (np.zeros((0, 3)), ValueError, "at least one row"),
    (np.array([["a", "b", "c"]]), TypeError, "dtype"),
    (np.zeros((2, 3), dtype=complex), TypeError, "dtype"),
    (np.zeros((2, 3), dtype=bool), TypeError, "dtype"),
    (np.array([[1.0, np.nan, 0.0]]), ValueError, "finite"),
    (np.array([[1.0, np.inf, 0.0]]), ValueError, "finite"),
    (np.array([[1e39, 0.0, 0.0]]), ValueError, "finite"),  # overflows float32
    ([[1, 2], [3]], TypeError, None),
]


@pytest.mark.parametrize("bad,exc,match", BAD_BATCHES)
def test_bad_batches_everywhere(model, bad, exc, match):
    calls = [
        lambda x: model.energy(x),
        lambda x: model.grad_x(x),
        lambda x: model.grad_params(x),
        lambda x: ebm_swift.langevin(model, x, 2, 0.1),
        lambda x: ebm_swift.Trainer(model, buffer_size=16).step(x),
    ]
    for call in calls:
        with pytest.raises(exc, match=match):
            call(bad)


def test_messages_name_expected_and_actual_shape(model):
    with pytest.raises(ValueError, match=r"x must have 3 columns \(shape \(n, 3\)\); got shape \(4, 2\)"):
        model.energy(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"x0 must be 2-D"):
        ebm_swift.langevin(model, np.zeros(3), 1, 0.1)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(n_steps=-3), ValueError, "n_steps"),
        (dict(n_steps=2.5), TypeError, "n_steps"),
        (dict(step_size=0.0), ValueError, "step_size"),
        (dict(step_size=-1.0), ValueError, "step_size"),
        (dict(step_size=float("nan")), ValueError, "step_size"),
        (dict(noise_scale=-0.1), ValueError, "noise_scale"),
        (dict(grad_clip=0.0), ValueError, "grad_clip"),
        (dict(clamp=(1.0, -1.0)), ValueError, "clamp"),
        (dict(clamp=(0.0, np.inf)), ValueError, "clamp"),
        (dict(clamp=3.0), TypeError, "clamp"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed="abc"), TypeError, "seed"),
    ],
)
def test_langevin_arguments(gauss, kwargs, exc, match):
    args = dict(n_steps=5, step_size=0.1)
    args.update(kwargs)
    n_steps, step_size = args.pop("n_steps"), args.pop("step_size")
    with pytest.raises(exc, match=match):
        ebm_swift.langevin(gauss, np.zeros((2, 2)), n_steps, step_size, **args)


def test_langevin_needs_an_energy():
    with pytest.raises(TypeError, match="energy"):
        ebm_swift.langevin(lambda x: x, np.zeros((2, 2)), 1, 0.1)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(dim=0), ValueError, "dim"),
        (dict(dim=2.0), TypeError, "dim"),
        (dict(hidden=()), ValueError, "hidden"),
        (dict(hidden=(8, 0)), ValueError, r"hidden\[1\]"),
        (dict(hidden=(8, -2)), ValueError, r"hidden\[1\]"),
        (dict(hidden="abc"), TypeError, r"hidden\[0\]"),
        (dict(activation="relu6"), ValueError, "activation"),
        (dict(activation=None), ValueError, "activation"),
        (dict(seed=2**64), ValueError, "seed"),
    ],
)
def test_mlp_constructor_arguments(kwargs, exc, match):
    args = dict(dim=2, hidden=(8,), activation="swish", seed=0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        ebm_swift.MLPEnergy(**args)


def test_set_parameters_checks_names_shapes_and_values(model):
    good = model.parameters()
    missing = dict(good)
    del missing["layers.0.bias"]
    with pytest.raises(ValueError, match=r"missing \['layers.0.bias'\]"):
        model.set_parameters(missing)
    extra = dict(good, **{"layers.9.weight": np.zeros(1)})
    with pytest.raises(ValueError, match=r"unexpected \['layers.9.weight'\]"):
        model.set_parameters(extra)
    with pytest.raises(ValueError, match=r"layers.0.weight.*shape \(8, 3\); got \(3, 8\)"):
        model.set_parameters(dict(good, **{"layers.0.weight": good["layers.0.weight"].T}))
    with pytest.raises(ValueError, match="finite"):
        model.set_parameters(dict(good, **{"layers.0.bias": np.full(8, np.nan)}))
    with pytest.raises(TypeError, match="dtype"):
        model.set_parameters(dict(good, **{"layers.0.bias": np.array(["x"] * 8)}))
    with pytest.raises(TypeError, match="mapping"):
        model.set_parameters([1, 2, 3])
    # A failed call changed nothing.
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, good[k])


@pytest.mark.parametrize(
    "mean,cov,match",
    [
        ([0.0, 0.0], [[1.0, 0.5], [0.4, 1.0]], "symmetric"),
        ([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        ([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]], "positive definite"),
        ([0.0, 0.0], [[1.0]], r"shape \(2, 2\)"),
        ([], [], "non-empty"),
        ([0.0, np.nan], np.eye(2), "finite"),
    ],
)
def test_gaussian_rejects_bad_parameters(mean, cov, match):
    with pytest.raises(ValueError, match=match):
        ebm_swift.GaussianEnergy(mean, cov)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(buffer_size=0), ValueError, "buffer_size"),
        (dict(buffer_size=-5), ValueError, "buffer_size"),
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(step_size=0), ValueError, "step_size"),
        (dict(lr=-1e-3), ValueError, "lr"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer"),
        (dict(betas=(0.9,)), TypeError, "betas"),
        (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (dict(reinit_prob=1.5), ValueError, "reinit_prob"),
        (dict(init_range=(1.0, 1.0)), ValueError, "init_range"),
        (dict(clamp=(2, 1)), ValueError, "clamp"),
        (dict(alpha=-0.1), ValueError, "alpha"),
        (dict(momentum=1.0), ValueError, "momentum"),
        (dict(weight_decay=-1.0), ValueError, "weight_decay"),
    ],
)
def test_trainer_arguments(model, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ebm_swift.Trainer(model, **kwargs)


def test_trainer_needs_an_mlp(gauss):
    with pytest.raises(TypeError, match="MLPEnergy"):
        ebm_swift.Trainer(gauss)


def test_trainer_batch_larger_than_buffer(model):
    trainer = ebm_swift.Trainer(model, buffer_size=4, seed=0)
    with pytest.raises(ValueError, match="buffer_size is 4"):
        trainer.step(np.zeros((5, 3)))
    assert trainer.n_iter == 0


def test_inputs_are_never_modified(model):
    x = np.random.default_rng(0).normal(size=(16, 3))
    x_before = x.copy()
    model.energy(x)
    model.grad_x(x)
    model.grad_params(x)
    ebm_swift.langevin(model, x, 3, 0.1, seed=0)
    ebm_swift.Trainer(model, buffer_size=16, seed=0).step(x)
    np.testing.assert_array_equal(x, x_before)
    params = model.parameters()
    snapshot = {k: v.copy() for k, v in params.items()}
    model.set_parameters(params)
    for k in params:
        np.testing.assert_array_equal(params[k], snapshot[k])


def test_native_layer_rejects_wrong_buffers_without_crashing(model):
    """The private shim double-checks sizes, so even a direct misuse cannot crash."""
    from ebm_swift import _native

    with pytest.raises(ValueError):
        _native.energy_eval(model._handle, np.zeros((2, 5), dtype=np.float32))
    sampler = ("langevin", {"step_size": 0.1, "noise_scale": None, "grad_clip": None, "clamp": None})
    run = ("", {"n_steps": 1, "seed": 0, "chain_offset": 0})
    with pytest.raises(TypeError):
        _native.sample(model._handle, np.zeros((2, 3), dtype=np.float64), sampler, run, None, 1, 0, False, False, None)
    with pytest.raises(ValueError):
        _native.energy_set_parameters(model._handle, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError):
        _native.sample(model._handle, np.zeros((2, 3), dtype=np.float32), sampler, run, None, 0, 0, False, False, None)
    with pytest.raises(ValueError):
        _native.energy_eval("not a capsule", np.zeros((2, 3), dtype=np.float32))


def test_native_records_are_read_strictly(model):
    """A record with an unknown, missing or mistyped setting fails by name, never silently."""
    from ebm_swift import _native

    x = np.zeros((2, 3), dtype=np.float32)
    sampler = {"step_size": 0.1, "noise_scale": None, "grad_clip": None, "clamp": None}
    run = ("", {"n_steps": 1, "seed": 0, "chain_offset": 0})
    with pytest.raises(ValueError, match="sampler 'langevin' has no field 'n_leapfrog'"):
        _native.sample(model._handle, x, ("langevin", {**sampler, "n_leapfrog": 3}), run, None, 1, 0, False, False, None)
    with pytest.raises(ValueError, match="needs the field 'clamp'"):
        _native.sample(model._handle, x, ("langevin", {k: v for k, v in sampler.items() if k != "clamp"}), run, None,
                       1, 0, False, False, None)
    with pytest.raises(ValueError, match="'step_size' must be a number, got a text"):
        _native.sample(model._handle, x, ("langevin", {**sampler, "step_size": "big"}), run, None, 1, 0, False, False, None)
    with pytest.raises(ValueError, match="unknown sampler 'gibbs'"):
        _native.sample(model._handle, x, ("gibbs", {"step_size": 0.1}), run, None, 1, 0, False, False, None)
    with pytest.raises(ValueError, match="the run settings has no field 'thin'"):
        _native.sample(model._handle, x, ("langevin", sampler), ("", {**run[1], "thin": 2}), None, 1, 0, False, False,
                       None)
    assert np.array_equal(x, np.zeros((2, 3)))


def test_native_ais_rejects_overflowing_counts_without_crashing():
    from ebm_swift import _native

    g = ebm_swift.GaussianEnergy([0.0], [[1.0]])
    with pytest.raises(ValueError, match="n_temps"):
        run = ("", {"n_chains": 10, "n_temps": 2**62, "n_steps": 4, "base_std": 1.0, "seed": 0, "chain_offset": 0})
        _native.ais_log_z(g._handle, ("mala", {"step_size": 0.1, "inverse_mass": None}), run, 10, np.zeros(1), None)
