"""Notifications to associates (a new owner, a follow-up assigned): an item in the CRM, read
at ``GET /v1/associates/{id}/notifications``, and one email when the associate has an address.

The item is written in the step's transaction; the email is a ``notify`` control job posted
after the commit, which claims the notification before sending, so it goes out at most once.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from chalicelib.engine.messages import handles, send
from chalicelib.engine.runtime import runtime
from chalicelib.store import records
from chalicelib.tenants.service import get_settings_of

NOTIFY = "notify"


def send_notification_email(tenant_id: str, associate_id: str, notification_id: str) -> None:
    send(
        "control",
        {
            "type": NOTIFY,
            "tenant": tenant_id,
            "associate": associate_id,
            "notification": notification_id,
        },
    )


@handles(NOTIFY)
def email_notification(message: dict[str, Any]) -> None:
    tenant_id, associate_id = message["tenant"], message["associate"]
    associate = records.get(tenant_id, "associate", associate_id)
    address = associate.data.get("email") if associate else None
    settings = get_settings_of(tenant_id)
    if not address or not settings.default_sender_address:
        return
    note = records.notification(tenant_id, associate_id, message["notification"])
    if note is None:
        return
    if not records.mark_notification_emailed(tenant_id, associate_id, note["id"]):
        return
    email = EmailMessage()
    email["From"] = formataddr(
        (settings.default_sender_name or "Flows", settings.default_sender_address)
    )
    email["To"] = address
    email["Subject"] = "Flows: " + note["text"][:100]
    email.set_content(note["text"])
    runtime.email.send(email)
