"""Ctrl-C in the tests: a simulated SIGINT during a long native call."""

import _thread
import threading
import time

import pytest


def assert_ctrl_c_interrupts(call, after=0.3, within=30.0):
    """`call()` (meant to run for many minutes) raises KeyboardInterrupt when SIGINT arrives
    `after` seconds in, and returns within `within` seconds of that SIGINT.

    The one bound on time the tests keep, and on Ctrl-C latency only: the clock starts when the
    signal is sent, not when the call starts, so neither the call's set-up nor its speed is
    measured. It is generous: the library polls every ~50 ms of work, so 30 s leaves room for a
    heavily loaded machine while a call that ignored Ctrl-C (and ran to its end, minutes later)
    still fails."""
    sent = []

    def interrupt():
        sent.append(time.monotonic())
        _thread.interrupt_main()

    timer = threading.Timer(after, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        timer.cancel()
    latency = time.monotonic() - sent[0]
    assert latency < within, f"took {latency:.2f} s after Ctrl-C to return"
