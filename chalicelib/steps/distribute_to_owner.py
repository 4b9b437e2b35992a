"""Distribute to owner: make one of several associates the contact's owner, in turn (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.api.models import Id
from chalicelib.clock import iso
from chalicelib.engine.outcomes import Outcome, RunContext, done, skipped
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import records


class Settings(StepSettings):
    associate_ids: list[Id] = Field(default_factory=list, description="handed out in rotation")
    group_id: Id | None = Field(None, description="its active associates join the rotation")
    only_if_unassigned: bool = Field(True, description="leave contacts that have an owner alone")
    fallback_owner_id: Id | None = Field(None, description="when no one in the rotation is active")


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not (settings.associate_ids or settings.group_id):
        yield missing("associate_ids", "choose associates and/or a group to distribute to")
    for index, associate_id in enumerate(settings.associate_ids):
        yield from ctx.ref("associate", associate_id, f"settings.associate_ids[{index}]")
    yield from ctx.ref("group", settings.group_id, "settings.group_id")
    yield from ctx.ref("associate", settings.fallback_owner_id, "settings.fallback_owner_id")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Hand the contact to the next active associate in strict rotation (a ticket per
    participant from an atomic counter), or the fallback owner; notify the new owner."""
    p, contact_record = ctx.participant, ctx.facts.contact_record
    if contact_record is None:
        return skipped("no_contact")
    if settings.only_if_unassigned and contact_record.data.get("owner_id"):
        return skipped("already_assigned")
    rotation = _rotation(p.tenant_id, settings)
    if rotation:
        scope = f"{p.flow_id}#{ctx.step.id}"
        owner = rotation[records.take_ticket(p.tenant_id, scope, p.participant_id) % len(rotation)]
    elif settings.fallback_owner_id:
        owner = settings.fallback_owner_id
    else:
        return skipped("no_owner")
    if owner == contact_record.data.get("owner_id"):
        return skipped("already_assigned")
    updated = records.Record(
        id=contact_record.id,
        data=contact_record.data | {"owner_id": owner, "updated_at": iso(ctx.now)},
        version=contact_record.version + 1,
    )
    write = records.replace_write(
        p.tenant_id, "contact", updated, expected_version=contact_record.version
    )
    name = " ".join(
        filter(None, [contact_record.data.get("first_name"), contact_record.data.get("last_name")])
    )
    return done(
        write,
        owner_id=owner,
        activity={"type": "owner_changed", "owner_id": owner},
        notify={"associate_id": owner, "text": f"You are the new owner of {name or 'a contact'}."},
    )


def _rotation(tenant_id: str, settings: Settings) -> list[str]:
    """The active associates named, then the group's active members, each once, in order."""
    chosen: list[str] = []
    for associate_id in settings.associate_ids:
        found = records.get(tenant_id, "associate", associate_id)
        if found and found.data.get("active", True) and associate_id not in chosen:
            chosen.append(associate_id)
    if settings.group_id:
        everyone, _ = records.list_page(tenant_id, "associate", limit=1000, after=None)
        for associate in everyone:
            data = associate.data
            in_group = settings.group_id in (data.get("group_ids") or [])
            if in_group and data.get("active", True) and associate.id not in chosen:
                chosen.append(associate.id)
    return chosen


STEP = StepType("distribute_to_owner", Settings, check, run=run)
