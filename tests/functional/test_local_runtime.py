"""The local runtime feeds queues to the Lambda handlers and fires due schedules, as AWS would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.aws import client, queue_url
from chalicelib.engine import messages
from chalicelib.engine.local_runtime import drain, fire_due_schedules
from chalicelib.settings import get_settings

seen: list[str] = []


@messages.handles("test.record")
def _record(body: dict[str, Any]) -> None:
    if body.get("fail"):
        raise RuntimeError("this message fails")
    seen.append(body["value"])


def _worker(event: dict[str, Any], context: Any) -> Any:
    from app import control_worker

    return control_worker(event, context)


def _visible(queue: str) -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_worker_deletes_processed_messages_and_keeps_the_failed_one(aws: None) -> None:
    seen.clear()
    for value in ("a", "b"):
        messages.send("control", {"type": "test.record", "value": value})
    messages.send("control", {"type": "test.record", "value": "x", "fail": True})

    assert drain("control", _worker) == 3 + 4  # the failing one is received 5 times in all

    assert sorted(seen) == ["a", "b"]
    # The failed message is not deleted: locally it comes back at once, and after
    # maxReceiveCount receives SQS moves it to the DLQ.
    assert _visible("control") == 0
    dlq = client("sqs").get_queue_url(QueueName=get_settings().dlq_name("control"))["QueueUrl"]
    [dead] = client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(dead["Body"])["value"] == "x"


def test_due_schedules_fire_once_into_their_queue_and_are_deleted(aws: None) -> None:
    settings = get_settings()
    scheduler = client("scheduler")
    control_arn = f"arn:aws:sqs:us-east-1:123456789012:{settings.queue_name('control')}"
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    for name, at in (("due", now - timedelta(minutes=1)), ("later", now + timedelta(hours=1))):
        scheduler.create_schedule(
            Name=f"test-{name}",
            GroupName=settings.schedule_group,
            ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": control_arn,
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "Input": json.dumps({"type": "test.record", "value": name}),
            },
        )
    seen.clear()

    assert fire_due_schedules(now) == 1
    assert fire_due_schedules(now) == 0
    drain("control", _worker)
    assert seen == ["due"]

    assert fire_due_schedules(now + timedelta(hours=2)) == 1
    drain("control", _worker)
    assert seen == ["due", "later"]
    assert scheduler.list_schedules(GroupName=settings.schedule_group)["Schedules"] == []
