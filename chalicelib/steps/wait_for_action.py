"""Wait for action: wait until the participant clicks a link or submits a form (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel, Id
from chalicelib.clock import iso_ms
from chalicelib.engine.outcomes import Outcome, RunContext, done, drop_out, wait_until
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration, parse_duration


class LinkClickedAction(ApiModel):
    type: Literal["link_clicked"]
    link_id: Id | None = None


class FormSubmittedAction(ApiModel):
    type: Literal["form_submitted"]
    form_id: Id | None = None


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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Go on when one of the actions was taken since the participant reached the step; on
    timeout go on, or drop out with ``no_action_in_time``. ``max_wait`` null waits for ever."""
    since_text = ctx.waiting_since or iso_ms(ctx.now)
    for action in settings.actions:
        kind, target = (
            ("click", action.link_id)
            if isinstance(action, LinkClickedAction)
            else ("submit", action.form_id)
        )
        if target and ctx.facts.engaged(kind, target, since_text):
            return done(action=action.type, target_id=target)
    if settings.max_wait is None:
        return wait_until(None)
    deadline = datetime.fromisoformat(since_text) + parse_duration(settings.max_wait)
    if ctx.now < deadline:
        return wait_until(deadline)
    if settings.exit_on_timeout:
        return drop_out("no_action_in_time")
    return done(timed_out=True)


STEP = StepType("wait_for_action", Settings, check, holds_participants=True, run=run)
