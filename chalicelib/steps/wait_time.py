"""Wait for a duration, a number of working days, or until a moment (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import AwareDatetime, Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration


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


STEP = StepType("wait_time", Settings, check, holds_participants=True)
