"""The batch handler of both queues: one failing message is reported alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.engine.messages import (
    UnknownMessageError,
    handle_batch,
    handles,
    process_message,
)

handled: list[dict[str, Any]] = []


class BoomError(Exception):
    pass


@handles("test.ok")
def _ok(message: dict[str, Any]) -> None:
    handled.append(message)


@handles("test.boom")
def _boom(message: dict[str, Any]) -> None:
    raise BoomError(message["n"])


def _record(message_id: str, body: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:flows-test-steps",
        "awsRegion": "us-east-1",
    }


def _event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def _failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@pytest.fixture(autouse=True)
def _clear_handled() -> None:
    handled.clear()


def test_only_the_message_whose_handler_raises_is_reported() -> None:
    event = _event(
        _record("msg-1", {"type": "test.ok", "n": 1}),
        _record("msg-2", {"type": "test.boom", "n": 2}),
        _record("msg-3", {"type": "test.ok", "n": 3}),
    )

    response = handle_batch(event)

    assert _failed_ids(response) == ["msg-2"]
    assert [m["n"] for m in handled] == [1, 3]


def test_a_message_of_an_unknown_type_is_reported() -> None:
    event = _event(
        _record("msg-a", {"type": "test.ok", "n": 1}),
        _record("msg-b", {"type": "test.nobody-handles-this", "n": 2}),
        _record("msg-c", {"type": "test.boom", "n": 3}),
    )

    response = handle_batch(event)

    assert sorted(_failed_ids(response)) == ["msg-b", "msg-c"]
    assert [m["n"] for m in handled] == [1]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not-json"),
        pytest.param({"n": 1}, id="no-type"),
    ],
)
def test_a_message_that_cannot_be_read_is_reported(body: Any) -> None:
    event = _event(_record("msg-x", body), _record("msg-y", {"type": "test.ok", "n": 2}))

    response = handle_batch(event)

    assert _failed_ids(response) == ["msg-x"]


def test_a_batch_without_failures_reports_none() -> None:
    event = _event(
        _record("msg-1", {"type": "test.ok", "n": 1}),
        _record("msg-2", {"type": "test.ok", "n": 2}),
        _record("msg-3", {"type": "test.ok", "n": 3}),
    )

    assert handle_batch(event) == {"batchItemFailures": []}
    assert [m["n"] for m in handled] == [1, 2, 3]


def test_the_handler_gets_the_whole_decoded_body() -> None:
    process_message({"type": "test.ok", "n": 9, "participant_id": "par_1"})

    assert handled == [{"type": "test.ok", "n": 9, "participant_id": "par_1"}]


def test_process_message_of_an_unknown_type_raises() -> None:
    with pytest.raises(UnknownMessageError, match=r"test\.unknown"):
        process_message({"type": "test.unknown"})
