"""ebm_swift.nn networks as energies (NetworkEnergy) against the NumPy reference (reference_nn.py)."""

import pickle

import numpy as np
import pytest

import ebm_swift
from architectures import uva_cnn
from ebm_swift import nn
from reference_nn import energy as reference_energy


def residual_net(activation=nn.SiLU):
    """A residual conv net with pooling, on 2 × 7 × 6 samples."""
    return nn.Sequential(
        nn.Conv2d(2, 4, (3, 2), stride=1, padding=(1, 1)), activation(),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), activation(), nn.Conv2d(4, 4, 1))),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 8), activation(), nn.Linear(8, 1),
    )


NETWORKS = [
    ("uva_cnn", uva_cnn, (1, 28, 28)),
    ("residual", residual_net, (2, 7, 6)),
    *[(f"residual_{a.__name__}", lambda a=a: residual_net(a), (2, 7, 6))
      for a in (nn.Tanh, nn.Softplus, nn.ELU, nn.GELU, nn.ReLU, nn.LeakyReLU)],
    ("residual_GELU_tanh", lambda: residual_net(lambda: nn.GELU("tanh")), (2, 7, 6)),
    ("mlp", lambda: nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)), (3,)),
]


def scale_of(values):
    return max(1.0, float(np.max(np.abs(values))))


# float32 against float64 as in test_energy.py: 1e-5 of the largest value for energies. Gradients
# against central differences of the float64 reference (h = 1e-4, truncation ~1e-8): 1e-4 of the
# largest entry, far below a real mistake (a wrong index or term is O(1e-1)).
@pytest.mark.parametrize("name,make,shape", NETWORKS, ids=[n[0] for n in NETWORKS])
def test_energy_and_gradients_match_numpy_reference(name, make, shape):
    rng = np.random.default_rng(3)
    energy = ebm_swift.NetworkEnergy(make(), shape, seed=1)
    params = {k: v.astype(np.float64) for k, v in energy.parameters().items()}
    x = rng.uniform(-1, 1, size=(3, *shape)).astype(np.float32).astype(np.float64)
    e = energy.energy(x)
    e_ref = reference_energy(energy.net, params, x)
    np.testing.assert_allclose(e, e_ref, rtol=0, atol=1e-5 * scale_of(e_ref))

    g = energy.grad_x(x)
    assert g.shape == x.shape
    flat = x.reshape(len(x), -1)
    for k in rng.choice(flat.shape[1], size=min(12, flat.shape[1]), replace=False):
        step = np.zeros_like(flat)
        step[:, k] = 1e-4
        fd = (reference_energy(energy.net, params, (flat + step).reshape(x.shape))
              - reference_energy(energy.net, params, (flat - step).reshape(x.shape))) / 2e-4
        np.testing.assert_allclose(g.reshape(len(x), -1)[:, k], fd, rtol=0, atol=1e-4 * scale_of(g), err_msg=f"x[{k}]")

    gp = energy.grad_params(x)
    assert list(gp) == list(params)
    for pname, value in params.items():
        for k in rng.choice(value.size, size=min(4, value.size), replace=False):
            plus, minus = dict(params), dict(params)
            delta = np.zeros(value.size)
            delta[k] = 1e-4
            plus[pname] = value + delta.reshape(value.shape)
            minus[pname] = value - delta.reshape(value.shape)
            fd = (reference_energy(energy.net, plus, x).mean() - reference_energy(energy.net, minus, x).mean()) / 2e-4
            np.testing.assert_allclose(gp[pname].ravel()[k], fd, rtol=0, atol=1e-4 * scale_of(gp[pname]),
                                       err_msg=f"{pname}[{k}]")


def test_parameter_names_and_shapes_are_torch_state_dict():
    energy = ebm_swift.NetworkEnergy(residual_net(), (2, 7, 6), seed=0)
    shapes = {k: v.shape for k, v in energy.parameters().items()}
    assert shapes == {
        "0.weight": (4, 2, 3, 2), "0.bias": (4,),
        "2.block.0.weight": (4, 4, 3, 3), "2.block.0.bias": (4,),
        "2.block.2.weight": (4, 4, 1, 1), "2.block.2.bias": (4,),
        "5.weight": (8, 36), "5.bias": (8,), "7.weight": (1, 8), "7.bias": (1,),
    }
    assert energy.num_parameters == sum(int(np.prod(s)) for s in shapes.values())


