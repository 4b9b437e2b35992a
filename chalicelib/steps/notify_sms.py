"""Notify by SMS: text an associate or fixed numbers about the participant (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.engine.activities import tag_values
from chalicelib.engine.messaging import associate_of, notified
from chalicelib.engine.outcomes import Outcome, RunContext, skipped
from chalicelib.engine.runtime import runtime
from chalicelib.messaging.merge_tags import render
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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Text our contact, our service contact, or fixed numbers about the participant's contact.
    No number: nothing is sent, recorded as skipped."""
    if isinstance(settings.to, list):
        numbers, kind = settings.to, "numbers"
    else:
        mobile = associate_of(ctx, settings.to).get("mobile_phone")
        numbers, kind = ([mobile] if mobile else []), settings.to
    text = render(settings.text or "", tag_values(ctx))
    if not numbers:
        return skipped("no_mobile")
    if not text:
        return skipped("no_text")
    sender = settings.sender or ctx.flow.sms_sender
    ctx.outside()
    ids = [runtime.sms.send(number, text, sender) for number in numbers]
    return notified(ctx, "sms", ",".join(ids), kind)


STEP = StepType("notify_sms", Settings, check, run=run, outside_effect=True)
