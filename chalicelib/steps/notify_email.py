"""Notify by email: tell an associate or an address about the participant (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import Field

from chalicelib.engine.activities import tag_values
from chalicelib.engine.messaging import associate_of, default_sender, notified
from chalicelib.engine.outcomes import Outcome, RunContext, skipped
from chalicelib.engine.runtime import runtime
from chalicelib.messaging.merge_tags import render
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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Email our contact, our service contact, or an address about the participant's contact."""
    if settings.to in ("our_contact", "our_service_contact"):
        address = associate_of(ctx, settings.to).get("email")
    else:
        address = settings.to
    if not address:
        return skipped("no_address")
    sender, name = default_sender(ctx)
    if not sender:
        return skipped("no_sender")
    tags = tag_values(ctx)
    message = EmailMessage()
    message["From"] = formataddr((name or "", sender))
    message["To"] = address
    message["Subject"] = render(settings.subject or "", tags)
    message.set_content(render(settings.text or "", tags))
    kind = settings.to if settings.to in ("our_contact", "our_service_contact") else "address"
    ctx.outside()
    return notified(ctx, "email", runtime.email.send(message), kind)


STEP = StepType("notify_email", Settings, check, run=run, outside_effect=True)
