"""Regression tests for the crashes and wrong results of issue 14's table that are fixed so far
(rows 1, 2, 3, 7, 8, 9, 12 and part of 13). Each reproducer that used to take the interpreter down runs
in a subprocess, so that a regression fails this test instead of ending the session."""

import gc
import json
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

import ebm_swift
from hangs import HANG_SECONDS
from reference import grad_params_of_mean


def run_isolated(code):
    """Runs `code` in a fresh interpreter; returns (exit code, stdout + stderr)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=HANG_SECONDS)
    return done.returncode, done.stdout + done.stderr


# Row 1 and part of row 13: sizes whose products overflow, or exceed the 2**31 - 1 the core supports.
@pytest.mark.parametrize("dim,hidden", [(2**62, (8,)), (2, (2**40, 2**40)), (2, (2**63 - 1,)), (2**63, (128, 128)),
                                        (2, (2**64,)), (2, (40_000, 60_000))])
def test_oversized_mlps_raise_value_error(dim, hidden):
    code = f"""
        import ebm_swift
        try:
            ebm_swift.MLPEnergy({dim}, hidden={hidden})
        except ValueError as exc:
            print("ValueError:", exc)
    """
    rc, out = run_isolated(code)
    assert rc == 0 and "ValueError:" in out and "2**31 - 1" in out, out


def test_oversized_networks_raise_value_error():
    nn = ebm_swift.nn
    with pytest.raises(ValueError, match=r"input_shape \(65536, 65536\) has 4294967296 elements"):
        ebm_swift.NetworkEnergy(nn.Sequential(nn.Flatten(), nn.Linear(2**32, 1)), (2**16, 2**16))
    with pytest.raises(ValueError, match="the network has 4295098369 parameters"):
        ebm_swift.NetworkEnergy(nn.Sequential(nn.Linear(2**16, 2**16), nn.Linear(2**16, 1)), (2**16,))
    with pytest.raises(ValueError, match=r"layer 0's output \(65536, 256, 256\)"):
        ebm_swift.NetworkEnergy(nn.Sequential(nn.Conv2d(1, 2**16, 1), nn.Flatten(), nn.Linear(2**32, 1)), (1, 256, 256))


# Row 2: a hostile file whose metadata claims a huge architecture.
@pytest.mark.parametrize("meta", [{"dim": 2**62, "hidden": [8], "activation": "swish"},
                                  {"dim": 2, "hidden": [2**40, 2**40], "activation": "swish"}])
def test_hostile_file_sizes_raise_value_error(tmp_path, meta):
    path = tmp_path / "hostile.npz"
    np.savez(path, __format__=np.array("ebm_swift"), __version__=np.array(2), __kind__=np.array("MLPEnergy"),
             __meta__=np.array(json.dumps(meta)), params=np.zeros(10, dtype=np.float32))
    rc, out = run_isolated(f"""
        import ebm_swift
        try:
            ebm_swift.load({str(path)!r})
        except ValueError as exc:
            print("ValueError:", exc)
    """)
    assert rc == 0 and "ValueError:" in out, out


# Row 3: one workspace for a whole batch. Evaluation now goes in chunks of 256 rows; two million
# rows of a 1024-wide network needed 32 GB of workspace before (SIGABRT), 25 MB now.
def test_a_huge_batch_is_evaluated_in_bounded_memory():
    rc, out = run_isolated("""
        import resource
        import numpy as np, ebm_swift
        m = ebm_swift.MLPEnergy(2, hidden=(1024,), seed=0)
        x = np.zeros((2_000_000, 2), dtype=np.float32)
        e = m.energy(x)
        g = m.grad_x(x[:300_000])
        one = m.energy(x[:1])[0]
        # Every row is the same point: equal to the one-row evaluation up to float32 rounding (the
        # BLAS may sum a 1-row and a 1024-row product in different orders).
        close = bool(np.allclose(e, one, rtol=1e-6, atol=1e-6)) and bool((g == g[0]).all())
        print("ok", close, e.shape, g.shape, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """)
    assert rc == 0 and out.startswith("ok True (2000000,) (300000, 2)"), out
    assert int(out.split()[-1]) < 2000, f"peak RSS {out.split()[-1]} MB"


def test_chunked_parameter_gradient_matches_the_reference():
    """grad_params over 2500 rows (three chunks of at most 1024) is the mean over all rows."""
    m = ebm_swift.MLPEnergy(3, hidden=(16, 8), activation="tanh", seed=1)
    x = np.random.default_rng(0).normal(size=(2500, 3)).astype(np.float32)
    ref = grad_params_of_mean(m.parameters(), "tanh", x)
    for name, value in m.grad_params(x).items():
        np.testing.assert_allclose(value, ref[name], rtol=0, atol=1e-5 * max(1.0, np.abs(ref[name]).max()), err_msg=name)


# Row 7: a callable energy's exception comes out of .energy() / .grad_x() itself.
def _grad(x):
    return np.zeros_like(x)


@pytest.mark.parametrize("fn,exc,match", [
    (lambda x: 1 / 0, ZeroDivisionError, "division by zero"),
    (lambda x: np.zeros(3), ValueError, r"energy_fn must return an array of shape \(5,\); got shape \(3,\)"),
    (lambda x: np.full(len(x), np.nan), ValueError, "energy_fn returned NaN or infinite values"),
    (lambda x: None, ValueError, r"energy_fn must return an array of shape \(5,\); got shape \(\)"),
])
def test_callable_energy_errors_propagate_from_the_call(fn, exc, match):
    energy = ebm_swift.CallableEnergy(fn, _grad, 2)
    x = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(exc, match=match):
        energy.energy(x)
    with pytest.raises(exc, match=match):
        energy.grad_x(x)
    # Nothing stays pending: the next callable energy works.
    good = ebm_swift.CallableEnergy(lambda z: (z**2).sum(1) / 2, lambda z: z, 2)
    np.testing.assert_array_equal(good.energy(np.ones((2, 2))), [1.0, 1.0])


def test_callable_gradient_errors_propagate_from_grad_x():
    energy = ebm_swift.CallableEnergy(lambda x: np.zeros(len(x)), lambda x: x[:, :1], 2)
    with pytest.raises(ValueError, match=r"grad_fn must return an array of shape \(4, 2\); got shape \(4, 1\)"):
        energy.grad_x(np.zeros((4, 2)))
    np.testing.assert_array_equal(energy.energy(np.zeros((4, 2))), np.zeros(4))


# Row 8: a CallableEnergy is garbage-collected (no cycle through the native capsule).
def test_callable_energy_is_collected():
    def f(x):
        return np.zeros(len(x))

    energy = ebm_swift.CallableEnergy(f, _grad, 2)
    energy.energy(np.zeros((3, 2)))
    ref = weakref.ref(energy)
    del energy
    gc.collect()
    assert ref() is None


# Row 9: Gaussians float32 cannot hold are refused at construction.
@pytest.mark.parametrize("make,match", [
    (lambda: ebm_swift.GaussianEnergy([0, 0], np.eye(2) * 1e-40), r"eigenvalues \(variances\) in \[1e-20, 1e\+20\]"),
    (lambda: ebm_swift.GaussianEnergy([1e300, 0], np.eye(2)), "mean must have entries of magnitude at most 1e"),
    (lambda: ebm_swift.GaussianEnergy([0, 0], [[1, 1 - 1e-12], [1 - 1e-12, 1]]), "too ill-conditioned for float32"),
    (lambda: ebm_swift.GaussianMixtureEnergy([[0, 0], [1, 1]], [np.eye(2), np.eye(2) * 1e-300], [0.5, 0.5]),
     r"covs\[1\] must have eigenvalues"),
])
def test_gaussians_out_of_float32_range_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_complex_gaussian_parameters_are_type_errors():
    with pytest.raises(TypeError, match="mean must be a real numeric array; got dtype complex128"):
        ebm_swift.GaussianEnergy([1j, 0], np.eye(2))
    # A legitimate, moderately conditioned Gaussian still works exactly.
    g = ebm_swift.GaussianEnergy([1.0, -2.0], [[4.0, 1.0], [1.0, 0.5]])
    x = np.array([[1.0, -2.0], [2.0, -1.0]], dtype=np.float32)
    d = x - [1.0, -2.0]
    expected = 0.5 * np.einsum("ni,ij,nj->n", d, np.linalg.inv([[4.0, 1.0], [1.0, 0.5]]), d)
    np.testing.assert_allclose(g.energy(x), expected, rtol=1e-5)


# Rest of row 3 and part of row 13: counts above what the core takes are ValueErrors up front.
@pytest.mark.parametrize("call,match", [
    (lambda: ebm_swift.Trainer(ebm_swift.MLPEnergy(2, seed=0), buffer_size=2**32 - 2),
     "buffer_size must be at most 2\\*\\*31 - 1; got 4294967294"),
    (lambda: ebm_swift.Trainer(ebm_swift.MLPEnergy(4, seed=0), buffer_size=2**30),
     r"buffer_size × dim = 4294967296 values; at most 2\*\*31 - 1"),
    (lambda: ebm_swift.ais_log_z(ebm_swift.DoubleWellEnergy(dim=10**5), n_chains=10**7, n_temps=1),
     r"n_chains × dim = 1000000000000 values"),
    (lambda: ebm_swift.set_num_threads(2**63), "n must be at most 1024; got 9223372036854775808"),
    (lambda: ebm_swift.DoubleWellEnergy(dim=2**70), r"dim must be at most 2\*\*31 - 1"),
    (lambda: ebm_swift.metrics.mmd(np.zeros((5, 2)), np.zeros((5, 2))), "bandwidth 0"),
])
def test_oversized_counts_and_degenerate_inputs_are_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# Row 12: a file's sizes are checked against its own architecture before anything is allocated.
def test_a_file_claiming_a_large_architecture_is_refused_before_allocating(tmp_path):
    import resource

    path = tmp_path / "large.npz"
    np.savez(path, __format__=np.array("ebm_swift"), __version__=np.array(2), __kind__=np.array("MLPEnergy"),
             __meta__=np.array(json.dumps({"dim": 2**25, "hidden": [15], "activation": "swish"})),
             params=np.zeros(10, dtype=np.float32))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    with pytest.raises(ValueError, match="has 503316511 parameters but the file holds 10"):
        ebm_swift.load(path)
    # The 503 M parameters (2 GB) were never allocated: the process's peak memory did not move.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 256 * 1024


# Rows 4, 5 and 6: locks and the GIL never wait on each other, signal handlers never run while a
# native call holds a lock, and writers are not starved. Each scenario hung for good before; each
# runs in a subprocess under the hang guard, so that a regression fails instead of hanging the suite.
LOCK_SETUP = """
    import os, pickle, signal, tempfile, threading, time
    import numpy as np, ebm_swift
    folder = tempfile.mkdtemp()
    m = ebm_swift.MLPEnergy(2, (256, 256), seed=0)
    t = ebm_swift.Trainer(m, n_steps=100, buffer_size=2048, seed=0,
                          lr_schedule=ebm_swift.schedules.ExponentialLR(0.999))
    x = np.random.default_rng(0).normal(size=(1024, 2)).astype(np.float32)
    t.step(x)
"""


def run_with_limit(body):
    """Runs a lock scenario in a fresh interpreter. A deadlock never ends, so the scenario fails by
    the tests' hang guard (`hangs.HANG_SECONDS`), never by how fast it runs: CI is loaded."""
    code = textwrap.dedent(LOCK_SETUP) + textwrap.dedent(body)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the scenario hung (no end after {HANG_SECONDS} s)")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out


def test_reading_a_trainer_while_another_thread_steps_it():
    out = run_with_limit("""
        def stepper():
            for _ in range(4):
                t.step(x)
        threads = [threading.Thread(target=stepper) for _ in range(2)]  # two steppers, lr_schedule
        for a in threads: a.start()
        reads = 0
        while any(a.is_alive() for a in threads):
            reads += t.n_iter >= 1
            pickle.loads(pickle.dumps(t))
            ebm_swift.save(t, os.path.join(folder, "t.npz"))
        for a in threads: a.join()
        assert t.n_iter == 9, t.n_iter
        print("reads", reads)
    """)
    assert int(out.split("reads")[1].split()[0]) >= 1


def test_signal_handlers_touching_the_trainer_or_model_during_native_calls():
    run_with_limit("""
        seen = []
        def checkpoint(signum, frame):
            seen.append(t.n_iter)
            ebm_swift.save(t, os.path.join(folder, "t.npz"))
            m.set_parameters(m.parameters())
        signal.signal(signal.SIGUSR1, checkpoint)
        def kicker():
            for _ in range(30):
                time.sleep(0.03)
                os.kill(os.getpid(), signal.SIGUSR1)
        k = threading.Thread(target=kicker); k.start()
        for _ in range(6):
            t.step(x)
        ebm_swift.langevin(m, x, 400, 1e-3, seed=0)
        k.join()
        for _ in range(3):
            t.step(x)  # the trainer's lock is intact
        assert seen and t.n_iter == 10, (seen, t.n_iter)
    """)


def test_set_parameters_is_not_starved_by_sampling_threads():
    """Two threads sample back to back (each call takes the model's read lock) while the main
    thread writes the parameters five times. A starved writer would wait until the samplers ran
    out of work; here each sampler has a budget of CAP calls and stops early once the writer is
    done, so the writes must all land while both samplers still have calls left. No clock is
    read: the proof is the order of events (the calls each sampler made before the writer
    finished), not how long anything took."""
    out = run_with_limit("""
        CAP = 5000
        writer_done = False
        calls = [0, 0]
        def sampler(i):
            while not writer_done and calls[i] < CAP:
                ebm_swift.langevin(m, x, 20, 1e-3, seed=0)
                calls[i] += 1
        threads = [threading.Thread(target=sampler, args=(i,)) for i in range(2)]
        for a in threads: a.start()
        while min(calls) < 2: time.sleep(0)   # both samplers are running
        p = m.parameters()
        for _ in range(5):
            m.set_parameters(p)
        at_write = list(calls)
        writer_done = True
        for a in threads: a.join()
        print("calls at the last write", at_write)
        assert max(at_write) < CAP, at_write   # the writes landed while the samplers still had work
    """)
    assert "calls at the last write" in out


# Row 10: Ctrl-C during fit, repeated, never leaves a completed step out of the history.
def test_repeated_ctrl_c_during_fit_keeps_history_and_step_count_equal():
    out = run_with_limit("""
        import _thread
        data = np.random.default_rng(1).normal(size=(4096, 2)).astype(np.float32)
        small = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (32, 32), seed=0), n_steps=5, buffer_size=256, seed=0)
        interrupts = 0
        for i in range(40):
            timer = threading.Timer(0.005 + 0.0017 * i, _thread.interrupt_main)
            timer.start()
            try:
                small.fit(data, epochs=100, batch_size=64, progress=False)
            except KeyboardInterrupt:
                interrupts += 1
            finally:
                timer.cancel()
            n = small.n_iter
            lengths = {len(v) for v in small.history.values()}
            assert lengths == {n}, (i, n, lengths)
        print("interrupts", interrupts, "steps", small.n_iter)
    """)
    assert int(out.split("interrupts")[1].split()[0]) >= 30, out


# Row 11: save keeps an existing file's mode, gives a new one the umask's, follows symbolic links
# and refuses read-only and non-regular files.
def test_save_keeps_modes_follows_links_and_refuses_read_only(tmp_path):
    import os
    import stat

    model = ebm_swift.MLPEnergy(2, (8,), seed=0)
    mode_of = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    shared = tmp_path / "shared.npz"
    shared.write_bytes(b"old")
    os.chmod(shared, 0o644)
    ebm_swift.save(model, shared)
    assert mode_of(shared) == 0o644 and ebm_swift.load(shared).num_parameters == model.num_parameters

    old = os.umask(0o027)
    try:
        ebm_swift.save(model, tmp_path / "new.npz")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "new.npz") == 0o640

    link = tmp_path / "link.npz"
    link.symlink_to(shared)
    ebm_swift.save(ebm_swift.MLPEnergy(2, (8,), seed=1), link)
    assert link.is_symlink() and np.array_equal(ebm_swift.load(shared).parameters()["layers.0.weight"],
                                                 ebm_swift.MLPEnergy(2, (8,), seed=1).parameters()["layers.0.weight"])

    read_only = tmp_path / "read_only.npz"
    ebm_swift.save(model, read_only)
    os.chmod(read_only, 0o444)
    before = read_only.read_bytes()
    with pytest.raises(PermissionError, match="is read-only"):
        ebm_swift.save(ebm_swift.MLPEnergy(2, (8,), seed=2), read_only)
    assert read_only.read_bytes() == before and mode_of(read_only) == 0o444
    with pytest.raises(ValueError, match="is not a regular file"):
        ebm_swift.save(model, tmp_path)


