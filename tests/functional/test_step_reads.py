"""The worker's first reads (issue 8, item 2): a step message names the participant's contact,
and the worker reads the participant, the flow's state and the contact in ONE consistent
BatchGetItem instead of three GetItems. A message without the contact (sent by an earlier
version) is still served, with a read each; one naming another contact never runs the step on
that contact; unprocessed keys are asked again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.engine import worker
from chalicelib.settings import get_settings
from chalicelib.store import base as store_base
from chalicelib.store import participants as store
from tests.functional.fault_kit import DynamoCall, delete, dynamodb_calls, receive

VIP = {"field": "contact.first_name", "op": "eq", "value": "VIP"}


def _split(step_id: str, rest: list[dict[str, Any]]) -> dict[str, Any]:
    """A split on contact data (no AWS call of its own): VIPs go one way, everyone else on."""
    return {
        "id": step_id,
        "type": "split",
        "settings": {"basis": "contact_data"},
        "branches": [{"name": "vip", "condition": {"rules": [VIP]}, "steps": []}],
        "everyone_else": {"steps": rest},
    }


def _on_first_split(world: Any, first_name: str) -> tuple[str, str, dict[str, Any]]:
    """A running flow of two splits and a participant enrolled on the first: (flow id,
    participant id, the message of its first split, taken off the queue)."""
    flow_id = world.flow([_split("a", [_split("b", [])])])
    contact_id = world.contact(first_name=first_name)
    participant_id = world.enrol(flow_id, contact_id)
    [message] = receive("steps")
    delete("steps", message)
    p = world.participant(flow_id, participant_id)
    assert (p.status, p.step_id) == ("active", "a")
    return flow_id, participant_id, json.loads(message["Body"])


def _reads_of(calls: list[DynamoCall]) -> list[tuple[str, frozenset[str]]]:
    """The reads among the calls, with their tables' short names."""
    settings = get_settings()
    names = {settings.table(t): t for t in ("participants", "flows", "crm", "journal")}
    return [
        (c.operation, frozenset(names.get(t, t) for t in c.tables))
        for c in calls
        if c.operation in ("GetItem", "BatchGetItem", "Query", "TransactGetItems")
    ]


def test_a_step_reads_participant_flow_and_contact_in_one_batch_get(world: Any) -> None:
    flow_id, participant_id, message = _on_first_split(world, "Kari")
    p = world.participant(flow_id, participant_id)
    assert message["contact"] == p.contact_id

    with dynamodb_calls() as calls:
        worker.run_step(message)

    # One consistent BatchGetItem over the three tables, and no read on its own
    assert _reads_of(calls) == [("BatchGetItem", frozenset({"participants", "flows", "crm"}))]
    assert [c.operation for c in calls] == ["BatchGetItem", "TransactWriteItems"]
    moved = world.participant(flow_id, participant_id)
    assert (moved.step_id, moved.seq) == ("b", p.seq + 1)
    [journal] = [e for seq, e in store.history(world.tenant_id, participant_id) if seq == p.seq]
    assert (journal["step_id"], journal["outcome"]) == ("a", "branch")
    [following] = receive("steps")
    assert json.loads(following["Body"])["contact"] == p.contact_id
    delete("steps", following)


def test_the_batch_get_is_consistent_and_reads_the_flow_state_only(world: Any) -> None:
    flow_id, _, message = _on_first_split(world, "Kari")
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    events = store_base._connection().client.meta.events
    events.register("before-parameter-build.dynamodb.BatchGetItem", record)
    try:
        worker.run_step(message)
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", record)

    [params] = sent
    requests = params["RequestItems"]
    assert all(r["ConsistentRead"] is True for r in requests.values())
    flows = requests[get_settings().table("flows")]
    projected = {flows["ExpressionAttributeNames"].get(n, n) for n in
                 flows["ProjectionExpression"].split(", ")}  # fmt: skip
    assert projected == {"tenant_id", "flow_id", "status", "version", "generation"}
    [following] = receive("steps")
    delete("steps", following)
    assert json.loads(following["Body"])["flow"] == flow_id


def test_a_message_without_the_contact_is_served_with_a_read_each(world: Any) -> None:
    flow_id, participant_id, message = _on_first_split(world, "VIP")
    old = {k: v for k, v in message.items() if k != "contact"}

    with dynamodb_calls() as calls:
        worker.run_step(old)

    assert _reads_of(calls) == [
        ("GetItem", frozenset({"participants"})),
        ("GetItem", frozenset({"flows"})),
        ("GetItem", frozenset({"crm"})),
    ]
    p = world.participant(flow_id, participant_id)
    assert (p.status, p.seq) == ("finished", message["seq"] + 1)  # the VIP branch is empty