def test_initialisation_is_pytorch_default_and_seeded():
    a = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=5)
    b = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=5)
    c = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=6)
    pa, pb, pc = a.parameters(), b.parameters(), c.parameters()
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)
    assert not np.array_equal(pa["0.weight"], pc["0.weight"])
    fan_in = {"0": 25, "2": 144, "4": 288, "6": 576, "9": 256, "11": 64}
    for name, value in pa.items():
        bound = 1 / np.sqrt(fan_in[name.split(".")[0]])
        assert np.abs(value).max() <= bound, name
        if value.size >= 50:  # uniform on ±bound: the largest of 50 draws is above 0.8·bound but for 1e-5
            assert np.abs(value).max() > 0.8 * bound, name


def test_set_parameters_round_trip_and_errors():
    energy = ebm_swift.NetworkEnergy(residual_net(), (2, 7, 6), seed=0)
    x = np.random.default_rng(0).normal(size=(4, 2, 7, 6))
    params = {k: v * 0.5 for k, v in energy.parameters().items()}
    energy.set_parameters(params)
    np.testing.assert_allclose(energy.energy(x), reference_energy(energy.net, params, x), atol=1e-5)
    with pytest.raises(ValueError, match=r"missing \['7.bias'\]"):
        energy.set_parameters({k: v for k, v in params.items() if k != "7.bias"})
    with pytest.raises(ValueError, match=r"unexpected \['8.weight'\]"):
        energy.set_parameters({**params, "8.weight": np.zeros(1)})
    with pytest.raises(ValueError, match=r"params\['0.weight'\] must have shape \(4, 2, 3, 2\); got \(4, 2, 2, 3\)"):
        energy.set_parameters({**params, "0.weight": np.zeros((4, 2, 2, 3))})


def test_shapes_in_and_out():
    energy = ebm_swift.NetworkEnergy(residual_net(), (2, 7, 6), seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 7, 6))
    x_copy = x.copy()
    np.testing.assert_array_equal(energy.energy(x), energy.energy(x.reshape(5, -1)))
    assert energy.grad_x(x).shape == (5, 2, 7, 6) and energy.grad_x(x.reshape(5, -1)).shape == (5, 84)
    samples = ebm_swift.langevin(energy, x, 5, 0.01, seed=0)
    assert samples.shape == x.shape
    np.testing.assert_array_equal(samples.reshape(5, -1), ebm_swift.langevin(energy, x.reshape(5, -1), 5, 0.01, seed=0))
    mala_samples, info = ebm_swift.mala(energy, x, 5, 0.01, seed=0)
    assert mala_samples.shape == x.shape and info["acceptance_rate"].shape == (5,)
    np.testing.assert_array_equal(x, x_copy)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 2, 7, 6\) or \(n, 84\); got shape \(5, 2, 6, 7\)"):
        energy.energy(np.zeros((5, 2, 6, 7)))
    with pytest.raises(ValueError, match=r"x0 must have 84 columns"):
        ebm_swift.langevin(energy, np.zeros((5, 83)), 5, 0.01)


def test_sampling_is_identical_for_one_and_two_threads():
    energy = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=0)
    x = np.random.default_rng(2).uniform(-1, 1, size=(70, 1, 28, 28))
    before = ebm_swift.get_num_threads()
    try:
        ebm_swift.set_num_threads(1)
        one = ebm_swift.langevin(energy, x, 5, 1.0, noise_scale=0.005, clamp=(-1, 1), seed=3)
        ebm_swift.set_num_threads(2)
        two = ebm_swift.langevin(energy, x, 5, 1.0, noise_scale=0.005, clamp=(-1, 1), seed=3)
    finally:
        ebm_swift.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, x)


def test_pickle_round_trip():
    energy = ebm_swift.NetworkEnergy(residual_net(), (2, 7, 6), seed=0)
    x = np.random.default_rng(4).normal(size=(3, 2, 7, 6))
    copy = pickle.loads(pickle.dumps(energy))
    np.testing.assert_array_equal(copy.energy(x), energy.energy(x))
    assert copy.input_shape == (2, 7, 6)


