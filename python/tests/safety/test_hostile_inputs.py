"""Issue 23's findings that were silent or broken results, not crashes: files that loaded when
they should not, state that gave NaN energies without an error, estimates and info with wrong
types or meanings, pickling that failed, and callable energies whose non-finite regions stopped
a sampler instead of counting as divergences. Each test failed on the main branch before."""

import json
import pickle
import zipfile

import numpy as np
import pytest

import ebm_swift

nn = ebm_swift.nn


def _archive(obj, tmp_path):
    path = tmp_path / "saved.npz"
    ebm_swift.save(obj, path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _write(arrays, tmp_path, name="bad.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _spectral_energy(seed=0):
    return ebm_swift.NetworkEnergy(nn.Sequential(nn.SpectralNorm(nn.Linear(3, 4)), nn.SiLU(), nn.Linear(4, 1)), 3,
                                   seed=seed)


# ---- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.array(["1.0"] * 21), np.zeros(21, np.complex64) + 1j, np.ones(21, bool),
                                 np.zeros(21, "datetime64[s]")])
def test_parameters_of_a_non_real_dtype_are_refused(tmp_path, bad):
    arrays = _archive(ebm_swift.MLPEnergy(2, (5,), seed=0), tmp_path)
    assert arrays["params"].size == 21
    arrays["params"] = bad
    with pytest.raises(ValueError, match="must hold real numbers"):
        ebm_swift.load(_write(arrays, tmp_path))


def test_spectral_buffers_with_extra_values_are_refused(tmp_path):
    arrays = _archive(_spectral_energy(), tmp_path)
    arrays["buffers"] = np.concatenate([arrays["buffers"], np.zeros(1000, np.float32)])
    with pytest.raises(ValueError, match="7 buffer values .spectral norms. but the file holds 1007"):
        ebm_swift.load(_write(arrays, tmp_path))


def test_a_float_permutation_is_refused(tmp_path):
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,), seed=0), buffer_size=16, seed=0)
    trainer.step(np.zeros((8, 2), np.float32))
    arrays = _archive(trainer, tmp_path)
    arrays["trainer.permutation"] = arrays["trainer.permutation"].astype(np.float64) + 0.5
    with pytest.raises(ValueError, match="permutation must hold int64"):
        ebm_swift.load(_write(arrays, tmp_path))


@pytest.mark.parametrize("version", [-5, 0])
def test_a_version_below_one_is_refused(tmp_path, version):
    arrays = _archive(ebm_swift.MLPEnergy(2, (5,), seed=0), tmp_path)
    arrays["__version__"] = np.array(version)
    with pytest.raises(ValueError, match=f"format version {version}; versions start at 1"):
        ebm_swift.load(_write(arrays, tmp_path))


def test_deeply_nested_metadata_is_a_value_error(tmp_path):
    arrays = _archive(ebm_swift.MLPEnergy(2, (5,), seed=0), tmp_path)
    arrays["__meta__"] = np.array("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="damaged header .RecursionError"):
        ebm_swift.load(_write(arrays, tmp_path))


def test_an_unused_member_is_never_decompressed(tmp_path):
    # A member of 1 GiB of zeros compresses to about a megabyte; load must not read it. Its zip
    # entry is written by hand (np.savez_compressed would need the whole array in memory).
    arrays = _archive(ebm_swift.MLPEnergy(2, (5,), seed=0), tmp_path)
    path = _write(arrays, tmp_path)
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0, np.float32))
    header["shape"] = (1 << 28,)  # 2^28 floats = 1 GiB
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("unused.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            block = bytes(1 << 24)
            for _ in range(1 << 30 >> 24):
                f.write(block)
    assert path.stat().st_size < 50 << 20
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded = ebm_swift.load(path)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert isinstance(loaded, ebm_swift.MLPEnergy)
    assert grown_kb < 500_000, f"peak RSS grew by {grown_kb} kB"


def test_a_member_larger_than_its_entry_is_refused(tmp_path):
    # A header that claims more values than the entry holds (or the reverse) is damage.
    arrays = _archive(ebm_swift.MLPEnergy(2, (5,), seed=0), tmp_path)
    path = _write(arrays, tmp_path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    raw = members["params.npy"]
    members["params.npy"] = raw.replace(b"(21,)", b"(99,)", 1)
    with zipfile.ZipFile(tmp_path / "claim.npz", "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match="claims shape .99,."):
        ebm_swift.load(tmp_path / "claim.npz")


def test_a_compressed_history_of_millions_of_zeros_is_refused_before_it_is_read(tmp_path):
    # 10^7 entries per history list (480 MB, 18 s and 3.3 GB to load before) in a file of a
    # few hundred kilobytes: the members expand a thousandfold, which no saved state does.
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,), seed=0), buffer_size=16, seed=0)
    trainer.step(np.zeros((8, 2), np.float32))
    arrays = _archive(trainer, tmp_path)
    for key in list(arrays):
        if key.startswith("trainer.history."):
            arrays[key] = np.zeros(10**7)
    np.savez_compressed(tmp_path / "bomb.npz", **arrays)
    assert (tmp_path / "bomb.npz").stat().st_size < 2 << 20
    with pytest.raises(ValueError, match="would expand from"):
        ebm_swift.load(tmp_path / "bomb.npz")


