"""The README's promise: ``make run``, then curl /health and POST /v1/contacts with the key."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(method: str, url: str, key: str | None = None, body: Any = None) -> tuple[int, Any]:
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


def test_make_run_serves_the_api_and_stops_on_sigterm() -> None:
    port = _free_port()
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
    try:
        printed: list[str] = []
        deadline = time.monotonic() + 90
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            if "local stack ready" in line:
                break
        output = "".join(printed)
        assert "local stack ready" in output, output
        key = next(line.split()[-1] for line in printed if "dev API key:" in line)
        operator = next(line.split()[-1] for line in printed if "operator key:" in line)
        base = f"http://127.0.0.1:{port}"

        assert _call("GET", f"{base}/health") == (200, {"status": "ok"})
        status, contact = _call("POST", f"{base}/v1/contacts", key, {"email": "ada@example.com"})
        assert status == 201, contact
        assert _call("GET", f"{base}/v1/contacts/{contact['id']}", key) == (200, contact)
        assert _call("GET", f"{base}/v1/contacts", "not-a-key")[0] == 401
        # The gateway's own answers are problems, as deployed (chalicelib/api/gateway.py).
        status, problem = _call("GET", f"{base}/v1/nothing", key)
        assert (status, problem["status"], problem["title"]) == (404, 404, "Not Found")
        assert _call("GET", f"{base}/v1/contacts")[1]["status"] == 401
        status, tenant = _call("POST", f"{base}/v1/admin/tenants", operator, {"name": "Second"})
        assert status == 201, tenant
        assert _call("GET", f"{base}/v1/contacts/{contact['id']}", tenant["api_key"])[0] == 404
        status, spec = _call("GET", f"{base}/openapi.json")
        assert status == 200
        assert spec["openapi"].startswith("3.1")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        started = time.monotonic()
        process.wait(timeout=15)
        stopped_in = time.monotonic() - started
    assert stopped_in < 5, f"took {stopped_in:.1f}s to stop"
