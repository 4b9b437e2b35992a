"""Notify by SMS: text an associate or fixed numbers about the participant (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.messaging.phones import InvalidPhoneError, to_e164
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing


class Settings(StepSettings):
    to: Literal["our_contact", "our_service_contact"] | list[str] = Field(
        "our_contact", description="our_contact, our_service_contact, or E.164 numbers"
    )
    sender: str | None = Field(None, description="default: the flow's sms_sender")
    text: str | None = Field(None, max_length=10_000)


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.text:
        yield missing("text", "the notification has no text")
    if not (settings.sender or ctx.flow.sms_sender):
        yield missing("sender", "no sender: set one here or the flow's sms_sender")
    if isinstance(settings.to, list):
        if not settings.to:
            yield missing("to", "the notification has no recipient")
        for index, number in enumerate(settings.to):
            try:
                to_e164(number, None)
            except InvalidPhoneError as error:
                yield missing(f"to[{index}]", f"{number!r}: {error}")
    yield from ctx.tags(settings.text, "settings.text")


STEP = StepType("notify_sms", Settings, check)
