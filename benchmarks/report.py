"""Turn benchmarks/results_mlp.json (from `run.py mlp`, with or without `--blas-environments`)
into the markdown tables of benchmarks/RESULTS.md: `python benchmarks/report.py`."""

import json
import sys


def table(env):
    frameworks = list(next(iter(env["configs"].values())).keys())
    lines = ["| config | " + " | ".join(f"{f} langevin (chain-steps/s)" for f in frameworks)
             + " | " + " | ".join(f"{f} train (steps/s)" for f in frameworks)
             + " | ebm_swift GFLOP/s (roofline %) | ebm_swift / jax: langevin, train |",
             "|---" * (2 * len(frameworks) + 3) + "|"]
    for name, row in env["configs"].items():
        ours = row["ebm_swift"]
        cells = [f"{row[f]['langevin_chain_steps_per_s'] / 1e3:,.0f} k" for f in frameworks]
        cells += [f"{row[f]['train_steps_per_s']:.1f}" for f in frameworks]
        cells.append(f"{ours['langevin_gflops']:.0f} ({100 * ours['langevin_roofline_fraction']:.0f} %)")
        vs = (f"{ours['langevin_vs_jax']:.2f}×, {ours['train_vs_jax']:.2f}×" if "langevin_vs_jax" in ours else "—")
        cells.append(vs)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    scaling = env["scaling"]
    lines += ["", "Scaling at toy2d widths (chain-steps/s): " + ", ".join(
        f"B={b}: {v / 1e3:,.0f} k" for b, v in scaling["chain_steps_per_s"].items())
        + f"; one-step one-chain latency: `langevin` {scaling['one_step_one_chain_latency_us']:.1f} µs, "
        + (f"`Chains.run` {scaling['one_step_one_chain_chains_latency_us']:.1f} µs; "
           if "one_step_one_chain_chains_latency_us" in scaling else "")
        + f"sgemm roofline {env['sgemm_roofline_gflops']:.0f} GFLOP/s; peak RSS {env['peak_rss_mb']:.0f} MB."]
    memory = env.get("memory")
    if memory:
        lines[-1] += " Resident memory over {:,} more calls (toy2d widths, 256 chains): ".format(memory["calls"]) + "; ".join(
            f"{k} {v['rss_before_mb']:.1f} → {v['rss_after_mb']:.1f} MB" for k, v in memory.items() if k != "calls") + "."
    runtime = env.get("runtime")
    if runtime:
        lines += ["", f"ebm_swift's {runtime['isa']} build, OpenBLAS {runtime['blas_version']} core "
                  f"{runtime['blas_core']} ({runtime['blas_core_level']} kernels; the CPU runs {runtime['cpu_level']})."]
    return "\n".join(lines)


def title(label):
    if label in ("default", "without_coretype"):
        return "OPENBLAS_CORETYPE unset (a user's machine; headline)"
    if label.startswith("forced_"):
        return f"OPENBLAS_CORETYPE={label[len('forced_'):]} (the CPU's strongest core, forced by hand)"
    return "OPENBLAS_CORETYPE as set in the environment"


def main(path):
    with open(path) as f:
        results = json.load(f)
    if "configs" in results:  # one environment
        results = {"as_set" if results["environment"]["OPENBLAS_CORETYPE"] else "default": results}
    out = []
    for label, env in results.items():
        out += [f"### {title(label)}", "", table(env), ""]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results_mlp.json")
