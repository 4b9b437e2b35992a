"""A contact's engagement: link clicks, form submissions, email opens.

``pk = tenant#contact_id``, ``sk = kind#target#at#id``: "did the contact click this link since
then" is one query on a key range.
"""

from __future__ import annotations

from typing import Any

from chalicelib.ids import new_id
from chalicelib.store.base import dumps, key, loads
from chalicelib.store.models import EngagementItem

KINDS = ("click", "submit", "open")


def record(
    tenant_id: str, contact_id: str, kind: str, target_id: str, at: str, data: dict[str, Any]
) -> None:
    """Remember one click (target: link), submission (form) or open (mailing)."""
    assert kind in KINDS
    sk = f"{kind}#{target_id}#{at}#{new_id('eng')}"
    entry = data | {"kind": kind, "target_id": target_id, "at": at}
    EngagementItem(key(tenant_id, contact_id), sk, data=dumps(entry)).save()


def since(
    tenant_id: str, contact_id: str, kind: str, target_id: str, at: str | None
) -> list[dict[str, Any]]:
    """The contact's engagements of one kind on one target at or after ``at`` (all when None),
    oldest first."""
    low = f"{kind}#{target_id}#{at or ''}"
    high = f"{kind}#{target_id}#~"
    items = EngagementItem.query(
        key(tenant_id, contact_id), EngagementItem.sk.between(low, high), consistent_read=True
    )
    return [loads(item.data) for item in items]