@pytest.mark.parametrize("make,shape,message", [
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 1)), (1, 5, 5),
     r"layer 1: Linear\(in_features=4, out_features=1\) expects input of shape \(4,\) but receives \(4, 3, 3\)"),
    (lambda: nn.Sequential(nn.Conv2d(1, 4, 7), nn.Flatten(), nn.Linear(4, 1)), (1, 5, 5),
     r"layer 0: Conv2d\(1, 4, .*\) would have an empty output on input of shape \(1, 5, 5\)"),
    (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4, 1)), (1, 5, 5),
     r"layer 0: Conv2d\(3, 4, .*\) expects input of shape \(3, height, width\) but receives \(1, 5, 5\)"),
    (lambda: nn.Sequential(nn.Residual(nn.Linear(4, 3)), nn.Linear(3, 1)), (4,),
     r"layer 0: Residual needs a block that keeps the shape: input \(4,\), block output \(3,\)"),
    (lambda: nn.Sequential(nn.Linear(4, 2)), (4,), r"must end in one output per sample; layer 0 produces shape \(2,\)"),
    (lambda: nn.Sequential(nn.AvgPool2d(3), nn.Flatten(), nn.Linear(4, 1)), (1, 2, 2),
     r"layer 0: AvgPool2d.* would have an empty output"),
])
def test_inconsistent_networks_are_rejected(make, shape, message):
    with pytest.raises(ValueError, match=message):
        ebm_swift.NetworkEnergy(make(), shape)


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="in_features must be a positive int; got 0"):
        nn.Linear(0, 3)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair of ints; got 'a'"):
        nn.Conv2d(1, 2, "a")
    with pytest.raises(ValueError, match="padding ≥ 0"):
        nn.Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(ValueError, match="GELU approximate must be 'none' or 'tanh'; got 'erf'"):
        nn.GELU(approximate="erf")
    with pytest.raises(TypeError, match="Sequential layer 1 must be an ebm_swift.nn Module; got int"):
        nn.Sequential(nn.Linear(2, 2), 3)
    with pytest.raises(TypeError, match="net must be an ebm_swift.nn.Sequential; got Linear"):
        ebm_swift.NetworkEnergy(nn.Linear(2, 1), (2,))
    with pytest.raises(ValueError, match=r"input_shape\[1\] must be a positive integer; got 0"):
        ebm_swift.NetworkEnergy(nn.Sequential(nn.Flatten(), nn.Linear(1, 1)), (1, 0))


def test_summary_lists_layers_shapes_and_parameters():
    energy = ebm_swift.NetworkEnergy(uva_cnn(), (1, 28, 28), seed=0)
    text = energy.summary()
    assert "(16, 16, 16)" in text and "(64, 2, 2)" in text and "(256,)" in text
    assert f"{energy.num_parameters:,} parameters" in text
    assert energy.num_parameters == 76_993  # the UvA CNN's parameter count, as torch reports it


def small_images(n, seed):
    """8×8 one-channel images of a bright square at a random place on a dark background, in [−1, 1]."""
    rng = np.random.default_rng(seed)
    x = np.full((n, 1, 8, 8), -0.8)
    for img, (r, c) in zip(x, rng.integers(0, 5, size=(n, 2))):
        img[0, r:r + 4, c:c + 4] = 0.8
    return (x + 0.05 * rng.normal(size=x.shape)).clip(-1, 1)


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.SiLU(),
                         nn.Flatten(), nn.Linear(32, 16), nn.SiLU(), nn.Linear(16, 1))


auroc = ebm_swift.metrics.auroc  # P(a score of `lower` is below one of `higher`; ties half)


def test_trainer_trains_a_network_energy():
    """A conv energy trained with the image recipe (big Langevin steps, small noise, clamping) for
    8 epochs (under a second) gives held-out images lower energy than uniform noise and than the
    same images with their pixels shuffled (AUROC ≥ 0.99; measured 0.998–1.0 over seeds 0–2
    after 3–8 epochs, 0.70–0.83 after one); the buffer keeps the image shape."""
    energy = ebm_swift.NetworkEnergy(small_cnn(), (1, 8, 8), seed=0)
    trainer = ebm_swift.Trainer(energy, lr=1e-3, betas=(0.0, 0.999), alpha=0.1, n_steps=10, step_size=1.0,
                                noise_scale=0.005, clamp=(-1, 1), init_range=(-1, 1), buffer_size=512, seed=0)
    data, held_out = small_images(2000, 0), small_images(200, 1)
    rng = np.random.default_rng(3)
    noise = rng.uniform(-1, 1, size=held_out.shape)
    shuffled = np.stack([rng.permutation(img.ravel()).reshape(img.shape) for img in held_out])
    assert auroc(energy.energy(held_out), energy.energy(shuffled)) < 0.9  # untrained: no separation yet
    trainer.fit(data, epochs=8, batch_size=64, progress=False)
    assert auroc(energy.energy(held_out), energy.energy(noise)) >= 0.99
    assert auroc(energy.energy(held_out), energy.energy(shuffled)) >= 0.99
    assert trainer.buffer.shape == (512, 1, 8, 8)


