"""Scenario helpers: a clock the test moves, a drain that runs the queues and fires due wake
schedules like AWS would, and the engine invariant (DESIGN.md) checked for every participant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.aws import client
from chalicelib.engine.dispatch import schedule_prefix
from chalicelib.engine.local_runtime import drain, fire_due_schedules
from chalicelib.engine.runtime import runtime
from chalicelib.settings import get_settings
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.models import ParticipantGuardItem
from chalicelib.store.participants import Participant

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _steps(event: dict[str, Any], context: Any) -> Any:
    from app import step_worker

    return step_worker(event, context)


def _control(event: dict[str, Any], context: Any) -> Any:
    from app import control_worker

    return control_worker(event, context)


@dataclass
class Engine:
    clock: FakeClock

    def drain(self, rounds: int = 50) -> int:
        """Run both queues and fire due schedules until nothing moves; returns messages run."""
        total = 0
        for _ in range(rounds):
            moved = drain("control", _control) + drain("steps", _steps)
            moved += fire_due_schedules(self.clock.now)
            if moved == 0:
                return total
            total += moved
        raise AssertionError("the engine did not settle")

    def advance(self, **delta: float) -> None:
        """Move the clock and run whatever became due."""
        self.clock.advance(**delta)
        self.drain()


def participants_of(tenant_id: str, flow_id: str) -> list[Participant]:
    found: list[Participant] = []
    after: str | None = None
    while True:
        page, after = store.page(tenant_id, flow_id, limit=500, after=after)
        found += page
        if after is None:
            return found


def wake_schedules(tenant_id: str, flow_id: str) -> set[str]:
    response = client("scheduler").list_schedules(
        GroupName=get_settings().schedule_group, NamePrefix=schedule_prefix(tenant_id, flow_id)
    )
    return {s["Name"] for s in response["Schedules"]}


def _has_live_guard(tenant_id: str, flow_id: str, contact_id: str) -> bool:
    # A get by key: moto answers a query by going over the whole table, and this runs once per
    # participant (thousands in the scale test).
    try:
        ParticipantGuardItem.get(
            f"{tenant_id}#{flow_id}", f"#live#{contact_id}", consistent_read=True
        )
    except DoesNotExist:
        return False
    return True


def assert_invariant(tenant_id: str, flow_id: str) -> None:
    """Every participant is terminal, or parked/queued while the flow is paused, or waiting
    with a live wake schedule (or for ever, for an action). Run after a drain, when no
    message is in flight."""
    flow = flow_store.get(tenant_id, flow_id)
    assert flow is not None
    schedules = wake_schedules(tenant_id, flow_id)
    prefix = "w-"
    for p in participants_of(tenant_id, flow_id):
        where = f"participant {p.participant_id} ({p.status} on {p.step_id})"
        if not p.live:
            continue
        assert _has_live_guard(tenant_id, flow_id, p.contact_id), f"{where} has no live guard"
        if flow.status == "paused" and (p.status == "queued" or p.data.get("parked")):
            continue
        assert p.status == "active", f"{where} is queued in a {flow.status} flow"
        wait = p.data.get("wait") or {}
        if wait.get("forever"):
            continue
        assert p.wake_bucket, f"{where} has no message and no schedule"
        minute = p.wake_bucket.rsplit("#", 1)[1]
        assert any(name.startswith(prefix) and name.endswith(minute) for name in schedules), (
            f"{where} waits in bucket {p.wake_bucket} without a schedule"
        )


@contextmanager
def running_engine(clock: FakeClock | None = None) -> Iterator[Engine]:
    """The engine on a fake clock for one test; the runtime's collaborators are put back
    afterwards (a test may swap the SMS, email or script sender)."""
    saved = replace(runtime)
    try:
        yield use_engine(clock or FakeClock())
    finally:
        for name in ("clock", "delay_limit_s", "sms", "email", "scripts"):
            setattr(runtime, name, getattr(saved, name))


def use_engine(clock: FakeClock) -> Engine:
    runtime.clock = clock
    runtime.delay_limit_s = 0  # every wait goes through a wake bucket the fake clock fires
    return Engine(clock)
