"""The one time-out of the tests' subprocesses, threads and kernels: a hang guard, not a speed bound.

A deadlock or an ignored stop never ends; a slow machine only takes longer. Every wait in the
tests is therefore bounded by this one figure, far above any run on a loaded machine (the longest
guarded call takes minutes), so that it can only fail a call that would never have returned —
and fails it with a message, before CI's own 90-minute limit would kill the run."""

HANG_SECONDS = 1800