def test_network_training_is_identical_for_one_and_two_threads():
    runs = []
    before = ebm_swift.get_num_threads()
    try:
        for threads in (1, 2):
            ebm_swift.set_num_threads(threads)
            energy = ebm_swift.NetworkEnergy(small_cnn(), (1, 8, 8), seed=0)
            trainer = ebm_swift.Trainer(energy, n_steps=5, step_size=1.0, noise_scale=0.005, clamp=(-1, 1),
                                        buffer_size=256, seed=1)
            for k in range(3):
                trainer.step(small_images(130, k))
            runs.append((energy.parameters(), trainer.buffer))
    finally:
        ebm_swift.set_num_threads(before)
    (p1, b1), (p2, b2) = runs
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)
    np.testing.assert_array_equal(b1, b2)


def test_save_load_network_energy_and_trainer_resume_exactly(tmp_path):
    energy = ebm_swift.NetworkEnergy(small_cnn(), (1, 8, 8), seed=0)
    trainer = ebm_swift.Trainer(energy, n_steps=5, step_size=1.0, noise_scale=0.005, clamp=(-1, 1),
                                buffer_size=128, seed=3)
    for k in range(2):
        trainer.step(small_images(64, k))
    ebm_swift.save(energy, tmp_path / "energy.npz")
    ebm_swift.save(trainer, tmp_path / "trainer.npz")
    loaded = ebm_swift.load(tmp_path / "energy.npz")
    x = small_images(10, 9)
    assert isinstance(loaded, ebm_swift.NetworkEnergy) and loaded.input_shape == (1, 8, 8)
    np.testing.assert_array_equal(loaded.energy(x), energy.energy(x))
    assert repr(loaded.net) == repr(energy.net)

    resumed = ebm_swift.load(tmp_path / "trainer.npz")
    pickled = pickle.loads(pickle.dumps(trainer))
    for t in (trainer, resumed, pickled):
        for k in range(2, 4):
            t.step(small_images(64, k))
    for other in (resumed, pickled):
        p, q = trainer.energy.parameters(), other.energy.parameters()
        assert all(np.array_equal(p[k], q[k]) for k in p)
        np.testing.assert_array_equal(other.buffer, trainer.buffer)


def test_a_file_whose_parameters_do_not_fit_its_network_is_rejected(tmp_path):
    import json

    energy = ebm_swift.NetworkEnergy(small_cnn(), (1, 8, 8), seed=0)
    ebm_swift.save(energy, tmp_path / "energy.npz")
    with np.load(tmp_path / "energy.npz") as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["net"]["layers"][5]["out_features"] = 17  # Linear(32, 17), Linear(16, 1): inconsistent
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"layer 7: Linear\(in_features=16, out_features=1\) expects input of shape "
                                         r"\(16,\) but receives \(17,\)"):
        ebm_swift.load(tmp_path / "bad.npz")
    meta["net"]["layers"][5]["out_features"] = 16
    meta["net"]["layers"][0]["out_channels"] = 4  # consistent, but not the saved parameters' architecture
    meta["net"]["layers"][2]["in_channels"] = 4
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(ValueError, match="the file's network has 881 parameters but the file holds 1209"):
        ebm_swift.load(tmp_path / "other.npz")


def test_module_configs_round_trip():
    net = residual_net(nn.LeakyReLU)
    rebuilt = nn.from_config(net.to_config())
    assert rebuilt.to_config() == net.to_config() and repr(rebuilt) == repr(net)
    with pytest.raises(ValueError, match="not an ebm_swift.nn module description"):
        nn.from_config({"type": "Dropout"})
    with pytest.raises(ValueError, match="bad arguments for Linear"):
        nn.from_config({"type": "Linear", "in_features": 2})


