"""What AWS does for the deployed product and moto does not: feed queue messages to the Lambda
handlers, and fire due EventBridge Scheduler schedules.

The local stack runs these in threads; tests call them directly with their own clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.aws import client, queue_url
from chalicelib.settings import get_settings

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def sqs_event(queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda event SQS would deliver for ``messages`` (as ``receive_message`` gives them)."""
    settings = get_settings()
    arn = f"arn:aws:sqs:{settings.region}:{settings.account_id}:{settings.queue_name(queue)}"
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(
                    message["Body"].encode(), usedforsecurity=False
                ).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": settings.region,
            }
            for message in messages
        ]
    }


def pump_once(queue: str, handler: LambdaHandler, *, wait_s: int = 0) -> int:
    """Receive one batch from ``queue``, hand it to ``handler`` as Lambda would, and delete the
    messages it did not report as failed. Returns how many messages were received."""
    sqs = client("sqs")
    url = queue_url(queue)
    received = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_s,
        AttributeNames=["All"],
    ).get("Messages", [])
    if not received:
        return 0
    result = handler(sqs_event(queue, received), None) or {}
    failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
    for message in received:
        if message["MessageId"] in failed:
            # Locally a failed message comes back at once instead of after the visibility
            # timeout; SQS still counts the receives and moves it to the DLQ after the last.
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ],
        )
    return len(received)


def drain(queue: str, handler: LambdaHandler, *, max_messages: int = 100_000) -> int:
    """Pump ``queue`` until it is empty (messages still delayed stay); returns the count."""
    total = 0
    while total < max_messages:
        count = pump_once(queue, handler)
        if count == 0:
            return total
        total += count
    return total


def _due_at(expression: str, zone: str | None) -> datetime | None:
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    moment = datetime.fromisoformat(expression[3:-1])
    return moment.replace(tzinfo=ZoneInfo(zone) if zone else UTC)


def fire_due_schedules(now: datetime) -> int:
    """Fire every one-time ``at()`` schedule of the product's group that is due at ``now``:
    send its input to its SQS target, then delete it (as ActionAfterCompletion=DELETE would).
    Returns how many fired."""
    scheduler = client("scheduler")
    group = get_settings().schedule_group
    fired = 0
    paginator = scheduler.get_paginator("list_schedules")
    names = [s["Name"] for page in paginator.paginate(GroupName=group) for s in page["Schedules"]]
    for name in names:
        schedule = scheduler.get_schedule(GroupName=group, Name=name)
        due = _due_at(schedule["ScheduleExpression"], schedule.get("ScheduleExpressionTimezone"))
        if due is None or due > now:
            continue
        target = schedule["Target"]
        queue_name = target["Arn"].rsplit(":", 1)[-1]
        url = client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
        client("sqs").send_message(QueueUrl=url, MessageBody=target.get("Input", "{}"))
        scheduler.delete_schedule(GroupName=group, Name=name)
        fired += 1
    return fired
