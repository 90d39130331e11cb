"""Score-matching training steps: ebm_swift against PyTorch eager and JAX jit, same run (`make bench`).

Objectives (issue 12), one Adam step (lr 1e-3) on a batch each:
- dsm: x̃ = x + σε (σ = 0.1), loss ½ mean ‖ε − σ ∇x E(x̃)‖²;
- ssm: one Rademacher direction v per row, loss mean(−vᵀ ∇x²E v + ½ ⟨∇x E, v⟩²).
Both differentiate ∇x E once more with respect to the weights: PyTorch with
`autograd.grad(create_graph=True)` (double backward; SSM's Hessian-vector product by a second
`autograd.grad`), JAX with `jax.grad` of a loss holding `jax.grad` (SSM: `jax.jvp` of the gradient,
forward over reverse), jit-compiled; ebm_swift with its jets (`Trainer(objective=...)`).

Networks and batches: toy2d, MLP 2 → 128 → 128 → 1 (SiLU), 256 rows; digits8x8, 64 → 256 → 256 →
1, 128 rows; uva_cnn, the UvA CNN of bench_cnn.py on 28×28 images, 128 rows. The same seeded
weights in every framework. Each framework runs in a subprocess of its own (PyTorch with 1 and 2
threads, the better reported); times are the median over 3 rounds of the best of `--repeats`
steps, after a warm-up (JIT compilation included there).
"""

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_cnn  # noqa: E402
from timing import run_child, save_json, tagged, timed  # noqa: E402
from workload import weights as mlp_weights  # noqa: E402

CASES = {"toy2d": (2, 128, 256), "digits8x8": (64, 256, 128), "uva_cnn": (None, None, 128)}
SIGMA, LR = 0.1, 1e-3
OBJECTIVES = ("dsm", "ssm")


def case_weights(case):
    if case == "uva_cnn":
        return bench_cnn.weights()
    d, h, _ = CASES[case]
    return mlp_weights(d, h)


def case_batch(case):
    d, _, b = CASES[case]
    shape = (b, 1, 28, 28) if case == "uva_cnn" else (b, d)
    return np.clip(np.random.default_rng(1).normal(0, 0.5, size=shape), -1, 1).astype(np.float32)


class EbmSwift:
    def __init__(self, case, objective, params, threads):
        import ebm_swift

        if case == "uva_cnn":
            energy = ebm_swift.NetworkEnergy(bench_cnn.network(), (1, 28, 28), seed=0)
        else:
            d, h, _ = CASES[case]
            energy = ebm_swift.MLPEnergy(d, (h, h), "swish", seed=0)
        energy.set_parameters(params)
        extra = dict(sigma=SIGMA) if objective == "dsm" else {}
        self.trainer = ebm_swift.Trainer(energy, objective=objective, lr=LR, seed=0, **extra)

    def step(self, x):
        self.trainer.step(x)


