"""Ctrl-C in the tests: a simulated SIGINT during a long native call."""

import _thread
import threading
import time

import pytest


def assert_ctrl_c_interrupts(call, after=0.3, within=30.0):
    """`call()` (meant to run for many minutes) raises KeyboardInterrupt when SIGINT arrives
    `after` seconds in, and returns within `within` seconds of its start.

    The one bound on time the tests keep, and a generous one: the library polls every ~50 ms of
    work, so 30 s leaves room for a heavily loaded machine while a call that ignored Ctrl-C (and
    ran to its end, minutes later) still fails."""
    timer = threading.Timer(after, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - start
    assert elapsed < within, f"took {elapsed:.2f} s to react to Ctrl-C"
