"""Random network architectures with huge and degenerate shapes, built and evaluated under a
4 GiB address-space limit (``RLIMIT_AS``): each example either works or raises ``ValueError`` /
``MemoryError`` — the interpreter never aborts.

Before issue 23's fixes, allocations the inputs sized (a convolution's index tables, network
workspaces, classifier heads) went through Swift's own allocator, which aborts the process when
memory is refused. The examples run in one subprocess, each printed before it runs, so an abort
fails this test naming the architecture. `EBM_SWIFT_FUZZ_EXAMPLES` sets the count (the default run
takes 200; `EBM_SWIFT_FUZZ_EXAMPLES=2000` is the long profile, figures in docs/safety.md)."""

import os
import textwrap

from fuzz_child import run_examples

EXAMPLES = int(os.environ.get("EBM_SWIFT_FUZZ_EXAMPLES", "200"))
LIMIT = 4 << 30

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    import numpy as np
    import ebm_swift
    nn = ebm_swift.nn

    SIDES = [1, 2, 3, 7, 64, 1000, 46001, 2**16, 2**20, 2**28, 2**31 - 1, 2**31, 2**40]

    def side(rng, small=False):
        return int(rng.choice(SIDES[:5] if small else SIDES))

    def architecture(rng):
        # (layers, input shape, classes): shapes chained so most examples are valid networks,
        # with huge sides, kernels, paddings, widths and class counts mixed in.
        classes = int(rng.choice([0, 0, 0, 2, 2**20, 2**28, 2**31 - 1]))
        layers = []
        if rng.random() < 0.6:
            shape = (int(rng.choice([1, 2, 3])), side(rng, rng.random() < 0.8), side(rng, rng.random() < 0.8))
            current = shape
            for _ in range(int(rng.integers(1, 4))):
                kind = rng.integers(0, 4)
                if kind == 3:
                    module = nn.AvgPool2d(side(rng, rng.random() < 0.9))
                else:
                    conv = nn.Conv2d(current[0], side(rng, rng.random() < 0.8), side(rng, rng.random() < 0.9),
                                     stride=side(rng, True), padding=side(rng, rng.random() < 0.8) - 1)
                    module = nn.SpectralNorm(conv) if kind == 2 else conv
                current = module.output_shape(current)
                layers.append(module)
            layers.append(nn.Flatten())
            width = int(np.prod(current, dtype=object))
        else:
            shape = side(rng, rng.random() < 0.6)
            width = shape
            for _ in range(int(rng.integers(0, 3))):
                out = side(rng, rng.random() < 0.7)
                layers += [nn.Linear(width, out), nn.SiLU()]
                width = out
        layers.append(nn.Linear(width, classes or 1))
        return layers, shape, classes

    outcomes = {{"ok": 0, "ValueError": 0, "MemoryError": 0, "TypeError": 0}}
    for example in range({examples}):
        rng = np.random.default_rng(example)
        try:
            layers, shape, classes = architecture(rng)
        except (ValueError, TypeError) as exc:  # the Python modules' own checks
            outcomes[type(exc).__name__] += 1
            continue
        print("EXAMPLE", example, repr(layers), shape, classes, flush=True)
        try:
            energy = ebm_swift.NetworkEnergy(nn.Sequential(*layers), shape, n_classes=classes or None, seed=0)
            x = np.zeros((int(rng.choice([1, 2, 64])), *energy.input_shape), np.float32)
            energy.energy(x)
            energy.grad_x(x)
            outcomes["ok"] += 1
        except (ValueError, MemoryError, TypeError) as exc:
            outcomes[type(exc).__name__] += 1
    print("OUTCOMES", json.dumps(outcomes), flush=True)
    """
)


def test_no_architecture_aborts_the_interpreter():
    code = CHILD.format(limit=LIMIT, examples=EXAMPLES)
    outcomes = run_examples(code, EXAMPLES)
    # The generator must reach all three: working networks, refused ones, and allocations refused.
    assert outcomes["ok"] > 0 and outcomes["ValueError"] > 0, outcomes