@pytest.mark.parametrize("name", ["step_count", "updates"])
def test_counts_that_would_overflow_the_next_step_are_refused(tmp_path, name):
    # 2**63 - 1 loaded and the next step died with SIGILL (an overflow trap) before.
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,), seed=0), buffer_size=16, seed=0)
    trainer.step(np.zeros((8, 2), np.float32))
    arrays = _archive(trainer, tmp_path)
    meta = json.loads(str(arrays["__meta__"]))
    meta["trainer"][name] = 2**63 - 1
    arrays["__meta__"] = np.array(json.dumps(meta))
    with pytest.raises(ValueError, match=f"{name} must be a non-negative integer .at most 2.53."):
        ebm_swift.load(_write(arrays, tmp_path))


# ---- spectral norm ----------------------------------------------------------------------------


def test_power_iterations_are_bounded():
    with pytest.raises(ValueError, match="n_power_iterations must be at most 1000"):
        nn.SpectralNorm(nn.Linear(2, 2), n_power_iterations=2**31 - 1)
    nn.SpectralNorm(nn.Linear(2, 2), n_power_iterations=1000)


@pytest.mark.parametrize("name,value", [("0.weight_u", 0.0), ("0.weight_u", 1e-30), ("0.weight_v", 0.0)])
def test_degenerate_spectral_vectors_are_refused(name, value):
    energy = _spectral_energy()
    buffers = energy.buffers()
    buffers[name] = np.full_like(buffers[name], value)
    with pytest.raises(ValueError, match=f"{name} must be a unit vector"):
        energy.set_buffers(buffers)
    state = energy.state_dict()
    state[name] = buffers[name]
    with pytest.raises(ValueError, match=f"{name} must be a unit vector"):
        energy.load_state_dict(state)
    assert np.all(np.isfinite(energy.energy(np.ones((2, 3)))))  # unchanged


def test_a_zero_weight_under_spectral_norm_is_refused(tmp_path):
    energy = _spectral_energy()
    params = energy.parameters()
    params["0.weight_orig"] = np.zeros_like(params["0.weight_orig"])
    with pytest.raises(ValueError, match="weight_orig / σ would not be finite"):
        energy.set_parameters(params)
    arrays = _archive(_spectral_energy(), tmp_path)
    flat = arrays["params"].copy()
    flat[:12] = 0  # weight_orig (4 × 3) comes first
    arrays["params"] = flat
    with pytest.raises(ValueError, match="weight_orig / σ would not be finite"):
        ebm_swift.load(_write(arrays, tmp_path))


def test_a_saved_spectral_network_still_loads(tmp_path):
    energy = _spectral_energy(seed=3)
    path = tmp_path / "ok.npz"
    ebm_swift.save(energy, path)
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(ebm_swift.load(path).energy(x), energy.energy(x))


# ---- estimates, info and pickling -------------------------------------------------------------


def test_ais_with_one_chain_has_no_standard_error():
    g = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    log_z, std_err = ebm_swift.ais_log_z(g, n_chains=1, n_temps=10, seed=0)
    assert np.isfinite(log_z) and np.isnan(std_err)
    _, std_err2 = ebm_swift.ais_log_z(g, n_chains=2, n_temps=10, seed=0)
    assert np.isfinite(std_err2)


