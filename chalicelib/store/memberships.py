"""Members of selections and projects, and the reverse: the lists a contact is in."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.store.base import Write, error_code, key
from chalicelib.store.models import MembershipItem


@dataclass(frozen=True)
class Membership:
    list_id: str
    contact_id: str
    added_at: str


def _membership(item: MembershipItem) -> Membership:
    return Membership(list_id=item.list_id, contact_id=item.contact_id, added_at=item.added_at)


def add(tenant_id: str, list_id: str, contact_id: str, added_at: str) -> bool:
    """Add a member; False (and nothing changed) when it already was one."""
    item = MembershipItem(
        key(tenant_id, list_id),
        contact_id,
        list_id=list_id,
        contact_key=key(tenant_id, contact_id),
        added_at=added_at,
    )
    try:
        item.save(condition=MembershipItem.contact_id.does_not_exist())
    except PutError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def remove(tenant_id: str, list_id: str, contact_id: str) -> bool:
    """Remove a member; False when it was not one."""
    try:
        MembershipItem(key(tenant_id, list_id), contact_id).delete(
            condition=MembershipItem.contact_id.exists()
        )
    except DeleteError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get(tenant_id: str, list_id: str, contact_id: str) -> Membership | None:
    """The membership, read consistently, or None."""
    try:
        item = MembershipItem.get(key(tenant_id, list_id), contact_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _membership(item)


def members_page(
    tenant_id: str, list_id: str, *, limit: int, after: str | None
) -> tuple[list[Membership], str | None]:
    """One page of a list's members, ordered by contact id."""
    pk = key(tenant_id, list_id)
    result = MembershipItem.query(
        pk,
        limit=limit,
        consistent_read=True,
        last_evaluated_key={"pk": {"S": pk}, "contact_id": {"S": after}} if after else None,
    )
    members = [_membership(item) for item in result]
    last = result.last_evaluated_key
    return members, str(last["contact_id"]["S"]) if last else None


def lists_of(tenant_id: str, contact_id: str) -> list[Membership]:
    """Every selection and project the contact is in."""
    items = MembershipItem.by_contact.query(key(tenant_id, contact_id))
    return [_membership(item) for item in items]


def add_write(tenant_id: str, list_id: str, contact_id: str, added_at: str) -> Write:
    """A transaction write that makes the contact a member (a step's effect; the step checked
    it was not one)."""
    item = MembershipItem(
        key(tenant_id, list_id),
        contact_id,
        list_id=list_id,
        contact_key=key(tenant_id, contact_id),
        added_at=added_at,
    )
    return lambda tx: tx.save(item)


def remove_write(tenant_id: str, list_id: str, contact_id: str) -> Write:
    """A transaction write that removes the membership (absent or not)."""
    item = MembershipItem(key(tenant_id, list_id), contact_id)
    return lambda tx: tx.delete(item)
