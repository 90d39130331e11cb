"""The UvA "Deep Energy Models" CNN on 28×28 images: ebm_swift against PyTorch (eager and
`torch.compile`) and JAX `jit`.

Network: Conv2d(1,16,5,2,4), Conv2d(16,32,3,2,1), Conv2d(32,64,3,2,1), Conv2d(64,64,3,2,1), each
followed by SiLU, Flatten, Linear(256,64), SiLU, Linear(64,1); the same seeded weights in every
framework. Batch 128, the tutorial's sampler: x ← clamp(x − 10·clip(∇x E, ±0.03) + 0.005·ε, −1, 1).
- langevin: 128 chains × 100 steps → chain-steps/s;
- train: 128 negatives from an 8192-image persistent buffer (5 % re-initialised from U(−1, 1)),
  20 Langevin steps, written back; 128 data images; weight gradient of
  mean E(pos) − mean E(neg) + 0.1·(mean E(pos)² + mean E(neg)²); one Adam step (lr 1e-4,
  betas (0, 0.999)) → steps/s.

GFLOP/s count the network's multiply-adds (2 FLOPs each): a Langevin step is a forward and an
input-gradient pass (2 × forward); a training step adds a forward of both batches and their
weight and input gradients (3 × forward each). PyTorch runs with 1 and with 2 threads, and the
better of the two is reported (its thread count printed); ebm_swift and JAX use every core, their
default.
"""

from timing import best_threads, thread_counts, timed
from workloads import Langevin, Network, Training, image_batch, uniform_batch

CONVS = [(1, 16, 5, 2, 4), (16, 32, 3, 2, 1), (32, 64, 3, 2, 1), (64, 64, 3, 2, 1)]  # in, out, k, stride, pad
NETWORK = Network(tuple(layer for c in CONVS for layer in (("conv2d", *c), ("silu",)))
                  + (("flatten",), ("linear", 256, 64), ("silu",), ("linear", 64, 1)), (1, 28, 28))
BATCH, LANGEVIN_STEPS = 128, 100
LANGEVIN = Langevin(step_size=10.0, noise_scale=0.005, grad_clip=0.03, clamp=(-1.0, 1.0))
TRAINING = Training(n_steps=20, buffer_size=8192, reinit=0.05, alpha=0.1, lr=1e-4, betas=(0.0, 0.999))
PEERS = ("ebm_swift", "jax", "torch", "torch_compile")


def measure(peer, repeats, threads=None):
    from peers import load, options

    module = load(peer)
    sampler = module.Sampler(NETWORK, NETWORK.weights(), LANGEVIN, TRAINING, threads=threads, **options(peer))
    x0, pos = uniform_batch((BATCH, *NETWORK.input_shape), 1), image_batch((BATCH, *NETWORK.input_shape), 2)
    lang = timed(lambda: sampler.langevin(x0, LANGEVIN_STEPS), repeats)
    train = timed(lambda: sampler.train_step(pos), repeats)
    f = NETWORK.forward_flops()
    train_flops = BATCH * (TRAINING.n_steps * 2 * f + 2 * 3 * f)
    return {"langevin_chain_steps_per_s": BATCH * LANGEVIN_STEPS / lang,
            "langevin_gflops": BATCH * LANGEVIN_STEPS * 2 * f / lang / 1e9,
            "train_steps_per_s": 1 / train, "train_gflops": train_flops / train / 1e9,
            "runtime": module.runtime(threads)}


def run(child, args):
    from peers import available

    rows = {}
    for name in available(args.peers or PEERS):
        if name.startswith("torch"):
            runs = [child(name, repeats=args.repeats, threads=t) for t in thread_counts()]
            lang, train = best_threads(runs, "langevin_chain_steps_per_s"), best_threads(runs, "train_steps_per_s")
            rows[name] = {"langevin_chain_steps_per_s": lang["langevin_chain_steps_per_s"],
                          "langevin_gflops": lang["langevin_gflops"], "train_steps_per_s": train["train_steps_per_s"],
                          "train_gflops": train["train_gflops"],
                          "threads": {"langevin": lang["runtime"]["threads"], "train": train["runtime"]["threads"]},
                          "by_threads": {str(r["runtime"]["threads"]): r for r in runs}}
        else:
            rows[name] = child(name, repeats=args.repeats)
    mine = rows["ebm_swift"]
    rt = mine["runtime"]
    print(f"uva_cnn [ebm_swift {rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}, "
          f"{rt['threads']} threads]")
    for name, r in rows.items():
        extra = f" (threads {r['threads']})" if name.startswith("torch") else ""
        print(f"  {name:13s} langevin {r['langevin_chain_steps_per_s'] / 1e3:7.2f} k chain-steps/s "
              f"({r['langevin_gflops']:5.1f} GFLOP/s), train {r['train_steps_per_s']:6.2f} steps/s "
              f"({r['train_gflops']:5.1f} GFLOP/s){extra}")
        if name != "ebm_swift":
            mine[f"langevin_vs_{name}"] = mine["langevin_chain_steps_per_s"] / r["langevin_chain_steps_per_s"]
            mine[f"train_vs_{name}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
            print(f"  ebm_swift / {name}: langevin {mine[f'langevin_vs_{name}']:.2f}x, "
                  f"train {mine[f'train_vs_{name}']:.2f}x")
    return {"uva_cnn": rows, "forward_mflops_per_sample": NETWORK.forward_flops() / 1e6}
