"""Helpers the message steps share: the sender address, recipients among associates, and the
detail a sent message leaves (journal, activity, the participant's last sending)."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.engine.outcomes import Outcome, RunContext, done
from chalicelib.tenants.service import get_settings_of


def sent(ctx: RunContext, channel: str, message_id: str, **about: Any) -> Outcome:
    """The outcome of a message that went out."""
    sending = {"channel": channel, "at": iso(ctx.now), "status": "sent", "step_id": ctx.step.id}
    activity = {"type": "message_sent", "channel": channel, "provider_message_id": message_id}
    return done(
        provider_message_id=message_id,
        channel=channel,
        activity=activity | about,
        last_sending=sending,
        **{k: v for k, v in about.items() if k in ("segments", "to_kind")},
    )


def notified(ctx: RunContext, channel: str, message_id: str, to_kind: str) -> Outcome:
    """The outcome of a notification to staff (no activity on the contact's record)."""
    return done(provider_message_id=message_id, channel=channel, to_kind=to_kind)


def associate_of(ctx: RunContext, to: str) -> dict[str, Any]:
    contact = ctx.facts.contact or {}
    owner = contact.get("owner_id") if to == "our_contact" else contact.get("service_owner_id")
    return ctx.facts.associate(owner)


def default_sender(ctx: RunContext) -> tuple[str | None, str | None]:
    """(address, name) for notifications: the flow's specified sender, else the tenant's."""
    sender = ctx.flow.email_settings.from_
    if sender is not None and sender.type == "specified" and sender.address:
        return sender.address, sender.name
    settings = get_settings_of(ctx.participant.tenant_id)
    return settings.default_sender_address, settings.default_sender_name