# Row 14: strict flags, no masked or time arrays.
@pytest.mark.parametrize("call,match", [
    (lambda m, x: ebm_swift.Trainer(m, persistent="no"), r"persistent must be True or False; got 'no' \(str\)"),
    (lambda m, x: ebm_swift.langevin(m, x, 2, 0.01, return_trajectory="no"), "return_trajectory must be True or False"),
    (lambda m, x: ebm_swift.mala(m, x, 2, 0.01, diagnostics=1), r"diagnostics must be True or False; got 1 \(int\)"),
    (lambda m, x: ebm_swift.langevin(m, x, 2, 0.01, progress=None), "progress must be True or False; got None"),
    (lambda m, x: ebm_swift.Trainer(m, buffer_size=64).fit(x, batch_size=2, progress=False, shuffle="yes"), "shuffle must be True"),
])
def test_flags_must_be_booleans(call, match):
    m, x = ebm_swift.MLPEnergy(2, (8,), seed=0), np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(TypeError, match=match):
        call(m, x)


def test_masked_and_time_arrays_are_refused():
    m = ebm_swift.MLPEnergy(2, (8,), seed=0)
    masked = np.ma.masked_array(np.zeros((3, 2)), mask=[[0, 1], [0, 0], [0, 0]])
    with pytest.raises(TypeError, match="x must not be a masked array"):
        m.energy(masked)
    with pytest.raises(TypeError, match="dtype timedelta64"):
        m.energy(np.zeros((3, 2), dtype="timedelta64[s]"))
    with pytest.raises(TypeError, match="mean must not be a masked array"):
        ebm_swift.GaussianEnergy(np.ma.masked_array([0.0, 0.0], mask=[1, 0]), np.eye(2))


