"""CRM objects in the ``crm`` table: get, list, create, replace, delete, unique guards.

An object is a dict of fields (JSON in ``data``) with a ``version`` for optimistic
concurrency. Fields named unique (a contact's email) hold a guard item in the same table, written
in the same transaction, so two objects of one tenant never share the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.store.base import (
    ConditionFailedError,
    Write,
    dumps,
    error_code,
    key,
    loads,
    transaction,
)
from chalicelib.store.models import CrmItem


@dataclass
class Record:
    """One CRM object as the store holds it."""

    id: str
    data: dict[str, Any]
    version: int


class UniqueTakenError(Exception):
    """Another object of the tenant already holds this unique value."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class VersionConflictError(Exception):
    """The object changed (or vanished) since it was read."""


Unique = Mapping[str, str | None]


def _record(item: CrmItem) -> Record:
    return Record(id=item.sk, data=loads(item.data), version=int(item.version))


def _guard(tenant_id: str, kind: str, field: str, value: str, object_id: str) -> CrmItem:
    return CrmItem(key(tenant_id, kind, field), value, data=dumps({"id": object_id}))


def get(tenant_id: str, kind: str, object_id: str) -> Record | None:
    """The object, read consistently, or None."""
    try:
        return _record(CrmItem.get(key(tenant_id, kind), object_id, consistent_read=True))
    except DoesNotExist:
        return None


def exists(tenant_id: str, kind: str, object_id: str) -> bool:
    return get(tenant_id, kind, object_id) is not None


def find_unique(tenant_id: str, kind: str, field: str, value: str) -> str | None:
    """The id of the object holding a unique value, or None."""
    try:
        guard = CrmItem.get(key(tenant_id, kind, field), value, consistent_read=True)
    except DoesNotExist:
        return None
    return str(loads(guard.data)["id"])


def list_page(
    tenant_id: str, kind: str, *, limit: int, after: str | None
) -> tuple[list[Record], str | None]:
    """One page of a kind's objects in creation order, and the key to continue after."""
    result = CrmItem.query(
        key(tenant_id, kind),
        limit=limit,
        last_evaluated_key={"pk": {"S": key(tenant_id, kind)}, "sk": {"S": after}}
        if after
        else None,
        consistent_read=True,
    )
    records = [_record(item) for item in result]
    return records, _last(result.last_evaluated_key)


def list_for_contact(
    tenant_id: str, kind: str, contact_id: str, *, limit: int, after: str | None
) -> tuple[list[Record], str | None]:
    """One page of a contact's objects of one kind (follow-ups, requests, sales)."""
    contact_key = key(tenant_id, kind, contact_id)
    start = (
        {
            "contact_key": {"S": contact_key},
            "sk": {"S": after},
            "pk": {"S": key(tenant_id, kind)},
        }
        if after
        else None
    )
    result = CrmItem.by_contact.query(contact_key, limit=limit, last_evaluated_key=start)
    records = [_record(item) for item in result]
    return records, _last(result.last_evaluated_key)


