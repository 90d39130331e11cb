"""The UvA "Deep Energy Models" CNN on 28×28 images: ebm_swift against PyTorch eager and JAX jit
(`make bench` runs it after bench.py).

Network: Conv2d(1,16,5,2,4), Conv2d(16,32,3,2,1), Conv2d(32,64,3,2,1), Conv2d(64,64,3,2,1), each
followed by SiLU, Flatten, Linear(256,64), SiLU, Linear(64,1); the same seeded weights in every
framework (ebm_swift's parameter names are PyTorch's state_dict names). Batch 128, the tutorial's
sampler: x ← clamp(x − 10·clip(∇x E, ±0.03) + 0.005·ε, −1, 1).

- langevin: 128 chains × 100 steps → chain-steps/s;
- train: 128 negatives from an 8192-image persistent buffer (5 % re-initialised from U(−1, 1)),
  20 Langevin steps, written back; 128 data images; weight gradient of
  mean E(pos) − mean E(neg) + 0.1·(mean E(pos)² + mean E(neg)²); one Adam step (lr 1e-4,
  betas (0, 0.999)) → steps/s.

GFLOP/s count the network's multiply-adds (2 FLOPs each): a Langevin step is a forward and an
input-gradient pass (2 × forward); a training step adds a forward of both batches and their
weight and input gradients (3 × forward each; the weight gradient is counted as one more pass).

Each framework runs in a subprocess of its own; PyTorch twice, with 1 and with 2 threads, and the
better of the two is reported (the thread count is printed). Times: the median over 3 rounds of
the best of `--repeats` calls, after a warm-up (JIT compilation included there).
"""

import argparse
import importlib.util
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import run_child, save_json, tagged, timed  # noqa: E402

BATCH, LANGEVIN_STEPS, TRAIN_LANGEVIN_STEPS = 128, 100, 20
STEP, NOISE, GRAD_CLIP, CLAMP = 10.0, 0.005, 0.03, (-1.0, 1.0)
BUFFER, REINIT, ALPHA, LR, BETAS = 8192, 0.05, 0.1, 1e-4, (0.0, 0.999)
CONVS = [(1, 16, 5, 2, 4), (16, 32, 3, 2, 1), (32, 64, 3, 2, 1), (64, 64, 3, 2, 1)]  # in, out, k, stride, pad


def network():
    from ebm_swift import nn

    layers = []
    for c_in, c_out, k, s, p in CONVS:
        layers += [nn.Conv2d(c_in, c_out, k, stride=s, padding=p), nn.SiLU()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, 1))


def forward_flops():
    """FLOPs of one sample's forward pass (2 per multiply-add)."""
    size, macs = 28, 0
    for c_in, c_out, k, s, p in CONVS:
        size = (size + 2 * p - k) // s + 1
        macs += c_out * size * size * c_in * k * k
    return 2 * (macs + 256 * 64 + 64)


def weights(seed=0):
    import ebm_swift

    return {k: v.copy() for k, v in ebm_swift.NetworkEnergy(network(), (1, 28, 28), seed=seed).parameters().items()}


def inputs():
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, size=(BATCH, 1, 28, 28)).astype(np.float32)
    pos = np.clip(rng.normal(0, 0.5, size=(BATCH, 1, 28, 28)), -1, 1).astype(np.float32)
    return x0, pos


class EbmSwift:
    def __init__(self, params):
        import ebm_swift

        self.ebm = ebm_swift
        self.energy = ebm_swift.NetworkEnergy(network(), (1, 28, 28), seed=0)
        self.energy.set_parameters(params)
        self.trainer = ebm_swift.Trainer(self.energy, lr=LR, betas=BETAS, alpha=ALPHA, n_steps=TRAIN_LANGEVIN_STEPS,
                                         step_size=STEP, noise_scale=NOISE, grad_clip=GRAD_CLIP, clamp=CLAMP,
                                         buffer_size=BUFFER, reinit_prob=REINIT, init_range=CLAMP, seed=0)
        self.seed = 0

    def langevin(self, x, steps):
        self.seed += 1
        return self.ebm.langevin(self.energy, x, steps, STEP, noise_scale=NOISE, grad_clip=GRAD_CLIP, clamp=CLAMP,
                                 seed=self.seed)

    def train_step(self, pos):
        self.trainer.step(pos)


def torch_network(params):
    """The network in PyTorch, with `params` loaded (ebm_swift's names are its state_dict names)."""
    import torch

    layers = []
    for c_in, c_out, k, s, p in CONVS:
        layers += [torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p), torch.nn.SiLU()]
    net = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(256, 64), torch.nn.SiLU(),
                              torch.nn.Linear(64, 1))
    net.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    return net


def jax_energy(p, x):
    """The network in JAX: energies (n,) of images x (n, 1, 28, 28) for parameters `p` (by name)."""
    import jax

    for i, (_, _, _, s, pad) in enumerate(CONVS):
        x = jax.lax.conv_general_dilated(x, p[f"{2 * i}.weight"], (s, s), [(pad, pad), (pad, pad)],
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        x = jax.nn.silu(x + p[f"{2 * i}.bias"][None, :, None, None])
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.silu(x @ p["9.weight"].T + p["9.bias"])
    return (x @ p["11.weight"].T + p["11.bias"])[:, 0]


class Torch:
    def __init__(self, params, threads):
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.torch = torch
        self.net = torch_network(params)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR, betas=BETAS)
        self.buffer = torch.rand(BUFFER, 1, 28, 28) * 2 - 1

    def _langevin(self, x, steps):
        torch = self.torch
        for p in self.net.parameters():
            p.requires_grad_(False)
        for _ in range(steps):
            x = x.detach().requires_grad_(True)
            g, = torch.autograd.grad(self.net(x).sum(), x)
            x = (x - STEP * g.clamp(-GRAD_CLIP, GRAD_CLIP) + NOISE * torch.randn_like(x)).clamp(*CLAMP)
        for p in self.net.parameters():
            p.requires_grad_(True)
        return x.detach()

    def langevin(self, x, steps):
        return self._langevin(self.torch.from_numpy(x), steps)

    def train_step(self, pos):
        from peer_torch import persistent_step

        persistent_step(self.net, self.opt, self.buffer, self.torch.from_numpy(pos), self._langevin,
                        TRAIN_LANGEVIN_STEPS, REINIT, ALPHA)


