"""The README's promise: ``make run``, then curl /health and POST /v1/contacts with the key."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.local_stack import drain, free_port, http_call

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_make_run_serves_the_api_and_stops_on_sigterm() -> None:
    port = free_port()
    env = os.environ | {"FLOWS_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    for name in ("FLOWS_DEV_API_KEY", "FLOWS_OPERATOR_KEY", "FLOWS_STAGE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    # Everything it prints is read, always (a full pipe would stall it), and shown on failure.
    printed: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=drain, args=(process.stdout, lines, printed), daemon=True).start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None or "local stack ready" in line:
                break
        output = "".join(printed)
        assert "local stack ready" in output, output
        key = next(line.split()[-1] for line in printed if "dev API key:" in line)
        operator = next(line.split()[-1] for line in printed if "operator key:" in line)
        base = f"http://127.0.0.1:{port}"

        assert http_call("GET", f"{base}/health") == (200, {"status": "ok"})
        status, contact = http_call(
            "POST", f"{base}/v1/contacts", key, {"email": "ada@example.com"}
        )
        assert status == 201, contact
        assert http_call("GET", f"{base}/v1/contacts/{contact['id']}", key) == (200, contact)
        assert http_call("GET", f"{base}/v1/contacts", "not-a-key")[0] == 401
        # The gateway's own answers are problems, as deployed (chalicelib/api/gateway.py).
        status, problem = http_call("GET", f"{base}/v1/nothing", key)
        assert (status, problem["status"], problem["title"]) == (404, 404, "Not Found")
        assert http_call("GET", f"{base}/v1/contacts")[1]["status"] == 401
        status, tenant = http_call("POST", f"{base}/v1/admin/tenants", operator, {"name": "Second"})
        assert status == 201, tenant
        assert http_call("GET", f"{base}/v1/contacts/{contact['id']}", tenant["api_key"])[0] == 404
        status, spec = http_call("GET", f"{base}/openapi.json")
        assert status == 200
        assert spec["openapi"].startswith("3.1")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        started = time.monotonic()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("make run did not stop within 15 s of SIGTERM:\n" + "".join(printed))
        stopped_in = time.monotonic() - started
    assert stopped_in < 6, f"took {stopped_in:.1f}s to stop:\n{''.join(printed)}"
