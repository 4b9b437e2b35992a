"""A contact's activity log: what the product did to or for the contact, newest first."""

from __future__ import annotations

from typing import Any

from chalicelib.ids import new_id
from chalicelib.store.base import Write, dumps, key, loads
from chalicelib.store.models import ActivityItem


def append(tenant_id: str, contact_id: str, entry: dict[str, Any]) -> str:
    """Record one entry; its id (time-ordered) is returned and stored in the entry."""
    activity_id = new_id("act")
    ActivityItem(
        key(tenant_id, contact_id), activity_id, data=dumps(entry | {"id": activity_id})
    ).save()
    return activity_id


def page(
    tenant_id: str, contact_id: str, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of entries, newest first."""
    pk = key(tenant_id, contact_id)
    result = ActivityItem.query(
        pk,
        limit=limit,
        scan_index_forward=False,
        last_evaluated_key={"pk": {"S": pk}, "sk": {"S": after}} if after else None,
    )
    entries = [loads(item.data) for item in result]
    last = result.last_evaluated_key
    return entries, str(last["sk"]["S"]) if last else None


def append_write(tenant_id: str, contact_id: str, activity_id: str, entry: dict[str, Any]) -> Write:
    """A transaction write of one entry under a caller-made id (a step uses one derived from
    the participant and seq, so a repeated commit cannot add it twice)."""
    item = ActivityItem(
        key(tenant_id, contact_id), activity_id, data=dumps(entry | {"id": activity_id})
    )
    return lambda tx: tx.save(item)
