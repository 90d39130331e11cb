"""Mutated files through `load`, under a 4 GiB address-space limit: bit flips in the archive's
bytes, members swapped for other dtypes, inflated or truncated, configuration fields replaced by
other types or huge values. Each either loads — and then evaluates finite energies — or raises
``ValueError``, ``TypeError`` or ``MemoryError``: no abort, no hang, no silent NaN (finite
parameters far out, 1e30, may give ±inf energies, as documented for float32).

`EBM_SWIFT_FUZZ_EXAMPLES` mutations per saved kind (a network with spectral norms, a trainer),
200 by default; `EBM_SWIFT_FUZZ_EXAMPLES=2000` is the long profile (figures in docs/safety.md).
All mutations of a kind run in one subprocess, each named before it runs."""

import os
import textwrap

import pytest

from fuzz_child import run_examples

EXAMPLES = int(os.environ.get("EBM_SWIFT_FUZZ_EXAMPLES", "200"))
LIMIT = 4 << 30

CHILD = textwrap.dedent(
    """
    import io, json, resource, zipfile
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    import numpy as np
    import ebm_swift
    nn = ebm_swift.nn

    def original(kind, folder):
        energy = ebm_swift.NetworkEnergy(nn.Sequential(nn.SpectralNorm(nn.Conv2d(1, 2, 3)), nn.SiLU(), nn.Flatten(),
                                                       nn.Linear(8, 1)), (1, 4, 4), seed=0)
        obj = energy
        if kind == "trainer":
            obj = ebm_swift.Trainer(energy, buffer_size=32, n_steps=2, seed=0)
            obj.step(np.zeros((8, 1, 4, 4), np.float32))
        path = folder + "/original.npz"
        ebm_swift.save(obj, path)
        with np.load(path) as f:
            return path, {{k: f[k] for k in f.files}}

    VALUES = [None, True, -1, 0, 2**31, 2**63 - 1, 1e308, float("nan"), "x", [], {{}}, [1, 2], {{"kind": "x"}}]

    def mutate_config(meta, rng):
        # Replace one field somewhere in the metadata by another type or a huge value.
        paths, stack = [], [((), meta)]
        while stack:
            path, node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
            for k, v in items:
                paths.append(path + (k,))
                stack.append((path + (k,), v))
        target = paths[int(rng.integers(len(paths)))]
        node = meta
        for k in target[:-1]:
            node = node[k]
        node[target[-1]] = VALUES[int(rng.integers(len(VALUES)))]
        return "config " + "/".join(map(str, target))

    def mutate_member(arrays, rng):
        key = sorted(k for k in arrays if not k.startswith("__"))[int(rng.integers(len(arrays) - 4))]
        a = arrays[key]
        choice = int(rng.integers(6))
        if choice == 0:
            arrays[key] = a.astype(rng.choice([np.float16, np.float64, np.int8, np.int64, np.uint8, np.bool_,
                                               np.complex64, "U4", "datetime64[s]"]))
        elif choice == 1:
            arrays[key] = np.concatenate([a.ravel(), np.zeros(int(rng.integers(1, 10**6)), a.dtype)])
        elif choice == 2:
            arrays[key] = a.ravel()[: int(rng.integers(0, max(1, a.size)))]
        elif choice == 3:
            arrays[key] = np.full_like(a, rng.choice([np.nan, np.inf, 0, 1e30, -1]) if a.dtype.kind == "f" else -1)
        elif choice == 4:
            arrays[key] = a.reshape(-1, 1) if a.ndim == 1 else a.ravel()
        else:
            del arrays[key]
        return f"member {{key}} ({{choice}})"

    def flip_bits(raw, rng):
        data = bytearray(raw)
        for _ in range(int(rng.integers(1, 8))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
        return bytes(data)

    import tempfile
    folder = tempfile.mkdtemp()
    path, arrays0 = original("{kind}", folder)
    raw0 = open(path, "rb").read()
    x = np.random.default_rng(0).normal(size=(3, 1, 4, 4)).astype(np.float32)
    outcomes = {{"loaded": 0, "ValueError": 0, "TypeError": 0, "MemoryError": 0}}
    for example in range({examples}):
        rng = np.random.default_rng(example)
        kind = int(rng.integers(3))
        target = folder + "/mutated.npz"
        if kind == 0:
            what = "bit flips"
            open(target, "wb").write(flip_bits(raw0, rng))
        else:
            arrays = dict(arrays0)
            meta = json.loads(str(arrays["__meta__"]))
            what = mutate_config(meta, rng) if kind == 1 else mutate_member(arrays, rng)
            arrays["__meta__"] = np.array(json.dumps(meta))
            np.savez(target, **arrays)
        print("EXAMPLE", example, what, flush=True)
        try:
            loaded = ebm_swift.load(target)
        except (ValueError, TypeError, MemoryError) as exc:
            outcomes[type(exc).__name__] += 1
            continue
        energy = getattr(loaded, "energy", loaded)
        energy = energy if hasattr(energy, "input_shape") else loaded
        values = energy.energy(x)
        # Finite parameters may give ±inf beyond float32's range (documented), never NaN.
        assert not np.isnan(values).any(), f"example {{example}} ({{what}}) loaded and gives {{values}}"
        outcomes["loaded"] += 1
    print("OUTCOMES", json.dumps(outcomes), flush=True)
    """
)


@pytest.mark.parametrize("kind", ["network", "trainer"])
def test_mutated_files_load_cleanly_or_are_refused(kind):
    code = CHILD.format(limit=LIMIT, examples=EXAMPLES, kind=kind)
    outcomes = run_examples(code, EXAMPLES)
    assert outcomes["ValueError"] > 0, outcomes  # the mutations must reach the checks
