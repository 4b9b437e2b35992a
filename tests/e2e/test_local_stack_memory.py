"""The local stack keeps no copies of what moto hands out (issue 8: ``bench.latency`` hung).

moto (5.2) appends every model object it makes to a class-level list for its dashboard, so a
long-running ``make run`` kept every SQS message copy a ReceiveMessage returned and every
table copy a transaction made for its rollback: ~2.5 MB a request, until Python's full garbage
collections over it stopped the whole stack for longer than a request's timeout. moto's own
dashboard (``/moto-api/data.json``) lists those objects: after some form posts and their steps,
it must list exactly the live tables and no message once the queues are empty.

Also here, on the same stack: the stack's request log names paths without their query (an email
address can be in one).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.local_stack import LocalStack, started_stack

EVENTS = 12
pytestmark = pytest.mark.e2e


def _call(method: str, url: str, key: str | None = None, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _moto_objects(moto_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=30) as response:
        return dict(json.loads(response.read()))


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """A local stack of this module's own: its moto holds only what these tests make."""
    with started_stack() as running:
        yield running


def test_the_local_stack_keeps_no_copies_of_moto_objects(stack: LocalStack) -> None:
    base, key, moto_url = stack.base_url, stack.api_key, stack.moto_url
    form = _call("POST", f"{base}/v1/forms", key, {"name": "Signup"})["id"]
    step = {"id": "tag", "type": "update_contact", "settings": {"updates": [
        {"field": "interests", "action": "add", "value": "Signed up"}]}}  # fmt: skip
    flow = _call("POST", f"{base}/v1/flows", key, {"name": "On signup", "steps": [step],
                 "triggers": [{"type": "form_submitted", "form_id": form}]})  # fmt: skip
    _call("POST", f"{base}/v1/flows/{flow['id']}/start", key)
    for n in range(EVENTS):
        _call("POST", f"{base}/f/{form}", body={"email": f"p{n}@memory.example.com"})

    # Each post enrolled a participant whose step message the stack's worker received, ran
    # and deleted: no message is left, and moto's dashboard must list none.
    deadline = time.monotonic() + 60
    while True:
        path = f"{base}/v1/flows/{flow['id']}/participants?status=finished&limit=100"
        done = len(_call("GET", path, key)["items"])
        messages = _moto_objects(moto_url)["sqs"].get("Message", [])
        if (done == EVENTS and not messages) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert done == EVENTS
    assert len(messages) == 0, f"{len(messages)} SQS messages kept after {EVENTS} events"

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    tables = dynamodb.list_tables()["TableNames"]
    listed = _moto_objects(moto_url)["dynamodb"]["Table"]
    assert sorted(t["name"] for t in listed) == sorted(tables)


def test_the_request_log_leaves_out_query_strings(stack: LocalStack) -> None:
    address = "query-string@memory.example.com"
    assert (
        _call("GET", f"{stack.base_url}/v1/contacts?email={address}", stack.api_key)["items"] == []
    )
    deadline = time.monotonic() + 10
    while not any("GET /v1/contacts" in line for line in stack.output):
        assert time.monotonic() < deadline, "".join(stack.output[-20:])
        time.sleep(0.05)
    logged = "".join(stack.output)
    assert '"GET /v1/contacts" 200' in logged
    assert address not in logged
