"""Valgrind memcheck over a pytest subset (`make memcheck`): no error and no definite leak may have
an ebm_swift frame (the Swift core, the shim, the CPU probe).

CPython, glibc's loader and NumPy produce records of their own under memcheck (uninitialised
reads in the allocator, interpreter-lifetime allocations); the script counts them apart and fails
only on records whose stack passes through ebm_swift. Valgrind does not run AVX-512, so the core's
AVX2 build and OpenBLAS's Haswell kernels are forced; `PYTHONMALLOC=malloc` lets memcheck see
every Python allocation. Memcheck runs the threads one at a time and each instruction some 50×
slower: the subset takes about twenty minutes on a 2-core machine.
"""

import os
import re
import subprocess
import sys

TESTS = ["python/tests/energies/test_energy.py", "python/tests/samplers/test_hmc.py", "python/tests/nn/test_nn.py",
         "python/tests/nn/test_second_order.py", "python/tests/training/test_jem.py",
         "python/tests/safety/test_hostile_inputs.py"]
# The statistical tests sample 10⁴–10⁵ chains, and the reference comparisons and training runs
# loop in Python: hours under memcheck, and no native path the remaining tests miss (the jets,
# classifier energies and JEM steps run in the chunking, closed-form, conditional-sampling, resume
# and argument tests).
# The trainer's learning test (250 steps of a CNN, more than half an hour under memcheck) takes the
# paths of the networks' thread-identity and resume tests. Two file tests of the hostile inputs
# spend 20 s in Python's zlib over gigabytes of zeros, reaching no native code of ours.
DESELECT = "not trains_a_network_energy and not adaptation_reaches and not diagonal_mass and not 10d " \
           "and not three_component and not banana " \
           "and not ais_with and not layer_gradients_match and not learns_fashion_mnist and not classifier_and_a_density " \
           "and not class_conditional_buffer and not second_order_derivatives_match " \
           "and not unused_member_is_never_decompressed and not compressed_history_of_millions"
OURS = re.compile(r"libebm_swift|_native\.cpython|_cpu\.cpython|EBMCore|EBMSwift")
KINDS = ("Invalid", "Use of uninitialised", "Conditional jump", "Syscall param", "Mismatched", "Source and destination")


def records(lines):
    current = []
    for line in lines:
        match = re.match(r"==\d+== ?(.*)", line)
        if not match:
            continue
        if match.group(1).strip():
            current.append(match.group(1))
        elif current:
            yield current
            current = []
    if current:
        yield current


def main():
    env = dict(os.environ, PYTHONMALLOC="malloc", EBM_SWIFT_ISA="avx2", OPENBLAS_CORETYPE="Haswell",
               EBM_SWIFT_NUM_THREADS="2")
    command = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite", sys.executable, "-m", "pytest", "-q",
               "-p", "no:cacheprovider", *TESTS, "-k", DESELECT]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = (done.stdout + done.stderr).splitlines()
    summary = [line for line in lines if re.search(r"passed|failed", line) and not line.startswith("==")]
    counts, ours = {"errors": 0, "definite leaks": 0}, []
    for record in records(lines):
        head = record[0]
        kind = "definite leaks" if "definitely lost in loss record" in head else \
            "errors" if head.startswith(KINDS) else None
        if kind is None:
            continue
        counts[kind] += 1
        if any(OURS.search(frame) for frame in record):
            ours.append(record)
    print(summary[-1] if summary else "pytest did not report")
    print(f"memcheck records: {counts['errors']} errors and {counts['definite leaks']} definite leaks in all; "
          f"{len(ours)} with an ebm_swift frame")
    for record in ours:
        print("\n".join(record[:30]), "\n")
    failed = not summary or "failed" in summary[-1] or "passed" not in summary[-1]
    return 1 if ours or failed else 0


if __name__ == "__main__":
    sys.exit(main())
