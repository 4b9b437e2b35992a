"""Send an SMS to the participant (SPEC.md §5, "Send message")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.engine.activities import tag_values
from chalicelib.engine.messaging import sent
from chalicelib.engine.outcomes import Outcome, RunContext, drop_out, skipped
from chalicelib.engine.runtime import runtime
from chalicelib.messaging.merge_tags import render
from chalicelib.messaging.segments import sms_segments
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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Text the contact's mobile: needs SMS consent and a number (else skip, or drop out with
    ``no_mobile`` when ``exit_if_no_mobile``)."""
    contact = ctx.facts.contact or {}
    if not (contact.get("consent") or {}).get("sms", True):
        return skipped("no_sms_consent")
    mobile = contact.get("mobile_phone")
    if not mobile:
        return drop_out("no_mobile") if settings.exit_if_no_mobile else skipped("no_mobile")
    text = render(settings.text or "", tag_values(ctx))
    if not text:
        return skipped("no_text")
    ctx.outside()
    message_id = runtime.sms.send(mobile, text, settings.sender or ctx.flow.sms_sender)
    return sent(ctx, "sms", message_id, text=text, segments=sms_segments(text).count)


STEP = StepType("send_sms", Settings, check, run=run, sends_message=True, outside_effect=True)