# Rows 12 and 13: files that are not ebm_swift archives, damaged headers and corrupt trainer state
# are ValueErrors naming what is wrong; nothing corrupt loads silently.
def _saved_trainer(tmp_path):
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), buffer_size=32, n_steps=2, seed=0)
    trainer.step(np.zeros((8, 2), dtype=np.float32))
    path = tmp_path / "trainer.npz"
    ebm_swift.save(trainer, path)
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("mutate,match", [
    (lambda a, m: a.__setitem__("trainer.buffer", np.full_like(a["trainer.buffer"], np.nan)), "buffer holds NaN"),
    (lambda a, m: a.__setitem__("trainer.first_moment", np.full_like(a["trainer.first_moment"], np.inf)),
     "first_moment holds NaN or infinite"),
    (lambda a, m: a.__setitem__("trainer.buffer", a["trainer.buffer"].reshape(-1)), r"buffer must have shape \(32, 2\)"),
    (lambda a, m: a.__setitem__("trainer.permutation", np.zeros(32, dtype=np.int64)), "not a permutation"),
    (lambda a, m: a.__setitem__("trainer.history.loss", np.zeros(5)), "history lists must be 1-D and of equal length"),
    (lambda a, m: m["trainer"].__setitem__("step_count", 1.5), "step_count must be a non-negative integer .at most 2.53.; got 1.5"),
    (lambda a, m: m["trainer"].__setitem__("updates", -1), "updates must be a non-negative integer"),
])
def test_corrupt_trainer_state_is_refused(tmp_path, mutate, match):
    arrays = _saved_trainer(tmp_path)
    meta = json.loads(str(arrays["__meta__"]))
    mutate(arrays, meta)
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=match):
        ebm_swift.load(tmp_path / "bad.npz")


