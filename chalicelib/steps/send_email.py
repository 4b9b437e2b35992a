"""Send an email to the participant (SPEC.md §5, "Send message")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing

if TYPE_CHECKING:
    from chalicelib.flows.definition import EmailSettings

MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024


class Settings(StepSettings):
    mailing_id: str | None = Field(
        None, description="existing content; or inline subject/html/text"
    )
    subject: str | None = Field(
        None, max_length=998, description="inline, or overrides the mailing's"
    )
    html: str | None = Field(None, max_length=1_000_000)
    text: str | None = Field(None, max_length=1_000_000)
    attachments: list[str] = Field(default_factory=list, description="S3 keys, 25 MB in all")


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not (settings.mailing_id or settings.html or settings.text):
        yield missing("mailing_id", "the email has no content: choose a mailing or write html/text")
    if not (settings.mailing_id or settings.subject):
        yield missing("subject", "the email has no subject")
    yield from ctx.ref("mailing", settings.mailing_id, "settings.mailing_id")
    for name in ("subject", "html", "text"):
        yield from ctx.tags(getattr(settings, name), f"settings.{name}")
    yield from _sender(ctx.flow.email_settings)
    total = 0
    for index, key in enumerate(settings.attachments):
        size = ctx.attachment_size(key)
        if size is None:
            yield missing(f"attachments[{index}]", f"attachment {key!r} does not exist")
        total += size or 0
    if total > MAX_ATTACHMENTS_BYTES:
        yield missing("attachments", f"attachments take {total / 2**20:.1f} MB; 25 MB at most")


def _sender(email: EmailSettings) -> Iterator[Issue]:
    """The flow's from and reply-to, which every email step needs."""
    sender, reply_to = email.from_, email.reply_to
    if sender is None or (sender.type == "specified" and not sender.address):
        yield missing("from", "sender address is missing")
    elif sender.type != "specified" and not sender.fallback_address:
        yield Issue(
            "settings.from", "no fallback sender address for when the owner has none", "warning"
        )
    if reply_to is None or (reply_to.type == "specified" and not reply_to.address):
        yield missing("reply_to", "reply-to address is missing")


STEP = StepType("send_email", Settings, check, sends_email=True)
