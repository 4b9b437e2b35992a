"""Create follow-up: a task or a meeting for an associate (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel, Id
from chalicelib.clock import iso
from chalicelib.engine.activities import create, owner_of, tag_values
from chalicelib.engine.calendar import add_working_days, book, first_free
from chalicelib.engine.outcomes import Outcome, RunContext, skipped
from chalicelib.messaging.merge_tags import render
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration, parse_duration
from chalicelib.tenants.service import get_settings_of

DEFAULT_DUE_IN = "P1D"
DEFAULT_MEETING = "PT30M"


class Meeting(ApiModel):
    duration: Duration = DEFAULT_MEETING
    first_available: bool = Field(True, description="the assignee's earliest free slot from now")
    first_available_after: Duration | None = Field(
        None, description="the earliest free slot once this much time has passed"
    )
    first_available_after_working_days: int | None = Field(
        None, ge=1, le=60, description="or: once this many working days have passed"
    )


class AssignToAssociate(ApiModel):
    associate_id: Id | None = None


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: Literal["task", "meeting"] = "task"
    description: str = Field("", max_length=10_000)
    project_id: Id | None = None
    due_in: Duration | None = Field(None, description=f"a task: due after this; {DEFAULT_DUE_IN}")
    meeting: Meeting | None = Field(None, description="a meeting: its length and when")
    assign_to: Literal["our_contact", "our_service_contact"] | AssignToAssociate = Field(
        "our_contact", description='the contact\'s owner, service owner, or {"associate_id"}'
    )


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.title:
        yield missing("title", "the follow-up has no title")
    if settings.type == "task" and settings.due_in is None:
        yield Issue("settings.due_in", f"no due_in: the task is due in {DEFAULT_DUE_IN}", "warning")
    if settings.type == "meeting" and settings.meeting is None:
        yield Issue(
            "settings.meeting", "no meeting settings: 30 minutes, first free slot", "warning"
        )
    meeting = settings.meeting
    if meeting and not (
        meeting.first_available
        or meeting.first_available_after
        or meeting.first_available_after_working_days
    ):
        yield Issue("settings.meeting", "no start given: the first free slot is used", "warning")
    if isinstance(settings.assign_to, AssignToAssociate):
        if not settings.assign_to.associate_id:
            yield missing("assign_to.associate_id", "no associate to assign to")
        path = "settings.assign_to.associate_id"
        yield from ctx.ref("associate", settings.assign_to.associate_id, path)
    yield from ctx.ref("project", settings.project_id, "settings.project_id")
    yield from ctx.tags(settings.title, "settings.title")
    yield from ctx.tags(settings.description, "settings.description")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """A task due ``due_in`` from now, or a meeting in the assignee's first free slot."""
    spec = (
        settings.assign_to.associate_id
        if isinstance(settings.assign_to, AssignToAssociate)
        else settings.assign_to
    )
    associate_id = owner_of(ctx, spec)
    tags = tag_values(ctx)
    fields = {
        "type": settings.type,
        "title": render(settings.title or "", tags) or "Follow-up",
        "description": render(settings.description, tags),
        "project_id": settings.project_id,
        "associate_id": associate_id,
    }
    notify = (
        {"associate_id": associate_id, "text": f"New {settings.type}: {fields['title']}"}
        if associate_id
        else None
    )
    if settings.type == "task":
        due = ctx.now + parse_duration(settings.due_in or DEFAULT_DUE_IN)
        return create(ctx, "follow_up", fields | {"start": iso(due), "end": None}, notify=notify)
    if not associate_id:
        return skipped("no_assignee")
    meeting = settings.meeting or Meeting()
    length = parse_duration(meeting.duration)
    after = parse_duration(meeting.first_available_after) if meeting.first_available_after else None
    earliest = ctx.now + after if after else ctx.now
    tenant = get_settings_of(ctx.participant.tenant_id)
    if meeting.first_available_after_working_days:
        earliest = add_working_days(
            earliest, meeting.first_available_after_working_days, tenant.timezone
        )
    start = first_free(ctx.participant.tenant_id, associate_id, earliest, length, tenant)
    if start is None:
        return skipped("no_free_slot")
    outcome = create(
        ctx, "follow_up", fields | {"start": iso(start), "end": iso(start + length)}, notify=notify
    )
    booking = book(
        ctx.participant.tenant_id, associate_id, start, length, outcome.detail["object_id"]
    )
    return replace(outcome, writes=outcome.writes + tuple(booking))


STEP = StepType("create_follow_up", Settings, check, run=run)
