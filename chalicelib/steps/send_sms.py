"""Send an SMS to the participant (SPEC.md §5, "Send message")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing


class Settings(StepSettings):
    sender: str | None = Field(None, description="default: the flow's sms_sender")
    text: str | None = Field(None, max_length=10_000)
    exit_if_no_mobile: bool = False


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.text:
        yield missing("text", "the SMS has no text")
    if not (settings.sender or ctx.flow.sms_sender):
        yield missing("sender", "no sender: set one here or the flow's sms_sender")
    yield from ctx.tags(settings.text, "settings.text")


STEP = StepType("send_sms", Settings, check)
