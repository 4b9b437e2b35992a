"""Notify by email: tell an associate or an address about the participant (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing

OWNERS = ("our_contact", "our_service_contact")


class Settings(StepSettings):
    to: str = Field("our_contact", description="our_contact, our_service_contact, or an address")
    subject: str | None = Field(None, max_length=998)
    text: str | None = Field(None, max_length=100_000)


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.subject:
        yield missing("subject", "the notification has no subject")
    if not settings.text:
        yield missing("text", "the notification has no text")
    if settings.to not in OWNERS:
        try:
            validate_email(settings.to, check_deliverability=False)
        except EmailNotValidError as error:
            yield missing("to", f"not an email address: {error}")
    yield from ctx.tags(settings.subject, "settings.subject")
    yield from ctx.tags(settings.text, "settings.text")


STEP = StepType("notify_email", Settings, check)
