"""What happens to an email after it is sent: opens (``/o/``), unsubscribes (``/u/``), and SES
bounces and complaints (the ``ses_events`` queue).

Opens and unsubscribes come with a signed token naming the tenant, contact, flow, step,
mailing and participant (``steps.send_email``); each counts once per message in the step's
figures (``store.counters``). A forged token answers 404 and changes nothing.

Unsubscribing clears the contact's consent for what the email was sent under: the flow's
subscription type when it has one (the contact loses that subscription), else email consent
altogether (``consent.email = false``).

A hard bounce or a complaint puts the address on the tenant's suppression list (email steps
skip it with ``suppressed``) and records it on the contact's activity.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.api.problems import NotFoundError
from chalicelib.clock import Clock, iso_ms
from chalicelib.crm.resources import CONTACT
from chalicelib.crm.service import CrmService
from chalicelib.messaging import tokens
from chalicelib.store import counters, engagement, records

log = logging.getLogger("flows.triggers")

# The smallest transparent GIF: what an open pixel answers.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


def _about(kind: str, token: str) -> dict[str, Any]:
    try:
        about = tokens.verify(kind, token)
    except tokens.BadTokenError as error:
        raise NotFoundError("No such message.") from error
    if not about.get("t") or not about.get("c"):
        raise NotFoundError("No such message.")
    return about


def _message_key(about: dict[str, Any]) -> str:
    return f"{about.get('p')}#{about.get('s')}"


def opened(token: str, clock: Clock) -> None:
    """Record the first open of a message (later ones are the same open)."""
    about = _about("open", token)
    tenant_id, contact_id = str(about["t"]), str(about["c"])
    if not (about.get("f") and about.get("s")):
        return
    first = counters.count_once(
        tenant_id, str(about["f"]), str(about["s"]), "opened", _message_key(about)
    )
    if first:
        data = {"flow_id": about.get("f"), "step_id": about.get("s"), "mailing_id": about.get("m")}
        engagement.record(
            tenant_id, contact_id, "open", str(about.get("m") or "-"), iso_ms(clock()), data
        )


def check_unsubscribe(token: str) -> None:
    """404 unless the token is a real unsubscribe token (the confirmation page asks first)."""
    _about("unsubscribe", token)


def unsubscribe(token: str, clock: Clock) -> None:
    """Clear the consent the email was sent under (see the module docstring); idempotent."""
    about = _about("unsubscribe", token)
    tenant_id, contact_id = str(about["t"]), str(about["c"])
    record = records.get(tenant_id, CONTACT.kind, contact_id)
    if record is None:
        return  # the contact was deleted: nothing left to send to
    subscription = about.get("sub")
    crm = CrmService(tenant_id, clock, cause="unsubscribe")
    if subscription:
        held = list(record.data.get("subscriptions") or [])
        if subscription in held:
            held.remove(subscription)
            crm.patch(CONTACT, contact_id, {"subscriptions": held})
    elif (record.data.get("consent") or {}).get("email", True):
        crm.patch(CONTACT, contact_id, {"consent": {"email": False}})
    counted = bool(about.get("f") and about.get("s")) and counters.count_once(
        tenant_id, str(about["f"]), str(about["s"]), "unsubscribed", _message_key(about)
    )
    if counted:
        crm.record_activity(
            contact_id,
            {"type": "unsubscribed", "flow_id": about.get("f"), "subscription": subscription},
        )


# -- SES events -------------------------------------------------------------------------------


def ses_event(body: dict[str, Any]) -> None:
    """One SES notification (via SNS, raw or wrapped): suppress hard bounces and complaints.

    The tenant, flow and step come from the message's tags (``steps.send_email`` sets them);
    without tags the event is logged and dropped.
    """
    if "Message" in body and isinstance(body["Message"], str):
        body = json.loads(body["Message"])  # an SNS envelope
    kind = body.get("eventType") or body.get("notificationType")
    mail = body.get("mail") or {}
    tags = mail.get("tags") or {}
    tenant_id = _tag(tags, "flows-tenant")
    if kind == "Bounce":
        bounce = body.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return  # soft bounces: SES retries; nothing to remember
        addresses = [r.get("emailAddress") for r in bounce.get("bouncedRecipients") or []]
        reason = "bounce"
    elif kind == "Complaint":
        complaint = body.get("complaint") or {}
        addresses = [r.get("emailAddress") for r in complaint.get("complainedRecipients") or []]
        reason = "complaint"
    else:
        return
    if not tenant_id:
        log.warning("SES %s for message %s has no tenant tag", kind, mail.get("messageId"))
        return
    flow_id, step_id = _tag(tags, "flows-flow"), _tag(tags, "flows-step")
    participant_id = _tag(tags, "flows-participant")
    crm = CrmService(tenant_id, cause="ses")
    for address in filter(None, addresses):
        records.suppress(tenant_id, str(address), reason)
        contact_id = records.find_unique(tenant_id, CONTACT.kind, "email", str(address).lower())
        if contact_id:
            crm.record_activity(
                contact_id,
                {"type": f"email_{reason}", "provider_message_id": mail.get("messageId")},
            )
    if reason == "bounce" and flow_id and step_id:
        counters.count_once(tenant_id, flow_id, step_id, "bounced", f"{participant_id}#{step_id}")


def handle_ses_events(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of SES notifications; the failed records are reported for a retry (the
    queue's event source mapping reports batch item failures)."""
    failures = []
    for record in event.get("Records") or []:
        try:
            ses_event(json.loads(record["body"]))
        except Exception:
            log.exception("SES event %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


def _tag(tags: dict[str, Any], name: str) -> str | None:
    value = tags.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None