def test_a_message_naming_another_contact_runs_on_the_participants_own(world: Any) -> None:
    flow_id, participant_id, message = _on_first_split(world, "VIP")
    stranger = world.contact(first_name="Kari")  # would take "everyone else"

    with dynamodb_calls() as calls:
        worker.run_step(message | {"contact": stranger})

    # The batch read the stranger; the participant's own contact was read for the split
    assert _reads_of(calls) == [
        ("BatchGetItem", frozenset({"participants", "flows", "crm"})),
        ("GetItem", frozenset({"crm"})),
    ]
    p = world.participant(flow_id, participant_id)
    assert (p.status, p.seq) == ("finished", message["seq"] + 1)  # the VIP branch: empty


@pytest.mark.parametrize("behind", [1, 2])
def test_a_message_behind_the_participant_is_dropped(world: Any, behind: int) -> None:
    flow_id, participant_id, message = _on_first_split(world, "Kari")
    worker.run_step(message)
    [following] = receive("steps")
    delete("steps", following)
    if behind == 2:
        worker.run_step(json.loads(following["Body"]))
        assert receive("steps") == []  # "b" was the last step: finished, no message
    before = world.participant(flow_id, participant_id)

    with dynamodb_calls() as calls:
        worker.run_step(message)  # a first try of an old seq: nothing to do

    assert [c.operation for c in calls] == ["BatchGetItem"]
    assert world.participant(flow_id, participant_id) == before
    assert receive("steps") == []


def test_a_missing_contact_drops_the_participant_out(world: Any) -> None:
    flow_id, participant_id, message = _on_first_split(world, "Kari")
    p = world.participant(flow_id, participant_id)
    reply = world.http.delete(f"/v1/contacts/{p.contact_id}")
    assert reply.status == 204, reply.body
    assert world.participant(flow_id, participant_id).live

    with dynamodb_calls() as calls:
        worker.run_step(message)

    # The batch found no contact: that is the answer (no second read), and it drops out
    assert _reads_of(calls) == [("BatchGetItem", frozenset({"participants", "flows", "crm"}))]
    ended = world.participant(flow_id, participant_id)
    assert (ended.status, ended.data["dropout_reason"]) == ("dropped_out", "contact_deleted")
    assert receive("steps") == []


@contextmanager
def _unprocessed(times: int) -> Iterator[list[dict[str, Any]]]:
    """The first ``times`` BatchGetItem answers hand every key back as unprocessed (what
    DynamoDB does under throttling), with nothing found; yields the requests sent."""
    sent: list[dict[str, Any]] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        sent.append(json.loads(json.dumps(params["RequestItems"])))

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if len(sent) <= times:
            parsed["UnprocessedKeys"] = sent[-1]
            parsed["Responses"] = {}

    events = store_base._connection().client.meta.events
    events.register("before-parameter-build.dynamodb.BatchGetItem", before)
    events.register("after-call.dynamodb.BatchGetItem", after)
    try:
        yield sent
    finally:
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", before)
        events.unregister("after-call.dynamodb.BatchGetItem", after)


def test_unprocessed_keys_are_asked_again(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store.time, "sleep", lambda _: None)
    flow_id, participant_id, message = _on_first_split(world, "Kari")

    with _unprocessed(times=2) as sent:
        worker.run_step(message)

    assert len(sent) == 3
    assert sent[1] == sent[0] == sent[2]  # the unprocessed keys, with their own request
    assert world.participant(flow_id, participant_id).step_id == "b"
    for left in receive("steps"):
        delete("steps", left)


def test_keys_left_unprocessed_throughout_fail_the_message(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.time, "sleep", lambda _: None)
    flow_id, participant_id, message = _on_first_split(world, "Kari")

    with (
        _unprocessed(times=store.BATCH_GET_TRIES) as sent,
        pytest.raises(store.UnprocessedKeysError),
    ):
        worker.run_step(message)

    assert len(sent) == store.BATCH_GET_TRIES
    p = world.participant(flow_id, participant_id)
    assert (p.step_id, p.seq) == ("a", message["seq"])  # untouched: SQS brings it back