class Jax:
    def __init__(self, params):
        import jax
        import jax.numpy as jnp

        self.jnp = jnp
        self.p = {k: jnp.asarray(v) for k, v in params.items()}
        self.key = jax.random.PRNGKey(0)
        self.buffer = jax.random.uniform(jax.random.PRNGKey(1), (BUFFER, 1, 28, 28), minval=-1, maxval=1)
        zeros = jax.tree_util.tree_map(jnp.zeros_like, self.p)
        self.opt = (zeros, zeros, 0)

        energy = jax_energy
        grad_x = jax.grad(lambda x, p: energy(p, x).sum())

        def langevin(p, x, key, steps):
            def body(_, carry):
                x, key = carry
                key, sub = jax.random.split(key)
                g = jnp.clip(grad_x(x, p), -GRAD_CLIP, GRAD_CLIP)
                return jnp.clip(x - STEP * g + NOISE * jax.random.normal(sub, x.shape), *CLAMP), key

            return jax.lax.fori_loop(0, steps, body, (x, key))

        from peer_jax import persistent_step

        train_step = persistent_step(energy, langevin, TRAIN_LANGEVIN_STEPS, BUFFER, REINIT, ALPHA, LR, BETAS)

        self._langevin = jax.jit(langevin, static_argnums=3)
        self._train = jax.jit(train_step)

    def langevin(self, x, steps):
        self.key, sub = __import__("jax").random.split(self.key)
        out, _ = self._langevin(self.p, self.jnp.asarray(x), sub, steps)
        return out.block_until_ready()

    def train_step(self, pos):
        self.p, self.opt, self.buffer, self.key = self._train(self.p, self.opt, self.buffer, self.jnp.asarray(pos),
                                                              self.key)
        self.buffer.block_until_ready()


def measure(name, threads, repeats):
    params = weights()
    x0, pos = inputs()
    peer = {"ebm_swift": lambda: EbmSwift(params), "torch": lambda: Torch(params, threads),
            "jax": lambda: Jax(params)}[name]()
    lang = timed(lambda: peer.langevin(x0, LANGEVIN_STEPS), repeats)
    train = timed(lambda: peer.train_step(pos), repeats)
    f = forward_flops()
    train_flops = BATCH * (TRAIN_LANGEVIN_STEPS * 2 * f + 2 * 3 * f)
    out = {"langevin_chain_steps_per_s": BATCH * LANGEVIN_STEPS / lang,
           "langevin_gflops": BATCH * LANGEVIN_STEPS * 2 * f / lang / 1e9,
           "train_steps_per_s": 1 / train, "train_gflops": train_flops / train / 1e9}
    return tagged(out, name, threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default="benchmarks/results_cnn.json")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        json.dump(measure(args.only, args.threads, args.repeats), sys.stdout)
        return

    def child(name, threads=1):
        return run_child(__file__, "--only", name, "--threads", threads, "--repeats", args.repeats)

    rows = {"ebm_swift": child("ebm_swift")}
    if importlib.util.find_spec("jax") is not None:
        rows["jax"] = child("jax")
    else:
        print("jax not installed: skipped (make bench installs it)", file=sys.stderr)
    if importlib.util.find_spec("torch") is not None:
        runs = [child("torch", t) for t in sorted({1, 2, os.cpu_count() or 1})]
        lang = max(runs, key=lambda r: r["langevin_chain_steps_per_s"])
        train = max(runs, key=lambda r: r["train_steps_per_s"])
        rows["torch"] = {"langevin_chain_steps_per_s": lang["langevin_chain_steps_per_s"],
                         "langevin_gflops": lang["langevin_gflops"], "train_steps_per_s": train["train_steps_per_s"],
                         "train_gflops": train["train_gflops"],
                         "threads": {"langevin": lang["threads"], "train": train["threads"]},
                         "by_threads": {str(r["threads"]): r for r in runs}}
    else:
        print("torch not installed: skipped (make bench installs it)", file=sys.stderr)
    mine = rows["ebm_swift"]
    rt = mine["runtime"]
    print(f"uva_cnn [ebm_swift {rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}, "
          f"{rt['threads']} threads]")
    for name, r in rows.items():
        extra = f" (threads {r['threads']})" if name == "torch" else ""
        print(f"  {name:9s} langevin {r['langevin_chain_steps_per_s'] / 1e3:7.2f} k chain-steps/s "
              f"({r['langevin_gflops']:5.1f} GFLOP/s), train {r['train_steps_per_s']:6.2f} steps/s "
              f"({r['train_gflops']:5.1f} GFLOP/s){extra}")
        if name != "ebm_swift":
            mine[f"langevin_vs_{name}"] = mine["langevin_chain_steps_per_s"] / r["langevin_chain_steps_per_s"]
            mine[f"train_vs_{name}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
            print(f"  ebm_swift / {name}: langevin {mine[f'langevin_vs_{name}']:.2f}x, "
                  f"train {mine[f'train_vs_{name}']:.2f}x")
    save_json(args.json, {"uva_cnn": rows, "forward_mflops_per_sample": forward_flops() / 1e6})


if __name__ == "__main__":
    main()
