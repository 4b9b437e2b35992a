"""Send an email to the participant (SPEC.md §5, "Send message")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from chalicelib.api.models import Id
from chalicelib.aws import client
from chalicelib.engine.activities import tag_values
from chalicelib.engine.messaging import associate_of, sent
from chalicelib.engine.outcomes import Outcome, RunContext, skipped
from chalicelib.engine.runtime import runtime
from chalicelib.messaging import tokens
from chalicelib.messaging.email import add_pixel, compose, rewrite_links
from chalicelib.messaging.merge_tags import LINK_PREFIX, render, tags_in
from chalicelib.messaging.senders import TAG_HEADER_PREFIX
from chalicelib.settings import get_settings
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import records

if TYPE_CHECKING:
    from chalicelib.flows.definition import EmailSettings

MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024


class Settings(StepSettings):
    mailing_id: Id | None = Field(None, description="existing content; or inline subject/html/text")
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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Send the mailing (or inline content) to the contact, unless a check before sending
    skips it: email consent, the flow's subscription, an address, not suppressed, and no other
    participant of this flow already sent this step to the same address."""
    p, contact = ctx.participant, ctx.facts.contact or {}
    if not (contact.get("consent") or {}).get("email", True):
        return skipped("no_email_consent")
    subscription = ctx.flow.email_settings.subscription
    if subscription and subscription not in (contact.get("subscriptions") or []):
        return skipped("not_subscribed")
    address = contact.get("email")
    if not address:
        return skipped("no_email")
    if records.is_suppressed(p.tenant_id, address):
        return skipped("suppressed")
    mailing = records.get(p.tenant_id, "mailing", settings.mailing_id or "")
    content = mailing.data if mailing else {}
    subject = settings.subject or content.get("subject") or ""
    html, text = (
        settings.html or content.get("html") or "",
        settings.text or content.get("text") or "",
    )
    if not (html or text):
        return skipped("no_content")
    sender = _from(ctx)
    if sender is None:
        return skipped("no_sender")
    scope = f"{p.flow_id}#{p.generation}#{ctx.step.id}"
    if records.claim(p.tenant_id, scope, address.lower(), p.participant_id) != p.participant_id:
        return skipped("duplicate_address")
    tags = tag_values(ctx)
    about = {"t": p.tenant_id, "c": p.contact_id, "f": p.flow_id, "s": ctx.step.id,
             "m": settings.mailing_id, "p": p.participant_id}  # fmt: skip
    if subscription:
        about["sub"] = subscription
    # [[link.<link id>]] is that tracked link's url for this recipient (its actions run on a
    # click); every other http(s) link is counted and goes straight to its url.
    for tag in tags_in(html + text):
        if tag.startswith(LINK_PREFIX):
            tags[tag] = tokens.url("click", about | {"l": tag.removeprefix(LINK_PREFIX)})
    body = rewrite_links(
        render(html, tags, html=True),
        lambda link: link if tokens.is_ours(link) else tokens.url("click", about | {"u": link}),
    )
    message = compose(
        sender=sender,
        to=address,
        reply_to=_reply_to(ctx, sender[1]),
        subject=render(subject, tags),
        html=add_pixel(body, tokens.url("open", about)) if html else "",
        text=render(text, tags),
        attachments=[_attachment(key) for key in settings.attachments],
        headers={
            "List-Unsubscribe": f"<{tokens.url('unsubscribe', about)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Message tags for SES's bounce and complaint events (ids only).
            f"{TAG_HEADER_PREFIX}Tenant": p.tenant_id,
            f"{TAG_HEADER_PREFIX}Flow": p.flow_id,
            f"{TAG_HEADER_PREFIX}Step": ctx.step.id or "",
            f"{TAG_HEADER_PREFIX}Participant": p.participant_id,
        },
    )
    ctx.outside()
    message_id = runtime.email.send(message)
    return sent(
        ctx, "email", message_id, subject=str(message["Subject"]), mailing_id=settings.mailing_id
    )


def _from(ctx: RunContext) -> tuple[str | None, str] | None:
    """(name, address) from the flow's email settings; an owner without an address falls back."""
    sender = ctx.flow.email_settings.from_
    if sender is None:
        return None
    if sender.type == "specified":
        return (sender.name, sender.address) if sender.address else None
    owner = associate_of(ctx, sender.type)
    address = owner.get("email") or sender.fallback_address
    return (owner.get("name") or sender.name, address) if address else None


def _reply_to(ctx: RunContext, from_address: str) -> str | None:
    reply_to = ctx.flow.email_settings.reply_to
    if reply_to is None or reply_to.type == "none":
        return None
    if reply_to.type == "from":
        return from_address
    if reply_to.type == "specified":
        return reply_to.address
    return associate_of(ctx, reply_to.type).get("email")


def _attachment(key: str) -> tuple[str, bytes]:
    body = client("s3").get_object(Bucket=get_settings().attachments_bucket, Key=key)["Body"]
    return key.rsplit("/", 1)[-1], body.read()


STEP = StepType(
    "send_email",
    Settings,
    check,
    sends_email=True,
    sends_message=True,
    outside_effect=True,
    run=run,
)
