"""Dispatch: give a participant its one live message or schedule (DESIGN.md step 6).

Now: an SQS message. A wait of up to ``delay_limit_s``: an SQS message with DelaySeconds.
Longer: the participant sits in a wake bucket (flow + due minute, set on it by the commit) and
the bucket has ONE Scheduler schedule, created idempotently by name, that posts a ``wake``
control message; a million participants waiting two days cost a few thousand schedules.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws import client
from chalicelib.engine.messages import send, send_batch
from chalicelib.engine.runtime import runtime
from chalicelib.ids import new_id
from chalicelib.settings import get_settings
from chalicelib.store.participants import Participant

STEP = "step"
WAKE = "wake"


def step_message(p: Participant) -> dict[str, Any]:
    """DESIGN.md's ``{tenant, flow, participant, step, seq}``, and the participant's contact,
    so the worker reads participant, flow and contact in one BatchGetItem (a message without
    ``contact`` is still served, each read on its own)."""
    return {
        "type": STEP,
        "tenant": p.tenant_id,
        "flow": p.flow_id,
        "participant": p.participant_id,
        "step": p.step_id,
        "seq": p.seq,
        "contact": p.contact_id,
    }


def needs_message(p: Participant) -> bool:
    """Whether the participant should have a live message or schedule now."""
    if p.status != "active" or p.data.get("parked"):
        return False
    wait = p.data.get("wait") or {}
    return not wait.get("forever")


def dispatch(p: Participant, now: datetime | None = None) -> None:
    """Send the participant's next message (or make sure its bucket's schedule exists)."""
    if not needs_message(p):
        return
    now = now or runtime.clock()
    if p.wake_bucket:
        ensure_wake_schedule(p.tenant_id, p.flow_id, p.wake_bucket)
        return
    delay = 0
    if p.wait_until:
        delay = max(0, math.ceil((datetime.fromisoformat(p.wait_until) - now).total_seconds()))
    send("steps", step_message(p), delay_s=min(delay, runtime.delay_limit_s))


def dispatch_many(found: list[Participant]) -> None:
    """Dispatch a page of participants that need no delay, ten per SQS call."""
    now = runtime.clock()
    immediate = [p for p in found if needs_message(p) and not p.wake_bucket and not _later(p, now)]
    send_batch("steps", [step_message(p) for p in immediate])
    for p in found:
        if p not in immediate:
            dispatch(p, now)


def _later(p: Participant, now: datetime) -> bool:
    return bool(p.wait_until) and datetime.fromisoformat(p.wait_until or "") > now


def wake_bucket_for(tenant_id: str, flow_id: str, until: datetime) -> str:
    """The bucket of a wait ending at ``until``: the flow and the minute, rounded up, so the
    bucket never fires before any of its waits is due."""
    minute = until.astimezone(UTC).replace(second=0, microsecond=0)
    if minute < until:
        minute += timedelta(minutes=1)
    return f"{tenant_id}#{flow_id}#{minute.strftime('%Y%m%dT%H%M')}"


def schedule_prefix(tenant_id: str, flow_id: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}#{flow_id}".encode()).hexdigest()[:24]
    return f"w-{digest}-"


def ensure_wake_schedule(tenant_id: str, flow_id: str, bucket: str) -> None:
    """The bucket's one-time schedule, created once (a second create is a no-op)."""
    settings = get_settings()
    minute = bucket.rsplit("#", 1)[1]
    due = datetime.strptime(minute, "%Y%m%dT%H%M")
    control_arn = (
        f"arn:aws:sqs:{settings.region}:{settings.account_id}:{settings.queue_name('control')}"
    )
    try:
        client("scheduler").create_schedule(
            Name=schedule_prefix(tenant_id, flow_id) + minute,
            GroupName=settings.schedule_group,
            ScheduleExpression=f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": control_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps(
                    {
                        "type": WAKE,
                        "tenant": tenant_id,
                        "flow": flow_id,
                        "bucket": bucket,
                        "job": new_id("job"),
                    }
                ),
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConflictException":
            raise


def delete_wake_schedules(tenant_id: str, flow_id: str) -> int:
    """Remove every wake schedule of a flow (when it ends); returns how many."""
    scheduler = client("scheduler")
    group = get_settings().schedule_group
    prefix = schedule_prefix(tenant_id, flow_id)
    names = [
        s["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(
            GroupName=group, NamePrefix=prefix
        )
        for s in page["Schedules"]
    ]
    for name in names:
        try:
            scheduler.delete_schedule(GroupName=group, Name=name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
    return len(names)