class Torch:
    def __init__(self, case, objective, params, threads):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch, self.objective = torch, objective
        if case == "uva_cnn":
            self.net = bench_cnn.torch_network(params)
        else:
            d, h, _ = CASES[case]
            self.net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.SiLU(), torch.nn.Linear(h, h),
                                           torch.nn.SiLU(), torch.nn.Linear(h, 1))
            self.net.load_state_dict({f"{2 * i}.{k}": torch.from_numpy(params[f"layers.{i}.{k}"])
                                      for i in range(3) for k in ("weight", "bias")})
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR)

    def step(self, x):
        torch = self.torch
        x = torch.from_numpy(x)
        if self.objective == "dsm":
            eps = torch.randn_like(x)
            xt = (x + SIGMA * eps).requires_grad_(True)
            g, = torch.autograd.grad(self.net(xt).sum(), xt, create_graph=True)
            loss = 0.5 * ((eps - SIGMA * g) ** 2).flatten(1).sum(1).mean()
        else:
            x = x.requires_grad_(True)
            v = torch.randint(0, 2, x.shape, dtype=x.dtype) * 2 - 1
            g, = torch.autograd.grad(self.net(x).sum(), x, create_graph=True)
            gv = (g * v).flatten(1).sum(1)
            hv, = torch.autograd.grad(gv.sum(), x, create_graph=True)
            loss = (-(hv * v).flatten(1).sum(1) + 0.5 * gv**2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


class Jax:
    def __init__(self, case, objective, params, threads):
        import jax
        import jax.numpy as jnp

        self.jnp = jnp
        self.p = {k: jnp.asarray(v) for k, v in params.items()}
        zeros = jax.tree_util.tree_map(jnp.zeros_like, self.p)
        self.opt = (zeros, zeros, 0)
        self.key = jax.random.PRNGKey(0)
        if case == "uva_cnn":
            energy = bench_cnn.jax_energy
        else:
            def energy(p, x):
                a = jax.nn.silu(x @ p["layers.0.weight"].T + p["layers.0.bias"])
                a = jax.nn.silu(a @ p["layers.1.weight"].T + p["layers.1.bias"])
                return (a @ p["layers.2.weight"].T + p["layers.2.bias"])[:, 0]
        axes = tuple(range(1, len(case_batch(case).shape)))

        def dsm(p, x, key):
            eps = jax.random.normal(key, x.shape)
            xt = x + SIGMA * eps
            g = jax.grad(lambda z: energy(p, z).sum())(xt)
            return 0.5 * jnp.mean(jnp.sum((eps - SIGMA * g) ** 2, axis=axes))

        def ssm(p, x, key):
            v = jax.random.rademacher(key, x.shape, dtype=x.dtype)
            score = jax.grad(lambda z: energy(p, z).sum())
            g, hv = jax.jvp(score, (x,), (v,))
            gv = jnp.sum(g * v, axis=axes)
            return jnp.mean(-jnp.sum(hv * v, axis=axes) + 0.5 * gv**2)

        loss = dsm if objective == "dsm" else ssm

        def train(p, opt, x, key):
            key, sub = jax.random.split(key)
            g = jax.grad(loss)(p, x, sub)
            m, v, t = opt
            t = t + 1
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            p = jax.tree_util.tree_map(
                lambda p, m, v: p - LR * (m / (1 - 0.9**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8), p, m, v)
            return p, (m, v, t), key

        self._train = jax.jit(train)

    def step(self, x):
        self.p, self.opt, self.key = self._train(self.p, self.opt, self.jnp.asarray(x), self.key)
        self.key.block_until_ready()


def measure(name, case, objective, threads, repeats):
    peer = {"ebm_swift": EbmSwift, "torch": Torch, "jax": Jax}[name](case, objective, case_weights(case), threads)
    x = case_batch(case)
    out = {"train_steps_per_s": 1 / timed(lambda: peer.step(x), repeats)}
    return tagged(out, name, threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default="benchmarks/results_score.json")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--objective", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        json.dump(measure(args.only, args.case, args.objective, args.threads, args.repeats), sys.stdout)
        return

    def child(name, case, objective, threads=1):
        return run_child(__file__, "--only", name, "--case", case, "--objective", objective, "--threads", threads,
                         "--repeats", args.repeats)

    peers = [p for p in ("torch", "jax") if importlib.util.find_spec(p) is not None]
    for p in {"torch", "jax"} - set(peers):
        print(f"{p} not installed: skipped (make bench installs it)", file=sys.stderr)
    results = {}
    for case in args.cases.split(","):
        for objective in OBJECTIVES:
            rows = {"ebm_swift": child("ebm_swift", case, objective)}
            if "jax" in peers:
                rows["jax"] = child("jax", case, objective)
            if "torch" in peers:
                runs = [child("torch", case, objective, t) for t in sorted({1, 2, os.cpu_count() or 1})]
                rows["torch"] = max(runs, key=lambda r: r["train_steps_per_s"])
            mine, rt = rows["ebm_swift"], rows["ebm_swift"]["runtime"]
            line = (f"{case:10s} {objective}  ebm_swift {mine['train_steps_per_s']:8.1f} steps/s "
                    f"[{rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}, {rt['threads']} threads]")
            for peer in peers:
                r = rows[peer]
                mine[f"vs_{peer}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
                extra = f", {r['threads']} threads" if peer == "torch" else ""
                line += f" | {peer} {r['train_steps_per_s']:8.1f}{extra} ({mine[f'vs_{peer}']:.2f}x)"
            print(line, flush=True)
            results[f"{case}/{objective}"] = rows
    save_json(args.json, results)


if __name__ == "__main__":
    main()