def test_ais_return_info_must_be_a_bool():
    g = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    with pytest.raises(TypeError, match="return_info"):
        ebm_swift.ais_log_z(g, n_chains=4, n_temps=10, seed=0, return_info="no")


@pytest.mark.parametrize("name,kw", [("hmc", {"n_leapfrog": 3}), ("nuts", {}), ("kinetic_langevin", {"metropolis": True})])
def test_divergence_counts_are_integers(name, kw):
    g = ebm_swift.GaussianEnergy(np.zeros(2), np.eye(2))
    _, info = getattr(ebm_swift, name)(g, np.zeros((4, 2)), 10, 0.1, seed=0, **kw)
    assert info["n_divergent"].dtype == np.int64
    _, _, ais = ebm_swift.ais_log_z(g, n_chains=4, n_temps=10, seed=0, return_info=True)
    assert ais["n_divergent"].dtype == np.int64


def test_an_nce_trainer_pickles_and_saves_before_its_first_step(tmp_path):
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (4,), seed=0), objective="nce", seed=3)
    copy = pickle.loads(pickle.dumps(trainer))
    ebm_swift.save(trainer, tmp_path / "nce.npz")
    loaded = ebm_swift.load(tmp_path / "nce.npz")
    data = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    results = [t.step(data)["loss"] for t in (trainer, copy, loaded)]
    assert results[0] == results[1] == results[2]
    assert np.array_equal(trainer.noise[0], loaded.noise[0])


# ---- callable energies with non-finite regions ------------------------------------------------


def _walled_gaussian(value):
    """A standard Gaussian in 2-D whose energy is `value` (NaN, inf or 1e39) where x₀ > 1.5."""

    def value_and_grad(x):
        x = x.astype(np.float64)
        e = 0.5 * (x**2).sum(axis=1)
        return np.where(x[:, 0] > 1.5, value, e), x

    return ebm_swift.CallableEnergy(value_and_grad=value_and_grad, dim=2)


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e39])
@pytest.mark.parametrize("name,kw", [("hmc", {"n_leapfrog": 5}), ("mala", {}), ("nuts", {}),
                                     ("kinetic_langevin", {"metropolis": True})])
def test_a_non_finite_region_is_a_rejected_divergence(value, name, kw):
    energy = _walled_gaussian(value)
    x, info = getattr(ebm_swift, name)(energy, np.zeros((64, 2)), 200, 0.5, seed=0, **kw)
    assert np.all(x[:, 0] <= 1.5) and np.all(np.isfinite(x))
    if "n_divergent" in info:
        assert info["n_divergent"].sum() > 0
    # Directly, the rule is unchanged: a non-finite energy is an error.
    with pytest.raises(ValueError, match="NaN or infinite"):
        energy.energy(np.array([[2.0, 0.0]]))


def test_ais_over_a_non_finite_region_runs():
    energy = _walled_gaussian(np.nan)
    log_z, _ = ebm_swift.ais_log_z(energy, n_chains=64, n_temps=50, transition="mala", step_size=0.3, seed=0)
    assert np.isfinite(log_z)


def test_a_non_finite_start_is_still_an_error():
    energy = _walled_gaussian(np.nan)
    with pytest.raises(ebm_swift.DivergenceError):
        ebm_swift.mala(energy, np.full((4, 2), 2.0), 10, 0.1, seed=0)


def test_adaptation_that_runs_off_to_infinity_is_a_divergence():
    # A target flat in every direction: dual averaging grows the step without bound and the
    # window variances overflow float32; the tuned values used to come back as inf silently.
    flat = ebm_swift.CallableEnergy(value_and_grad=lambda x: (np.zeros(len(x)), np.zeros_like(x)), dim=2)
    with pytest.raises(ebm_swift.DivergenceError, match="warm-up adaptation of chain 0"):
        ebm_swift.hmc(flat, np.zeros((4, 2)), 400, 0.1, n_leapfrog=3, adapt_step_size=True, adapt_mass=True,
                      n_warmup=300, seed=0)
