"""Wait for a duration, a number of working days, or until a moment (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from chalicelib.engine.calendar import add_working_days
from chalicelib.engine.outcomes import Outcome, RunContext, done, wait_until
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration, parse_duration


class Settings(StepSettings):
    duration: Duration | None = Field(None, description="ISO 8601: PT30M, PT2H, P3D, P2W")
    working_days: int | None = Field(None, ge=1, le=365, description="Mon-Fri, flow's timezone")
    until: AwareDatetime | None = Field(None, strict=False)


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    given = [f for f in ("duration", "working_days", "until") if getattr(settings, f) is not None]
    if not given:
        yield missing("duration", "the wait has no duration, working days or until")
    elif len(given) > 1:
        yield missing(given[1], f"give one of duration, working_days, until (not {given})")
    if settings.working_days is not None and not ctx.flow.timezone:
        yield Issue("settings.working_days", "working days need the flow's timezone", "warning")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Wait from the moment the participant reached the step; go on once the time is up."""
    if ctx.waiting_since is not None and ctx.participant.wait_until:
        until = datetime.fromisoformat(ctx.participant.wait_until)
    else:
        until = due_at(settings, ctx.now, ctx.flow.timezone)
    return done() if until <= ctx.now else wait_until(until)


def due_at(settings: Settings, now: datetime, timezone: str | None) -> datetime:
    """When a wait that starts ``now`` ends (nothing set: at once)."""
    if settings.duration is not None:
        return now + parse_duration(settings.duration)
    if settings.until is not None:
        return settings.until
    if settings.working_days is not None:
        return add_working_days(now, settings.working_days, timezone)
    return now


STEP = StepType("wait_time", Settings, check, holds_participants=True, run=run)