def test_version_1_files_still_load(tmp_path):
    """Files written by ebm_swift 0.1 (format version 1: MLP meta at the top, `model.params`)."""
    import json

    model = ebm_swift.MLPEnergy(2, (8,), seed=0)
    flat = np.concatenate([v.ravel() for v in model.parameters().values()])
    np.savez(tmp_path / "v1.npz", __format__=np.array("ebm_swift"), __version__=np.array(1),
             __kind__=np.array("MLPEnergy"),
             __meta__=np.array(json.dumps({"dim": 2, "hidden": [8], "activation": "swish"})), **{"model.params": flat})
    loaded = ebm_swift.load(tmp_path / "v1.npz")
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.energy(x), model.energy(x))


def test_estimator_with_a_network(tmp_path):
    X, held_out = small_images(1000, 0), small_images(100, 1)
    noise = np.random.default_rng(5).uniform(-1, 1, size=held_out.shape)
    est = ebm_swift.EnergyBasedModel(network=small_cnn(), epochs=6, batch_size=64, n_steps=10, step_size=1.0,
                                     noise_scale=0.005, clamp=(-1, 1), init_range=(-1, 1), lr=1e-3, buffer_size=512,
                                     random_state=0)
    assert est.fit(X) is est
    assert isinstance(est.model_, ebm_swift.NetworkEnergy) and est.model_.input_shape == (1, 8, 8)
    assert auroc(-est.score_samples(held_out), -est.score_samples(noise)) >= 0.99
    assert est.score_samples(held_out.reshape(100, -1)).shape == (100,)
    assert est.sample(3, n_steps=5, step_size=0.01, seed=0).shape == (3, 1, 8, 8)
    est.save(tmp_path / "est.npz")
    loaded = ebm_swift.load(tmp_path / "est.npz")
    np.testing.assert_array_equal(loaded.score_samples(held_out), est.score_samples(held_out))
    assert loaded.get_params()["network"].to_config() == est.network.to_config()
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.score_samples(held_out), est.score_samples(held_out))
    sklearn = pytest.importorskip("sklearn.base")
    assert sklearn.clone(est).network.to_config() == est.network.to_config()


@pytest.mark.parametrize("activation,layer", [("swish", nn.SiLU), ("tanh", nn.Tanh), ("gelu", lambda: nn.GELU("tanh"))])
def test_mlp_energy_is_the_same_network(activation, layer):
    """MLPEnergy is built on the network layers: the same architecture written with nn, given the
    same parameters (renamed layers.{i} -> {2i}), computes bit for bit the same energies, input
    gradients, parameter gradients and Langevin chains, in blocks of the same rows."""
    mlp = ebm_swift.MLPEnergy(2, (32, 32), activation, seed=4)
    net = ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(2, 32), layer(), nn.Linear(32, 32), layer(), nn.Linear(32, 1)),
                                  (2,), seed=0)
    rename = {f"layers.{i}.{kind}": f"{2 * i}.{kind}" for i in range(3) for kind in ("weight", "bias")}
    net.set_parameters({rename[k]: v for k, v in mlp.parameters().items()})
    x = np.random.default_rng(1).normal(size=(300, 2)).astype(np.float32)
    np.testing.assert_array_equal(mlp.energy(x), net.energy(x))
    np.testing.assert_array_equal(mlp.grad_x(x), net.grad_x(x))
    for k, v in mlp.grad_params(x).items():
        np.testing.assert_array_equal(v, net.grad_params(x)[rename[k]])
    np.testing.assert_array_equal(ebm_swift.langevin(mlp, x, 5, 0.01, seed=2), ebm_swift.langevin(net, x, 5, 0.01, seed=2))


def spectral_net():
    return nn.Sequential(nn.SpectralNorm(nn.Conv2d(2, 4, 3, padding=1)), nn.SiLU(), nn.Flatten(),
                         nn.spectral_norm(nn.Linear(4 * 7 * 6, 8)), nn.Tanh(), nn.Linear(8, 1))


def top_singular(weight):
    u, s, vt = np.linalg.svd(weight.reshape(len(weight), -1).astype(np.float64))
    return u[:, 0], s[0], vt[0]


