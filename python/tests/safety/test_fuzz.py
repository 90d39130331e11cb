"""Property-based fuzzing of the public entry points (issue 14): random shapes, dtypes, layouts,
values and scalars. The invariant everywhere: a result of the documented shape and dtype, or a
documented exception (TypeError, ValueError, or DivergenceError for non-finite chains) — never a
crash, never another exception, and the inputs never modified.

Bounded to stay within the test budget (`FUZZ_EXAMPLES` examples per entry point, 200 by default);
`EBM_SWIFT_FUZZ_EXAMPLES=2000 pytest python/tests/test_fuzz.py` runs the long profile by hand."""

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ebm_swift  # noqa: E402

FUZZ_EXAMPLES = int(os.environ.get("EBM_SWIFT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DOCUMENTED = (TypeError, ValueError, ebm_swift.DivergenceError)

MLP = ebm_swift.MLPEnergy(3, (8, 8), seed=0)
NET = ebm_swift.NetworkEnergy(ebm_swift.nn.Sequential(ebm_swift.nn.Conv2d(1, 2, 3, padding=1), ebm_swift.nn.SiLU(),
                                                      ebm_swift.nn.Flatten(), ebm_swift.nn.Linear(2 * 4 * 3, 1)),
                              (1, 4, 3), seed=0)
GAUSS = ebm_swift.GaussianEnergy([0.0, 1.0, -1.0], np.diag([1.0, 2.0, 0.5]))
ENERGIES = {"mlp": MLP, "network": NET, "gaussian": GAUSS}

dtypes = st.one_of(hnp.floating_dtypes(), hnp.integer_dtypes(), hnp.boolean_dtypes(), hnp.complex_number_dtypes(),
                   st.just(np.dtype("timedelta64[s]")), st.just(np.dtype("U3")))
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@st.composite
def arrays(draw, energy):
    """Mostly near-valid batches for `energy` (right sample shape, any rows, dtype, layout,
    values), sometimes anything."""
    if draw(st.booleans()):
        shape = draw(shapes)
    else:
        sample = energy.input_shape if draw(st.booleans()) else (energy.dim,)
        shape = (draw(st.integers(0, 6)), *sample)
    dtype = draw(dtypes)
    x = draw(hnp.arrays(dtype, shape))
    if x.ndim >= 2 and draw(st.booleans()):
        x = np.asfortranarray(x)
    if x.ndim >= 1 and x.shape[0] > 1 and draw(st.booleans()):
        x = x[::2]
    return x


def check_unchanged(x, copy):
    np.testing.assert_array_equal(x, copy)


def run(call, x):
    copy = x.copy()
    try:
        out = call(x)
    except DOCUMENTED:
        out = None
    check_unchanged(x, copy)
    return out


@pytest.mark.parametrize("name", list(ENERGIES))
@FUZZ
@given(data=st.data())
def test_energy_and_grad_x(name, data):
    energy = ENERGIES[name]
    x = data.draw(arrays(energy))
    e = run(energy.energy, x)
    if e is not None:
        # Finite inputs only get here; an energy beyond float32's range is ±inf, never NaN.
        assert e.dtype == np.float32 and e.shape == (x.shape[0],) and not np.isnan(e).any()
    g = run(energy.grad_x, x)
    if g is not None:
        assert g.dtype == np.float32 and g.shape == x.shape


@FUZZ
@given(data=st.data())
def test_grad_params(data):
    x = data.draw(arrays(NET))
    g = run(NET.grad_params, x)
    if g is not None:
        assert list(g) == list(NET.parameters()) and all(v.dtype == np.float32 for v in g.values())


scalars = st.one_of(st.integers(-3, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.none(), st.booleans(),
                    st.text(max_size=3), st.just(np.float32(0.01)), st.just(2**63), st.just(-1e-50))


@pytest.mark.parametrize("sampler", ["langevin", "mala", "hmc"])
@FUZZ
@given(data=st.data())
def test_samplers(sampler, data):
    energy = data.draw(st.sampled_from(list(ENERGIES.values())))
    x = data.draw(arrays(energy))
    n_steps = data.draw(st.one_of(st.integers(-1, 5), scalars))
    step_size = data.draw(st.one_of(st.floats(1e-4, 0.5), scalars))
    kwargs = {"seed": data.draw(st.one_of(st.integers(0, 2**64 - 1), st.none(), st.integers(-5, -1)))}
    if data.draw(st.booleans()):
        kwargs["thin"] = data.draw(st.one_of(st.integers(0, 6), scalars))
    if data.draw(st.booleans()):
        kwargs["return_trajectory"] = data.draw(st.one_of(st.booleans(), scalars))
    if sampler != "langevin" and data.draw(st.booleans()):
        kwargs["adapt_step_size"] = data.draw(st.one_of(st.booleans(), scalars))
        kwargs["n_warmup"] = data.draw(st.one_of(st.integers(-1, 6), st.none(), scalars))
        kwargs["target_accept"] = data.draw(st.one_of(st.floats(-0.5, 1.5), st.none(), scalars))
    if sampler == "hmc":
        for key, strategy in (("n_leapfrog", st.one_of(st.integers(-1, 4), scalars)),
                              ("inverse_mass", st.one_of(st.none(), arrays(energy).map(lambda a: a[0] if a.ndim and len(a) else a), scalars)),
                              ("adapt_mass", st.one_of(st.booleans(), scalars))):
            if data.draw(st.booleans()):
                kwargs[key] = data.draw(strategy)
    call = getattr(ebm_swift, sampler)
    out = run(lambda z: call(energy, z, n_steps, step_size, **kwargs), x)
    if out is not None:
        samples = out[0] if isinstance(out, tuple) else out
        assert samples.dtype == np.float32 and samples.shape == x.shape


@FUZZ
@given(data=st.data())
def test_trainer_construction_and_step(data):
    kwargs = {}
    for key, strategy in (("lr", st.one_of(st.floats(1e-5, 1e-2), scalars)), ("n_steps", st.one_of(st.integers(1, 3), scalars)),
                          ("buffer_size", st.one_of(st.integers(1, 64), scalars)),
                          ("reinit_prob", st.one_of(st.floats(0, 1), scalars)), ("alpha", st.one_of(st.floats(0, 1), scalars)),
                          ("persistent", st.one_of(st.booleans(), scalars))):
        if data.draw(st.booleans()):
            kwargs[key] = data.draw(strategy)
    try:
        trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(3, (8,), seed=0), seed=0, **kwargs)
    except DOCUMENTED:
        return
    x = data.draw(arrays(MLP))
    record = run(trainer.step, x)
    if record is not None:
        assert set(record) == {"loss", "e_data", "e_model", "grad_norm", "lr", "step_time"}
        assert trainer.n_iter == 1 and all(len(v) == 1 for v in trainer.history.values())


@FUZZ
@given(data=st.data())
def test_second_order_derivatives(data):
    energy = data.draw(st.sampled_from([MLP, NET]))
    x = data.draw(arrays(energy))
    v = data.draw(st.one_of(arrays(energy), st.just(x)))
    v_copy = v.copy()
    for method in (energy.directional_derivatives, energy.grad_params_of_score, energy.grad_params_of_curvature):
        out = run(lambda z: method(z, v), x)
        check_unchanged(v, v_copy)
        if out is None:
            continue
        if isinstance(out, tuple):
            assert all(o.dtype == np.float32 and o.shape == (x.shape[0],) for o in out)
        else:
            assert list(out) == list(energy.parameters())


CLASSIFIER = ebm_swift.NetworkEnergy(ebm_swift.nn.Sequential(ebm_swift.nn.Linear(3, 6), ebm_swift.nn.Tanh(),
                                                             ebm_swift.nn.Linear(6, 4)), (3,), seed=0, n_classes=4)
labels = st.one_of(hnp.arrays(st.sampled_from([np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.float64),
                                                np.dtype(bool), np.dtype(np.uint8)]),
                              st.integers(0, 6), elements=st.integers(-2, 5)), scalars)


@FUZZ
@given(data=st.data())
def test_objectives_construction_and_step(data):
    """Trainer(objective=…) with random options, then a step with random (labelled) batches."""
    objective = data.draw(st.one_of(st.sampled_from(["ml", "dsm", "ssm", "nce", "jem", "drl"]), scalars))
    kwargs = {"objective": objective}
    for key, strategy in (("sigma", st.one_of(st.floats(1e-3, 2), st.lists(st.floats(-1, 2), max_size=3), scalars)),
                          ("n_projections", st.one_of(st.integers(-1, 3), scalars)),
                          ("projection", st.one_of(st.sampled_from(["rademacher", "gaussian"]), scalars)),
                          ("noise_ratio", st.one_of(st.integers(-1, 3), scalars)),
                          ("ema_decay", st.one_of(st.none(), st.floats(-1, 2), scalars)),
                          ("class_conditional", st.one_of(st.booleans(), scalars)),
                          ("cross_entropy_weight", st.one_of(st.floats(0, 2), scalars))):
        if data.draw(st.booleans()):
            kwargs[key] = data.draw(strategy)
    energy = CLASSIFIER if objective == "jem" and data.draw(st.booleans()) else MLP
    try:
        trainer = ebm_swift.Trainer(energy, seed=0, n_steps=2, buffer_size=16, **kwargs)
    except DOCUMENTED:
        return
    x = data.draw(arrays(energy))
    y = data.draw(st.one_of(st.none(), labels))
    y_copy = None if y is None or not isinstance(y, np.ndarray) else y.copy()
    record = run(lambda z: trainer.step(z, y), x)
    if y_copy is not None:
        check_unchanged(y, y_copy)
    if record is not None:
        assert trainer.n_iter == 1 and all(len(v) == 1 for v in trainer.history.values())


@FUZZ
@given(mean=hnp.arrays(np.float64, st.integers(1, 3), elements=st.floats(-1e20, 1e20)),
       scale=st.floats(1e-30, 1e30), correlation=st.floats(-1, 1))
def test_gaussian_construction(mean, scale, correlation):
    d = mean.size
    cov = np.eye(d) * scale
    if d > 1:
        cov[0, 1] = cov[1, 0] = correlation * scale
    try:
        g = ebm_swift.GaussianEnergy(mean, cov)
    except DOCUMENTED:
        return
    e = g.energy(mean[None, :].astype(np.float32))
    assert np.isfinite(e).all() and abs(float(e[0])) < 1e-2 * max(1.0, float(np.abs(mean).max()) ** 2 / scale)
