"""Queue messages and the batch handler both queues' Lambdas use.

A message body is JSON with a ``type``; the handler registered for that type processes it. A
message whose handler raises is reported as a batch item failure (powertools' BatchProcessor),
so SQS redelivers that one alone and, after ``maxReceiveCount`` tries, moves it to the DLQ.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.aws import client, queue_url

log = logging.getLogger("flows.engine")

MessageHandler = Callable[[dict[str, Any]], None]

_handlers: dict[str, MessageHandler] = {}


class UnknownMessageError(Exception):
    """A message of a type nobody handles: it goes back to the queue and on to the DLQ."""


def handles(message_type: str) -> Callable[[MessageHandler], MessageHandler]:
    """Register the handler of one message type."""

    def register(handler: MessageHandler) -> MessageHandler:
        _handlers[message_type] = handler
        return handler

    return register


def send(queue: str, message: dict[str, Any], *, delay_s: int = 0) -> None:
    """Post one message to ``steps`` or ``control`` (delay: up to 900 s)."""
    client("sqs").send_message(
        QueueUrl=queue_url(queue), MessageBody=json.dumps(message), DelaySeconds=delay_s
    )


def send_batch(queue: str, bodies: list[dict[str, Any]]) -> None:
    """Post messages ten per call (SendMessageBatch); a partly failed batch raises."""
    sqs = client("sqs")
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(chunk)]
        result = sqs.send_message_batch(QueueUrl=queue_url(queue), Entries=entries)
        if result.get("Failed"):
            raise RuntimeError(f"SQS refused {len(result['Failed'])} message(s)")


def process_message(body: dict[str, Any]) -> None:
    """Run the handler of one decoded message."""
    handler = _handlers.get(str(body.get("type")))
    if handler is None:
        raise UnknownMessageError(f"no handler for message type {body.get('type')!r}")
    handler(body)


def _record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    # How often SQS has handed this message out: the worker tells a redelivery from a first try.
    body["_receive_count"] = int(record.attributes.approximate_receive_count or 1)
    process_message(body)


def handle_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda handler of both queues: ``{"batchItemFailures": [...]}`` for the failed ones."""
    # A batch whose every message failed is reported like any other (all its ids), not raised:
    # SQS retries the same messages either way, and the local runtime reads the failures. Each
    # failure is logged with its traceback.
    processor = BatchProcessor(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=log
    )
    response = process_partial_response(
        event=event, record_handler=_record_handler, processor=processor, context=context
    )
    return dict(response)