def test_spectral_norm_names_are_torch_state_dict():
    energy = ebm_swift.NetworkEnergy(spectral_net(), (2, 7, 6), seed=0)
    # torch.nn.utils.spectral_norm renames weight to weight_orig and adds the buffers weight_u, weight_v.
    assert {k: v.shape for k, v in energy.state_dict().items()} == {
        "0.weight_orig": (4, 2, 3, 3), "0.bias": (4,), "0.weight_u": (4,), "0.weight_v": (18,),
        "3.weight_orig": (8, 168), "3.bias": (8,), "3.weight_u": (8,), "3.weight_v": (168,),
        "5.weight": (1, 8), "5.bias": (1,)}
    assert list(energy.parameters()) == ["0.weight_orig", "0.bias", "3.weight_orig", "3.bias", "5.weight", "5.bias"]
    for name in ("0", "3"):  # u and v start as unit vectors
        for b in ("weight_u", "weight_v"):
            assert np.linalg.norm(energy.buffers()[f"{name}.{b}"]) == pytest.approx(1, abs=1e-6)


def test_spectral_norm_energy_and_gradients_match_numpy_reference():
    """With u, v the top singular vectors (from NumPy's SVD), the layers compute with W / σ_max;
    gradients hold u, v fixed (PyTorch's convention) and match central differences of the
    reference with the same fixed vectors. Tolerances as the test above."""
    rng = np.random.default_rng(5)
    energy = ebm_swift.NetworkEnergy(spectral_net(), (2, 7, 6), seed=2)
    params = {k: v.astype(np.float64) for k, v in energy.parameters().items()}
    buffers = {}
    for name in ("0", "3"):
        u, _, v = top_singular(params[f"{name}.weight_orig"])
        buffers[f"{name}.weight_u"], buffers[f"{name}.weight_v"] = u, v
    energy.set_buffers(buffers)
    x = rng.uniform(-1, 1, size=(3, 2, 7, 6)).astype(np.float32).astype(np.float64)

    # Independent of the buffers: the weights divided by their largest singular value.
    direct = dict(params)
    for name in ("0", "3"):
        direct[f"{name}.weight"] = params[f"{name}.weight_orig"] / top_singular(params[f"{name}.weight_orig"])[1]
    plain = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.SiLU(), nn.Flatten(), nn.Linear(4 * 7 * 6, 8), nn.Tanh(),
                          nn.Linear(8, 1))
    e = energy.energy(x)
    np.testing.assert_allclose(e, reference_energy(plain, direct, x), rtol=0, atol=1e-5 * scale_of(e))

    state = {**params, **buffers}
    ref = lambda s, z: reference_energy(energy.net, s, z)  # noqa: E731
    g = energy.grad_x(x).reshape(3, -1)
    flat = x.reshape(3, -1)
    for k in rng.choice(flat.shape[1], size=12, replace=False):
        step = np.zeros_like(flat)
        step[:, k] = 1e-4
        fd = (ref(state, (flat + step).reshape(x.shape)) - ref(state, (flat - step).reshape(x.shape))) / 2e-4
        np.testing.assert_allclose(g[:, k], fd, rtol=0, atol=1e-4 * scale_of(g), err_msg=f"x[{k}]")
    gp = energy.grad_params(x)
    for pname, value in params.items():
        for k in rng.choice(value.size, size=min(6, value.size), replace=False):
            delta = np.zeros(value.size)
            delta[k] = 1e-4
            plus, minus = dict(state), dict(state)
            plus[pname] = value + delta.reshape(value.shape)
            minus[pname] = value - delta.reshape(value.shape)
            fd = (ref(plus, x).mean() - ref(minus, x).mean()) / 2e-4
            np.testing.assert_allclose(gp[pname].ravel()[k], fd, rtol=0, atol=1e-4 * scale_of(gp[pname]),
                                       err_msg=f"{pname}[{k}]")


