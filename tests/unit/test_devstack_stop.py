"""``make run`` leaves within its deadline after SIGTERM even when a part of the stack never
stops (chalice's server joins its request threads without a deadline)."""

from __future__ import annotations

import threading
import time

from chalicelib.devstack import shut_down


class _StuckStack:
    def __init__(self) -> None:
        self.release = threading.Event()

    def stop(self) -> float:
        self.release.wait(30)  # a request thread that never ends
        return 30.0


class _QuickStack:
    def stop(self) -> float:
        return 0.1


def test_shutting_down_a_stuck_stack_gives_up_at_the_deadline() -> None:
    stuck = _StuckStack()
    started = time.monotonic()
    try:
        assert shut_down(stuck, deadline_s=0.5) is False
        assert time.monotonic() - started < 2
    finally:
        stuck.release.set()


def test_shutting_down_a_stack_that_stops_says_so() -> None:
    assert shut_down(_QuickStack(), deadline_s=2) is True
