"""The local stack stops on SIGTERM even when its parent blocked SIGTERM: a process inherits
its parent's blocked signals, and a test session that had run Playwright started ``make run``
with SIGTERM blocked, so the stack never heard the signal and outlived the test's 15 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.local_stack import NOT_INHERITED, READY_LINE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _with_sigterm_blocked() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def test_the_stack_stops_on_sigterm_though_its_parent_blocked_it() -> None:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.devstack", "--port", "0"],
        cwd=ROOT,
        env=env | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_with_sigterm_blocked,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 90
        for line in process.stdout:
            if READY_LINE in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
            pytest.fail("the stack did not stop on SIGTERM")
    assert process.returncode == 0