def test_spectral_norm_power_iteration_once_per_training_step():
    """A trainer step starts with one power iteration from the stored u: v = normalise(Wᵀu),
    u = normalise(W v) (NumPy, float64, on the weights before the step); with many iterations u, v
    and σ converge to NumPy's top singular vectors and value."""
    normalise = lambda z: z / np.linalg.norm(z)  # noqa: E731
    data = np.random.default_rng(0).uniform(-1, 1, size=(16, 2, 7, 6)).astype(np.float32)
    energy = ebm_swift.NetworkEnergy(spectral_net(), (2, 7, 6), seed=3)
    before, u0 = energy.parameters(), energy.buffers()
    trainer = ebm_swift.Trainer(energy, lr=1e-3, n_steps=2, buffer_size=64, seed=0)
    trainer.step(data)
    for name in ("0", "3"):
        w = before[f"{name}.weight_orig"].reshape(len(before[f"{name}.weight_orig"]), -1).astype(np.float64)
        v = normalise(w.T @ u0[f"{name}.weight_u"])
        u = normalise(w @ v)
        np.testing.assert_allclose(energy.buffers()[f"{name}.weight_v"], v, atol=1e-5)
        np.testing.assert_allclose(energy.buffers()[f"{name}.weight_u"], u, atol=1e-5)

    many = ebm_swift.NetworkEnergy(nn.Sequential(nn.Flatten(), nn.SpectralNorm(nn.Linear(84, 8), n_power_iterations=200),
                                                 nn.Tanh(), nn.Linear(8, 1)), (2, 7, 6), seed=4)
    ebm_swift.Trainer(many, optimizer="sgd", lr=1e-12, n_steps=1, buffer_size=64, seed=0).step(data)
    u, s, v = top_singular(many.parameters()["1.weight_orig"])
    sign = np.sign(many.buffers()["1.weight_u"] @ u)
    np.testing.assert_allclose(many.buffers()["1.weight_u"], sign * u, atol=1e-4)
    np.testing.assert_allclose(many.buffers()["1.weight_v"], sign * v, atol=1e-4)


def test_spectral_norm_state_is_saved_pickled_and_resumed(tmp_path):
    data = np.random.default_rng(0).uniform(-1, 1, size=(16, 2, 7, 6)).astype(np.float32)
    energy = ebm_swift.NetworkEnergy(spectral_net(), (2, 7, 6), seed=3)
    trainer = ebm_swift.Trainer(energy, lr=1e-3, n_steps=2, buffer_size=64, seed=0)
    trainer.step(data)
    path = tmp_path / "sn.npz"
    ebm_swift.save(trainer, path)
    copy = pickle.loads(pickle.dumps(energy))
    for other in (ebm_swift.load(path).energy, copy):
        for k, v in energy.state_dict().items():
            np.testing.assert_array_equal(other.state_dict()[k], v)
        np.testing.assert_array_equal(other.energy(data), energy.energy(data))
    resumed = ebm_swift.load(path)
    trainer.step(data)
    resumed.step(data)
    for k, v in energy.state_dict().items():
        np.testing.assert_array_equal(resumed.energy.state_dict()[k], v)


def test_spectral_norm_bad_input():
    with pytest.raises(TypeError, match="SpectralNorm wraps an nn.Linear or nn.Conv2d; got SiLU"):
        nn.SpectralNorm(nn.SiLU())
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int; got 0"):
        nn.SpectralNorm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        nn.SpectralNorm(nn.Linear(2, 2), eps=0.0)
    energy = ebm_swift.NetworkEnergy(spectral_net(), (2, 7, 6), seed=0)
    buffers = energy.buffers()
    with pytest.raises(ValueError, match=r"buffers names do not match: missing \['0.weight_u'\]"):
        energy.set_buffers({k: v for k, v in buffers.items() if k != "0.weight_u"})
    with pytest.raises(ValueError, match=r"buffers\['0.weight_v'\] must have shape \(18,\); got \(17,\)"):
        energy.set_buffers({**buffers, "0.weight_v": np.ones(17)})
    with pytest.raises(ValueError, match=r"state names do not match: missing \[\], unexpected \['extra'\]"):
        energy.load_state_dict({**energy.state_dict(), "extra": np.ones(1)})
    assert all(np.array_equal(energy.buffers()[k], v) for k, v in buffers.items())  # unchanged


def test_ais_takes_image_energies_and_an_image_shaped_base_mean():
    energy = ebm_swift.NetworkEnergy(nn.Sequential(nn.Conv2d(1, 2, 3), nn.SiLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1)),
                                     (1, 6, 6), seed=0)
    mean = np.linspace(-0.5, 0.5, 36)
    flat = ebm_swift.ais_log_z(energy, n_chains=64, n_temps=20, base_mean=mean, seed=1)
    image = ebm_swift.ais_log_z(energy, n_chains=64, n_temps=20, base_mean=mean.reshape(1, 6, 6), seed=1)
    assert flat == image and np.isfinite(flat[0])
    with pytest.raises(ValueError, match=r"base_mean must be finite with shape \(1, 6, 6\) or \(36,\); got shape \(6, 6\)"):
        ebm_swift.ais_log_z(energy, base_mean=np.zeros((6, 6)))
