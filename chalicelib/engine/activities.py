"""What the "Create activity" steps share: whom a step means by its owner setting, the merge-tag
values of the participant's contact, and creating a follow-up, request or sale in the step's
transaction."""

from __future__ import annotations

from typing import Any

from chalicelib.clock import iso
from chalicelib.engine.outcomes import Outcome, RunContext, done
from chalicelib.ids import new_id
from chalicelib.messaging.merge_tags import values_for
from chalicelib.store import records
from chalicelib.store.records import Record
from chalicelib.triggers.kinds import created_triggers

PREFIXES = {"follow_up": "fu", "request": "req", "sale": "sal"}


def owner_of(ctx: RunContext, spec: str | None) -> str | None:
    """``our_contact`` / ``our_service_contact`` (the contact's owners) or an associate id."""
    contact = ctx.facts.contact or {}
    if spec == "our_contact":
        return contact.get("owner_id")
    if spec == "our_service_contact":
        return contact.get("service_owner_id")
    return spec or None


def tag_values(ctx: RunContext) -> dict[str, str]:
    contact = ctx.facts.contact or {}
    return values_for(contact, ctx.facts.company, ctx.facts.associate(contact.get("owner_id")))


def create(ctx: RunContext, kind: str, fields: dict[str, Any], **detail: Any) -> Outcome:
    """Create a follow-up, request or sale for the participant's contact with the move."""
    p = ctx.participant
    now = iso(ctx.now)
    record = Record(
        id=new_id(PREFIXES[kind]),
        data=fields | {"contact_id": p.contact_id, "created_at": now, "updated_at": now},
        version=1,
    )
    write = records.create_write(p.tenant_id, kind, record, contact_id=p.contact_id)
    activity = {"type": "activity_created", "kind": kind, "object_id": record.id}
    fires = [t.dump() for t in created_triggers(kind, record.data)]
    return done(write, object_id=record.id, activity=activity, fires=fires, **detail)
