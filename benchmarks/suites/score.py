"""Score-matching training steps: ebm_swift against PyTorch eager and JAX `jit`.

Objectives, one Adam step (lr 1e-3) on a batch each:
- dsm: x̃ = x + σε (σ = 0.1), loss ½ mean ‖ε − σ ∇x E(x̃)‖²;
- ssm: one Rademacher direction v per row, loss mean(−vᵀ ∇x²E v + ½ ⟨∇x E, v⟩²).
Both differentiate ∇x E once more with respect to the weights: PyTorch by double backward, JAX by
`jax.grad` of a loss holding `jax.grad` (SSM: `jax.jvp` of the gradient), ebm_swift with its jets.

Networks and batches: toy2d, MLP 2 → 128 → 128 → 1 (SiLU), 256 rows; digits8x8, 64 → 256 → 256 →
1, 128 rows; uva_cnn, the CNN of the cnn suite, 128 rows. PyTorch with 1 and 2 threads, the better
reported.
"""


from suites import cnn
from timing import best_threads, thread_counts, timed
from workloads import image_batch, mlp

CASES = {"toy2d": (mlp(2, 128), 256), "digits8x8": (mlp(64, 256), 128), "uva_cnn": (cnn.NETWORK, 128)}
SIGMA, LR = 0.1, 1e-3
OBJECTIVES = ("dsm", "ssm")
PEERS = ("ebm_swift", "jax", "torch")


def measure(peer, case, objective, repeats, threads=None):
    from peers import load

    module = load(peer)
    network, batch = CASES[case]
    trainer = module.ScoreTrainer(network, network.weights(), objective, SIGMA, LR, threads=threads)
    x = image_batch((batch, *network.input_shape), 1)
    return {"train_steps_per_s": 1 / timed(lambda: trainer.step(x), repeats), "runtime": module.runtime(threads)}


def run(child, args):
    from peers import available

    peers = available(args.peers or PEERS)
    results = {}
    for case in CASES:
        for objective in OBJECTIVES:
            rows = {}
            for name in peers:
                threads = thread_counts() if name == "torch" else [None]
                runs = [child(name, case=case, objective=objective, repeats=args.repeats, threads=t) for t in threads]
                rows[name] = best_threads(runs, "train_steps_per_s")
            mine, rt = rows["ebm_swift"], rows["ebm_swift"]["runtime"]
            line = (f"{case:10s} {objective}  ebm_swift {mine['train_steps_per_s']:8.1f} steps/s "
                    f"[{rt['isa']} build, OpenBLAS {rt['blas_version']} core {rt['blas_core']}, {rt['threads']} threads]")
            for name in peers[1:]:
                r = rows[name]
                mine[f"vs_{name}"] = mine["train_steps_per_s"] / r["train_steps_per_s"]
                extra = f", {r['runtime']['threads']} threads" if name == "torch" else ""
                line += f" | {name} {r['train_steps_per_s']:8.1f}{extra} ({mine[f'vs_{name}']:.2f}x)"
            print(line, flush=True)
            results[f"{case}/{objective}"] = rows
    return results
