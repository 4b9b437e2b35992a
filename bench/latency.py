"""Trigger latency (issue 8 item 4): from a tracked-link click or a form post to the first step
of the flow it triggers having run, on the local stack, p50/p95/p99 over 1,000 events.

Method: the local stack of ``make run`` (``chalicelib.devstack.start``: moto's HTTP server, the
app served by chalice's local server, the queue worker long-polling the steps queue when idle,
exactly as ``make run`` runs them) in this process. Two running flows: one triggered by a
tracked link, one by a form, each starting with an update_contact step. Each event is one real
HTTP request to the stack (``GET /l/{token}`` or ``POST /f/{form}`` with JSON), sent one after
the other; its latency is wall time from just before the request to the moment the worker's
run of the participant's first step message (seq 1) returned, which is recorded by wrapping
``worker.run_step``. Events alternate clicks and form posts. Queues are drained as they go.
The trend line compares the first and the last tenth of the events (a cost that grows with the
tables shows there) and gives the process's peak memory.

    .venv/bin/python -m bench.latency [--events 1000] [--port 0]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import socket
import statistics
import time
import urllib.error
import urllib.request
from typing import Any

TARGET_P95_S = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, key: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    # Only ever the local stack's own http url (S310: no file: or custom schemes here).
    request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 302 is the answer; the link's url is not ours to load


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("FLOWS_STAGE", "latency")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from chalicelib import devstack

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every call

    stack = devstack.start("127.0.0.1", args.port or _free_port())
    from chalicelib.engine import worker
    from chalicelib.store import participants as store

    done: dict[str, float] = {}
    real_run_step = worker.run_step

    def timed_run_step(message: dict[str, Any], *, receive_count: int = 1) -> None:
        real_run_step(message, receive_count=receive_count)
        if message.get("seq") == 1:
            done.setdefault(message["participant"], time.perf_counter())

    worker.run_step = timed_run_step
    base, key = stack.base_url, stack.api_key
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        link = _call(base, key, "POST", "/v1/links", {"url": "https://example.com/offer"})["id"]
        form = _call(base, key, "POST", "/v1/forms", {"name": "Signup"})["id"]
        step = {"id": "tag", "type": "update_contact", "settings": {"updates": [
            {"field": "interests", "action": "add", "value": "Clicked"}]}}  # fmt: skip
        flows = {}
        for kind, trigger in (("click", {"type": "link_clicked", "link_id": link}),
                              ("form", {"type": "form_submitted", "form_id": form})):  # fmt: skip
            flow = _call(base, key, "POST", "/v1/flows",
                         {"name": kind, "steps": [step], "triggers": [trigger]})  # fmt: skip
            _call(base, key, "POST", f"/v1/flows/{flow['id']}/start")
            flows[kind] = flow["id"]
        latencies: dict[str, list[float]] = {"click": [], "form": []}
        order: list[float] = []  # every event's latency, in the order they were sent
        answered: dict[str, list[float]] = {"click": [], "form": []}
        started = time.perf_counter()
        for n in range(args.events):
            kind = "click" if n % 2 == 0 else "form"
            if kind == "click":
                contact = _call(base, key, "POST", "/v1/contacts", {"first_name": f"C{n}"})["id"]
                url = _call(base, key, "GET", f"/v1/links/{link}/url?contact_id={contact}")["url"]
                request = urllib.request.Request(url)  # noqa: S310
            else:
                body = json.dumps({"email": f"f{n}@latency.example.com"}).encode()
                request = urllib.request.Request(  # noqa: S310
                    f"{base}/f/{form}", data=body, headers={"Content-Type": "application/json"}
                )
            t0 = time.perf_counter()
            try:
                opener.open(request, timeout=30).read()
            except urllib.error.HTTPError as error:  # the 302 of a click
                if error.code != 302:
                    raise
            t1 = time.perf_counter()
            if kind == "form":
                contact = store_contact(f"f{n}@latency.example.com", stack.tenant_id)
            [p] = store.of_contact(stack.tenant_id, contact, flows[kind])
            deadline = time.perf_counter() + 30
            while p.participant_id not in done:
                if time.perf_counter() > deadline:
                    raise AssertionError(f"event {n}: the first step never ran")
                time.sleep(0.001)
            latencies[kind].append(done[p.participant_id] - t0)
            order.append(done[p.participant_id] - t0)
            answered[kind].append(t1 - t0)
        elapsed = time.perf_counter() - started
    finally:
        worker.run_step = real_run_step
        stack.stop()
    every = latencies["click"] + latencies["form"]
    figures = {
        "p50": percentile(every, 0.50),
        "p95": percentile(every, 0.95),
        "p99": percentile(every, 0.99),
        "max": max(every),
        "mean": statistics.fmean(every),
    }
    print(f"trigger latency, local stack (worker polls every {devstack.POLL_IDLE_S}s when idle),"
          f" {len(every)} events ({len(latencies['click'])} clicks, "
          f"{len(latencies['form'])} form posts) in {elapsed:.1f} s")  # fmt: skip
    for kind, values in latencies.items():
        print(f"  {kind:5}  p50 {percentile(values, 0.5) * 1000:6.0f} ms   "
              f"p95 {percentile(values, 0.95) * 1000:6.0f} ms   "
              f"p99 {percentile(values, 0.99) * 1000:6.0f} ms   (the request itself: p50 "
              f"{percentile(answered[kind], 0.5) * 1000:.0f} ms)")  # fmt: skip
    tenth = max(1, len(order) // 10)
    first, last = order[:tenth], order[-tenth:]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"  trend  first {len(first)} events p50 {percentile(first, 0.5) * 1000:.0f} ms, "
          f"last {len(last)} p50 {percentile(last, 0.5) * 1000:.0f} ms; "
          f"peak memory {peak_mb} MB")  # fmt: skip
    verdict = "meets" if figures["p95"] < TARGET_P95_S else "MISSES"
    print(f"  all    p50 {figures['p50'] * 1000:6.0f} ms   p95 {figures['p95'] * 1000:6.0f} ms   "
          f"p99 {figures['p99'] * 1000:6.0f} ms   max {figures['max'] * 1000:.0f} ms "
          f"({verdict} the target p95 < {TARGET_P95_S:.0f} s)")  # fmt: skip
    return figures


def store_contact(email: str, tenant_id: str) -> str:
    from chalicelib.store import records

    found = records.find_unique(tenant_id, "contact", "email", email)
    assert found is not None, email
    return found


if __name__ == "__main__":
    main()
