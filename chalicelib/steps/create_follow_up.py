"""Create follow-up: a task or a meeting for an associate (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration

DEFAULT_DUE_IN = "P1D"
DEFAULT_MEETING = "PT30M"


class Meeting(ApiModel):
    duration: Duration = DEFAULT_MEETING
    first_available: bool = Field(True, description="the assignee's earliest free slot from now")
    first_available_after: Duration | None = Field(
        None, description="the earliest free slot once this much time has passed"
    )


class AssignToAssociate(ApiModel):
    associate_id: str | None = None


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: Literal["task", "meeting"] = "task"
    description: str = Field("", max_length=10_000)
    project_id: str | None = None
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
    if meeting and not (meeting.first_available or meeting.first_available_after):
        yield Issue("settings.meeting", "no start given: the first free slot is used", "warning")
    if isinstance(settings.assign_to, AssignToAssociate):
        if not settings.assign_to.associate_id:
            yield missing("assign_to.associate_id", "no associate to assign to")
        path = "settings.assign_to.associate_id"
        yield from ctx.ref("associate", settings.assign_to.associate_id, path)
    yield from ctx.ref("project", settings.project_id, "settings.project_id")
    yield from ctx.tags(settings.title, "settings.title")
    yield from ctx.tags(settings.description, "settings.description")


STEP = StepType("create_follow_up", Settings, check)
