"""The fuzz tests' child runs: a script that prints "EXAMPLE …" before each example and
"OUTCOMES {json}" at the end runs in a fresh interpreter; an abort fails naming the last example."""

import json
import subprocess
import sys

from hangs import HANG_SECONDS


def run_examples(code, examples):
    """Runs `code`; returns its outcome counts, which must add up to `examples`."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_SECONDS)
    lines = done.stdout.strip().splitlines()
    last = [line for line in lines if line.startswith("EXAMPLE")][-1:] or ["(none)"]
    assert done.returncode == 0, f"exit {done.returncode} at {last[0][:500]}\n{done.stderr[-3000:]}"
    outcomes = json.loads(lines[-1].split(" ", 1)[1])
    assert sum(outcomes.values()) == examples, outcomes
    return outcomes
