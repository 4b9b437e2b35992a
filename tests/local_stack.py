"""The local stack as a test fixture: ``python -m chalicelib.devstack`` (what ``make run``
starts) in a subprocess, on a free port, with its worker and scheduler threads.

``local_stack`` (session) gives ``base_url``, the dev tenant's admin ``api_key`` and
``tenant_id``, the ``operator_key`` and ``moto_url``, all read from what it prints, and
``call(method, path, body=None, key=...)`` to set things up through the API. One stack serves
the whole session (tests/conftest.py makes the fixture visible to every test directory): make
your own objects (unique names and emails, or a tenant of your own) rather than expect an empty
tenant. Stopped with SIGTERM at the end.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
READY_LINE = "local stack ready"
START_TIMEOUT_S = 90
PRINTED_KEY = re.compile(r"^\s*(dev API key|dev tenant|operator key|moto endpoint):\s+(\S+)")
# The parent test session's settings (tests/conftest.py) must not reach the stack.
NOT_INHERITED = (
    "FLOWS_DEV_API_KEY",
    "FLOWS_OPERATOR_KEY",
    "FLOWS_STAGE",
    "FLOWS_PUBLIC_BASE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)


@dataclass
class LocalStack:
    """A running local stack and what it printed."""

    base_url: str
    api_key: str
    tenant_id: str
    operator_key: str
    moto_url: str
    output: list[str] = field(default_factory=list, repr=False)

    def call(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        """(status, decoded JSON or None) of one API call, with the dev key unless ``key``."""
        return http_call(method, self.base_url + path, key or self.api_key, body)


def http_call(method: str, url: str, key: str | None = None, body: Any = None) -> tuple[int, Any]:
    """(status, decoded JSON or None) of one HTTP call with a JSON body, with ``key`` as the
    bearer key if given."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drain(stream: Any, lines: queue.Queue[str | None], kept: list[str]) -> None:
    # Read to the end, always: a full pipe would stall the stack's logging.
    for line in stream:
        kept.append(line)
        lines.put(line)
    lines.put(None)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The local stack as ``make run`` starts it, on a free port, for the whole session."""
    with started_stack() as running:
        yield running


@contextmanager
def started_stack() -> Iterator[LocalStack]:
    """A local stack of its own (``python -m chalicelib.devstack``) for the block: its moto
    holds only what the block makes."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env |= {"FLOWS_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.devstack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=drain, args=(process.stdout, lines, output), daemon=True).start()
    try:
        printed: dict[str, str] = {}
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {READY_LINE!r} in {START_TIMEOUT_S}s:\n{''.join(output)}")
            if line is None:
                pytest.fail(f"the local stack exited:\n{''.join(output)}")
            if match := PRINTED_KEY.match(line):
                printed[match.group(1)] = match.group(2)
            if READY_LINE in line:
                break
        yield LocalStack(
            base_url=f"http://127.0.0.1:{port}",
            api_key=printed["dev API key"],
            tenant_id=printed["dev tenant"],
            operator_key=printed["operator key"],
            moto_url=printed["moto endpoint"],
            output=output,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
