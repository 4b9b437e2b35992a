"""Fault injection for tests (issue 9): AWS calls that fail, SQS that delivers twice and out of
order, and a worker that crashes at chosen points.

- :class:`Chaos` patches botocore's ``BaseClient._make_api_call`` (every boto3 client and
  PynamoDB's own go through it). While ``active`` (only during the product's handlers: the
  test's own set-up and checks are never hit), each call fails with probability ``rate`` as
  a real one would after the SDK gave up: throttling (DynamoDB's
  ``ProvisionedThroughputExceededException``, elsewhere ``ThrottlingException``; nothing
  happened), a 500 ``InternalServerError`` (nothing happened), or a read timeout *after* the
  call took effect (the worst case: the caller cannot know). Counted by kind.
- ``crash_rate``: the worker dies right after an outside effect (an email or SMS went out),
  right after its transaction committed, or just before it dispatches the next message.
- :func:`pump` hands queue messages to a handler as Lambda's SQS integration would, but
  shuffles each batch, delivers ``duplicate_rate`` of the messages a second time later, and
  makes failed messages visible again at once (moto counts receives and moves a message to
  the DLQ after ``maxReceiveCount``, as SQS does).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.aws import client, queue_url
from chalicelib.engine import dispatch as dispatch_module
from chalicelib.engine import worker
from chalicelib.engine.local_runtime import sqs_event
from chalicelib.engine.runtime import runtime
from chalicelib.store import participants as participant_store

Handler = Callable[[dict[str, Any], Any], Any]


class InjectedCrashError(BaseException):
    """The worker "died" here (the Lambda's process ended mid-run). A BaseException, so the
    product's ``except Exception`` never sees it, as no code of a dead process runs: the whole
    batch fails and comes back, and the receive counts grow without the worker counting a try
    of its own (a crash right after an email counted as the step's own error, and the fourth
    such try dropped the participant with ``step_failed``)."""


@dataclass
class Chaos:
    rate: float = 0.05
    crash_rate: float = 0.01
    duplicate_rate: float = 0.05
    seed: int = 7
    active: bool = False
    injected: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _roll(self, rate: float) -> bool:
        return self.active and self.rng.random() < rate

    # -- AWS calls ------------------------------------------------------------------------

    def _call(self, real: Callable[..., Any]) -> Callable[..., Any]:
        chaos = self

        def make_api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if not chaos.active:
                return real(self, operation, params)
            chaos.calls += 1
            chaos.by_operation[operation] += 1
            if not chaos._roll(chaos.rate):
                return real(self, operation, params)
            service = self.meta.service_model.service_name
            kind = chaos.rng.choice(("throttle", "server", "timeout_after_effect"))
            chaos.injected[kind] += 1
            if kind == "timeout_after_effect":
                real(self, operation, params)
                raise ReadTimeoutError(endpoint_url=f"https://{service}.chaos")
            code, status = (
                ("ProvisionedThroughputExceededException", 400)
                if kind == "throttle" and service == "dynamodb"
                else ("ThrottlingException", 400)
                if kind == "throttle"
                else ("InternalServerError", 500)
            )
            error = {"Code": code, "Message": f"{kind} (injected)"}
            raise ClientError(
                {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
            )

        return make_api_call

    # -- crashes --------------------------------------------------------------------------

    def _crash_after(self, point: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def after(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            if self._roll(self.crash_rate):
                self.injected[f"crash_{point}"] += 1
                raise InjectedCrashError(point)
            return result

        return after

    def _crash_before(self, point: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def before(*args: Any, **kwargs: Any) -> Any:
            if self._roll(self.crash_rate):
                self.injected[f"crash_{point}"] += 1
                raise InjectedCrashError(point)
            return real(*args, **kwargs)

        return before

    @contextmanager
    def installed(self) -> Iterator[Chaos]:
        """Patch botocore and the crash points for the block (inactive until :meth:`on`)."""
        email, sms = runtime.email, runtime.sms
        saved = {
            (BaseClient, "_make_api_call"): BaseClient._make_api_call,
            (participant_store, "commit"): participant_store.commit,
            (worker, "dispatch"): worker.dispatch,
        }
        BaseClient._make_api_call = self._call(BaseClient._make_api_call)  # type: ignore[method-assign]
        participant_store.commit = self._crash_after("after_commit", participant_store.commit)
        worker.dispatch = self._crash_before("before_dispatch", dispatch_module.dispatch)
        runtime.email = _Crashing(email, self, "after_email")
        runtime.sms = _Crashing(sms, self, "after_sms")
        try:
            yield self
        finally:
            for (owner, name), value in saved.items():
                setattr(owner, name, value)
            runtime.email, runtime.sms = email, sms

    @contextmanager
    def on(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False


class _Crashing:
    """A sender that dies (sometimes) right after the message went out."""

    def __init__(self, real: Any, chaos: Chaos, point: str) -> None:
        self.real, self.chaos, self.point = real, chaos, point

    def send(self, *args: Any, **kwargs: Any) -> str:
        sent = str(self.real.send(*args, **kwargs))
        if self.chaos._roll(self.chaos.crash_rate):
            self.chaos.injected[f"crash_{self.point}"] += 1
            raise InjectedCrashError(self.point)
        return sent


# -- SQS ----------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """The pump's counts: messages handed to handlers, failed (so redelivered), duplicated."""

    delivered: int = 0
    failed: int = 0
    duplicated: int = 0
    later: list[dict[str, Any]] = field(default_factory=list)


def pump(queue: str, handler: Handler, chaos: Chaos, delivery: Delivery) -> int:
    """One batch of ``queue`` through ``handler`` (with chaos on), shuffled, with earlier
    duplicates mixed in; returns how many real messages were received."""
    sqs, url = client("sqs"), queue_url(queue)
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    duplicates = [d for d in delivery.later if d["queue"] == queue][:5]
    if not received and not duplicates:
        return 0
    for d in duplicates:
        delivery.later.remove(d)
    batch = received + [d["message"] for d in duplicates]
    chaos.rng.shuffle(batch)
    for message in received:
        if chaos.rng.random() < chaos.duplicate_rate:
            delivery.later.append({"queue": queue, "message": dict(message)})
            delivery.duplicated += 1
    with chaos.on():
        try:
            result = handler(sqs_event(queue, batch), None) or {}
        except InjectedCrashError:  # the invocation died: every message of it comes back
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in batch]}
    failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
    delivery.delivered += len(batch)
    delivery.failed += len(failed)
    done = [m for m in received if m["MessageId"] not in failed]
    for message in received:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                     for i, m in enumerate(done[start:start + 10])],
        )  # fmt: skip
    return len(received)


def dlq_depth(queue: str) -> int:
    from chalicelib.settings import get_settings

    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().dlq_name(queue))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def redrive(queue: str) -> int:
    """Move every message of ``queue``'s DLQ back to ``queue``, as an operator does after the
    DLQ alarm (``start-message-move-task``); returns how many."""
    from chalicelib.settings import get_settings

    sqs = client("sqs")
    dlq = sqs.get_queue_url(QueueName=get_settings().dlq_name(queue))["QueueUrl"]
    moved = 0
    while True:
        found = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
        if not found:
            return moved
        for message in found:
            sqs.send_message(QueueUrl=queue_url(queue), MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
