"""Ctrl-C in the tests: a simulated SIGINT during a long native call."""

import _thread
import threading
import time

import pytest


def assert_ctrl_c_interrupts(call, after=0.3, within=3.0):
    """`call()` (meant to run for much longer) raises KeyboardInterrupt when SIGINT arrives
    `after` seconds in, and returns within `within` seconds of its start."""
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
