"""Wait for action: wait until the participant clicks a link or submits a form (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration


class LinkClickedAction(ApiModel):
    type: Literal["link_clicked"]
    link_id: str | None = None


class FormSubmittedAction(ApiModel):
    type: Literal["form_submitted"]
    form_id: str | None = None


Action = Annotated[LinkClickedAction | FormSubmittedAction, Field(discriminator="type")]


class Settings(StepSettings):
    actions: list[Action] = Field(default_factory=list, description="the first one taken wins")
    max_wait: Duration | None = Field("P7D", description="ISO 8601; null waits forever")
    exit_on_timeout: bool = Field(False, description="drop out on timeout instead of going on")


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.actions:
        yield missing("actions", "the wait has no actions to wait for")
    for index, action in enumerate(settings.actions):
        key, kind = ("link_id", "link") if action.type == "link_clicked" else ("form_id", "form")
        target = getattr(action, key)
        path = f"settings.actions[{index}].{key}"
        if not target:
            yield Issue(path, f"the {action.type} action names no {kind}")
        yield from ctx.ref(kind, target, path)
    if settings.exit_on_timeout and settings.max_wait is None:
        yield Issue(
            "settings.exit_on_timeout", "a wait without max_wait never times out", "warning"
        )


STEP = StepType("wait_for_action", Settings, check, holds_participants=True)
