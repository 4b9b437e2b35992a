"""Flows, their saved versions, and the trigger index.

A flow item holds the status, version and generation as attributes (so writes can be
conditioned on them) and the definition, timestamps and problems as JSON. Every save writes the
flow and its ``flow_versions`` item in one transaction. The trigger index (``pk =
tenant#trigger_type#target``, ``sk = flow_id``) lists the live flows each trigger enrols into;
lifecycle moves rewrite it in the same transaction as the status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.store.base import ConditionFailedError, dumps, error_code, key, loads, transaction
from chalicelib.store.models import FlowItem, FlowVersionItem, TriggerIndexItem

# Transactions hold at most 100 items: the flow, its version and the trigger index changes.
MAX_TRIGGER_KEYS = 48


@dataclass
class FlowRecord:
    flow_id: str
    status: str
    version: int
    generation: int
    data: dict[str, Any]


@dataclass(frozen=True)
class FlowVersion:
    version: int
    saved_at: str
    definition: dict[str, Any]


def _record(item: FlowItem) -> FlowRecord:
    return FlowRecord(
        flow_id=item.flow_id,
        status=item.status,
        version=int(item.version),
        generation=int(item.generation),
        data=loads(item.data),
    )


def _item(tenant_id: str, record: FlowRecord) -> FlowItem:
    return FlowItem(
        tenant_id,
        record.flow_id,
        status=record.status,
        version=record.version,
        generation=record.generation,
        data=dumps(record.data),
    )


def _version_item(tenant_id: str, record: FlowRecord, saved_at: str) -> FlowVersionItem:
    return FlowVersionItem(
        key(tenant_id, record.flow_id),
        record.version,
        data=dumps(record.data["definition"]),
        saved_at=saved_at,
    )


def get(tenant_id: str, flow_id: str) -> FlowRecord | None:
    try:
        return _record(FlowItem.get(tenant_id, flow_id, consistent_read=True))
    except DoesNotExist:
        return None


def state(tenant_id: str, flow_id: str) -> FlowRecord | None:
    """The flow's status, version and generation only (``data`` empty): what the worker reads
    on every step, without the definition (which it caches per version)."""
    try:
        item = FlowItem.get(
            tenant_id,
            flow_id,
            consistent_read=True,
            attributes_to_get=["tenant_id", "flow_id", "status", "version", "generation"],
        )
    except DoesNotExist:
        return None
    return FlowRecord(
        flow_id=item.flow_id,
        status=item.status,
        version=int(item.version),
        generation=int(item.generation),
        data={},
    )


def exists(tenant_id: str, flow_id: str) -> bool:
    return get(tenant_id, flow_id) is not None


def list_page(
    tenant_id: str, *, limit: int, after: str | None, status: str | None = None
) -> tuple[list[FlowRecord], str | None]:
    result = FlowItem.query(
        tenant_id,
        filter_condition=(FlowItem.status == status) if status else None,
        limit=limit,
        consistent_read=True,
        last_evaluated_key={"tenant_id": {"S": tenant_id}, "flow_id": {"S": after}}
        if after
        else None,
    )
    records = [_record(item) for item in result]
    last = result.last_evaluated_key
    return records, str(last["flow_id"]["S"]) if last else None


def create(tenant_id: str, record: FlowRecord, saved_at: str) -> None:
    with transaction() as tx:
        tx.save(_item(tenant_id, record), condition=FlowItem.flow_id.does_not_exist())
        tx.save(_version_item(tenant_id, record, saved_at))


def save(
    tenant_id: str,
    record: FlowRecord,
    *,
    saved_at: str,
    expected_version: int,
    expected_status: str,
    trigger_keys_before: Iterable[str] = (),
    trigger_keys_after: Iterable[str] = (),
    new_version: bool = True,
) -> None:
    """Write the flow if it is still at ``expected_version`` and ``expected_status``, with its
    new version item and the trigger index changes; ConditionFailedError otherwise."""
    before, after = set(trigger_keys_before), set(trigger_keys_after)
    with transaction() as tx:
        tx.save(
            _item(tenant_id, record),
            condition=(FlowItem.version == expected_version) & (FlowItem.status == expected_status),
        )
        if new_version:
            tx.save(_version_item(tenant_id, record, saved_at))
        for pk in before - after:
            tx.delete(TriggerIndexItem(pk, record.flow_id))
        for pk in after - before:
            tx.save(TriggerIndexItem(pk, record.flow_id))


def delete(tenant_id: str, record: FlowRecord, *, expected_status: str) -> None:
    """Delete the flow (if still in ``expected_status``) and every saved version."""
    try:
        FlowItem(tenant_id, record.flow_id).delete(
            condition=(FlowItem.version == record.version) & (FlowItem.status == expected_status)
        )
    except DeleteError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise ConditionFailedError(record.flow_id) from error
        raise
    with FlowVersionItem.batch_write() as batch:
        for item in FlowVersionItem.query(key(tenant_id, record.flow_id)):
            batch.delete(item)


def versions_page(
    tenant_id: str, flow_id: str, *, limit: int, after: int | None
) -> tuple[list[FlowVersion], int | None]:
    pk = key(tenant_id, flow_id)
    result = FlowVersionItem.query(
        pk,
        limit=limit,
        consistent_read=True,
        last_evaluated_key={"pk": {"S": pk}, "version": {"N": str(after)}}
        if after is not None
        else None,
    )
    versions = [FlowVersion(int(i.version), i.saved_at, loads(i.data)) for i in result]
    last = result.last_evaluated_key
    return versions, int(last["version"]["N"]) if last else None


def get_version(tenant_id: str, flow_id: str, version: int) -> FlowVersion | None:
    try:
        item = FlowVersionItem.get(key(tenant_id, flow_id), version, consistent_read=True)
    except DoesNotExist:
        return None
    return FlowVersion(int(item.version), item.saved_at, loads(item.data))


def flows_for_trigger(tenant_id: str, trigger_type: str, target: str | None) -> list[str]:
    """The ids of the live flows a trigger of this type and target enrols into."""
    pk = trigger_key(tenant_id, trigger_type, target)
    return [item.flow_id for item in TriggerIndexItem.query(pk, consistent_read=True)]


def trigger_key(tenant_id: str, trigger_type: str, target: str | None) -> str:
    return key(tenant_id, trigger_type, target or "*")


def running_flows() -> list[tuple[str, str]]:
    """(tenant_id, flow_id) of every running flow, all tenants (the sweeper's scan)."""
    return [
        (item.tenant_id, item.flow_id)
        for item in FlowItem.scan(FlowItem.status == "running", consistent_read=True)
    ]