def _last(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    return str(last_evaluated_key["sk"]["S"])


def _item(tenant_id: str, kind: str, record: Record, contact_id: str | None) -> CrmItem:
    return CrmItem(
        key(tenant_id, kind),
        record.id,
        data=dumps(record.data),
        version=record.version,
        contact_key=key(tenant_id, kind, contact_id) if contact_id else None,
    )


def create(
    tenant_id: str,
    kind: str,
    record: Record,
    *,
    unique: Unique | None = None,
    contact_id: str | None = None,
) -> None:
    """Write a new object and its unique guards; UniqueTakenError if a value is taken."""
    guards = {f: v for f, v in (unique or {}).items() if v}
    item = _item(tenant_id, kind, record, contact_id)
    if not guards:
        try:
            item.save(condition=CrmItem.sk.does_not_exist())
        except PutError as error:
            raise VersionConflictError(record.id) from error
        return
    try:
        with transaction() as tx:
            tx.save(item, condition=CrmItem.sk.does_not_exist())
            for field, value in guards.items():
                guard = _guard(tenant_id, kind, field, value, record.id)
                tx.save(guard, condition=CrmItem.sk.does_not_exist())
    except ConditionFailedError:
        raise _taken(tenant_id, kind, guards) from None


def replace(
    tenant_id: str,
    kind: str,
    record: Record,
    *,
    expected_version: int,
    unique_before: Unique | None = None,
    unique_after: Unique | None = None,
    contact_id: str | None = None,
) -> None:
    """Replace an object read at ``expected_version``, moving any unique guards that changed.

    VersionConflictError when it changed since; UniqueTakenError when a new value is taken.
    """
    before, after = unique_before or {}, unique_after or {}
    changed = [f for f in after if before.get(f) != after.get(f)]
    item = _item(tenant_id, kind, record, contact_id)
    condition = CrmItem.version == expected_version
    try:
        with transaction() as tx:
            tx.save(item, condition=condition)
            for field in changed:
                old, new = before.get(field), after.get(field)
                if old:
                    tx.delete(CrmItem(key(tenant_id, kind, field), old))
                if new:
                    guard = _guard(tenant_id, kind, field, new, record.id)
                    tx.save(guard, condition=CrmItem.sk.does_not_exist())
    except ConditionFailedError:
        current = get(tenant_id, kind, record.id)
        if current is None or current.version != expected_version:
            raise VersionConflictError(record.id) from None
        raise _taken(tenant_id, kind, {f: after[f] for f in changed}) from None


def delete(tenant_id: str, kind: str, record: Record, *, unique: Unique | None = None) -> None:
    """Delete an object and its unique guards."""
    with transaction() as tx:
        tx.delete(CrmItem(key(tenant_id, kind), record.id))
        for field, value in (unique or {}).items():
            if value:
                tx.delete(CrmItem(key(tenant_id, kind, field), value))


def _taken(tenant_id: str, kind: str, values: Unique) -> UniqueTakenError:
    for field, value in values.items():
        if value and find_unique(tenant_id, kind, field, value) is not None:
            return UniqueTakenError(field)
    return UniqueTakenError(next(iter(values), ""))


def replace_write(tenant_id: str, kind: str, record: Record, *, expected_version: int) -> Write:
    """A transaction write replacing an object read at ``expected_version`` (a step's update);
    the transaction fails if the object changed meanwhile."""
    item = CrmItem(key(tenant_id, kind), record.id, data=dumps(record.data), version=record.version)
    return lambda tx: tx.save(item, condition=CrmItem.version == expected_version)


def create_write(tenant_id: str, kind: str, record: Record, *, contact_id: str | None) -> Write:
    """A transaction write creating an object (a step's follow-up, request or sale)."""
    item = _item(tenant_id, kind, record, contact_id)
    return lambda tx: tx.save(item, condition=CrmItem.sk.does_not_exist())


def _slot_pk(tenant_id: str, associate_id: str) -> str:
    return key(tenant_id, "slot", associate_id)


def slots_taken(tenant_id: str, associate_id: str, start: datetime, end: datetime) -> set[datetime]:
    """The booked 15-minute blocks of an associate between two moments."""
    items = CrmItem.query(
        _slot_pk(tenant_id, associate_id),
        CrmItem.sk.between(_block_key(start), _block_key(end)),
        consistent_read=True,
    )
    return {datetime.fromisoformat(item.sk) for item in items}


def slot_write(tenant_id: str, associate_id: str, block: datetime, owner_id: str) -> Write:
    """A transaction write booking one block; the transaction fails if it is booked."""
    item = CrmItem(
        _slot_pk(tenant_id, associate_id), _block_key(block), data=dumps({"id": owner_id})
    )
    return lambda tx: tx.save(item, condition=CrmItem.sk.does_not_exist())


def _block_key(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def claim(tenant_id: str, scope: str, value: str, owner: str) -> str:
    """Make ``owner`` the holder of ``value`` within ``scope`` unless someone holds it already;
    returns the holder (``owner`` when the claim is, or was already, its own)."""
    item = CrmItem(key(tenant_id, "claim", scope), value, data=dumps({"id": owner}))
    try:
        item.save(condition=CrmItem.sk.does_not_exist())
    except PutError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        held = CrmItem.get(key(tenant_id, "claim", scope), value, consistent_read=True)
        return str(loads(held.data)["id"])
    return owner


def suppress(tenant_id: str, email: str, reason: str) -> None:
    """Put an address on the tenant's suppression list (a bounce or a complaint)."""
    CrmItem(key(tenant_id, "suppressed"), email.lower(), data=dumps({"reason": reason})).save()


def is_suppressed(tenant_id: str, email: str) -> bool:
    try:
        CrmItem.get(key(tenant_id, "suppressed"), email.lower(), consistent_read=True)
    except DoesNotExist:
        return False
    return True


def take_ticket(tenant_id: str, scope: str, holder: str) -> int:
    """The holder's ticket in a rotation: a number from an atomic counter, taken once per
    holder (a repeated call returns the same number), so rotation stays strict under retries
    and concurrency."""
    counter_pk, holder_pk = key(tenant_id, "counter"), key(tenant_id, "ticket", scope)
    try:
        held = CrmItem.get(holder_pk, holder, consistent_read=True)
        return int(loads(held.data)["n"])
    except DoesNotExist:
        pass
    counter = CrmItem(counter_pk, scope, data="{}")
    counter.update(actions=[CrmItem.version.add(1)])
    number = int(counter.version) - 1
    return int(loads(claim_value(holder_pk, holder, dumps({"n": number})))["n"])


def claim_value(pk: str, sk: str, data: str) -> str:
    """Write ``data`` under (pk, sk) unless something is there; returns what is there."""
    try:
        CrmItem(pk, sk, data=data).save(condition=CrmItem.sk.does_not_exist())
    except PutError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return str(CrmItem.get(pk, sk, consistent_read=True).data)
    return data


def notification_write(
    tenant_id: str, associate_id: str, notification_id: str, entry: dict[str, Any]
) -> Write:
    """A transaction write of a notification for an associate (id from participant + seq)."""
    item = CrmItem(
        key(tenant_id, "notification", associate_id),
        notification_id,
        data=dumps(entry | {"id": notification_id}),
    )
    return lambda tx: tx.save(item)


def notifications_page(
    tenant_id: str, associate_id: str, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """An associate's notifications, newest first."""
    pk = key(tenant_id, "notification", associate_id)
    result = CrmItem.query(
        pk,
        limit=limit,
        scan_index_forward=False,
        consistent_read=True,
        last_evaluated_key={"pk": {"S": pk}, "sk": {"S": after}} if after else None,
    )
    items = [loads(item.data) for item in result]
    return items, _last(result.last_evaluated_key)


def mark_notification_emailed(tenant_id: str, associate_id: str, notification_id: str) -> bool:
    """Claim the one email of a notification; False when it was claimed already."""
    item = CrmItem(key(tenant_id, "notification", associate_id), notification_id)
    try:
        # version 1: not emailed yet; the claim makes it 2.
        item.update(
            actions=[CrmItem.version.set(2)],
            condition=CrmItem.sk.exists() & (CrmItem.version == 1),
        )
    except UpdateError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def notification(tenant_id: str, associate_id: str, notification_id: str) -> dict[str, Any] | None:
    try:
        item = CrmItem.get(
            key(tenant_id, "notification", associate_id), notification_id, consistent_read=True
        )
    except DoesNotExist:
        return None
    return loads(item.data)


def publish(kind: str, object_id: str, tenant_id: str) -> None:
    """Make a tenant's object reachable by id alone, for a public url without a tenant in it
    (a form's ``/f/{form_id}``): ``pk = global#kind``, ``sk = object id``."""
    CrmItem(key("global", kind), object_id, data=dumps({"tenant_id": tenant_id})).save()


def unpublish(kind: str, object_id: str) -> None:
    CrmItem(key("global", kind), object_id).delete()


def publisher(kind: str, object_id: str) -> str | None:
    """The tenant that published ``object_id``, or None."""
    try:
        item = CrmItem.get(key("global", kind), object_id, consistent_read=True)
    except DoesNotExist:
        return None
    return str(loads(item.data)["tenant_id"])