def test_foreign_files_and_damaged_headers_are_value_errors(tmp_path):
    import os

    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        ebm_swift.load(tmp_path / "array.npy")
    arrays = _saved_trainer(tmp_path)
    for name, change in (("no_version", lambda a: a.pop("__version__")), ("bad_json", lambda a: a.__setitem__(
            "__meta__", np.array("{not json"))), ("no_meta", lambda a: a.pop("__meta__"))):
        broken = dict(arrays)
        change(broken)
        np.savez(tmp_path / f"{name}.npz", **broken)
        with pytest.raises(ValueError, match="damaged header"):
            ebm_swift.load(tmp_path / f"{name}.npz")
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is not a regular file"):  # refused without blocking on the FIFO
        ebm_swift.load(fifo)


# Rest of row 13: arguments that used to fail with messages not naming them, or mid-training.
@pytest.mark.parametrize("call,exc,match", [
    (lambda: ebm_swift.BananaEnergy(curvature="x"), TypeError, r"curvature must be a real number; got 'x'"),
    (lambda: ebm_swift.ais_log_z(ebm_swift.GaussianEnergy([0, 0], np.eye(2)), base_mean="ab"), TypeError,
     "base_mean must be a real numeric array"),
    (lambda: ebm_swift.langevin(ebm_swift.GaussianEnergy([0, 0], np.eye(2)), np.zeros((2, 2)), 2, 1e-50), ValueError,
     r"step_size must be within float32's range"),
    (lambda: ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), lr=1e39), ValueError, "lr must be within float32"),
])
def test_arguments_are_named_in_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_a_schedule_that_underflows_float32_is_named_before_the_step():
    trainer = ebm_swift.Trainer(ebm_swift.MLPEnergy(2, (8,), seed=0), lr_schedule=ebm_swift.ExponentialLR(1e-30),
                                buffer_size=16, n_steps=1, seed=0)
    x = np.zeros((8, 2), dtype=np.float32)
    trainer.step(x)
    trainer.step(x)  # 1e-33: still a float32
    params = trainer.energy.parameters()
    with pytest.raises(ValueError, match=r"lr_schedule gave a learning rate of 1e-63 at step 2, which is 0"):
        trainer.step(x)
    assert trainer.n_iter == 2 and all(np.array_equal(v, trainer.energy.parameters()[k]) for k, v in params.items())


# Soak (bounded; `python benchmarks/soak.py --calls 10000` is the long run): every entry point called
# 2000 times after a warm-up, resident memory and open descriptors flat.
def test_soak_memory_and_descriptors_stay_flat():
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    done = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "soak.py"), "--calls", "2000"],
                          capture_output=True, text=True, timeout=HANG_SECONDS)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # Measured: +0.6 MB over 10 000 rounds (allocator caches). A leaked energy or workspace per round
    # (kilobytes each) would add several megabytes over 2000.
    assert report["after"]["rss_mb"] - report["before"]["rss_mb"] < 4.0, report
    assert report["after"]["fds"] == report["before"]["fds"], report
