"""Fault injection for the engine's fault tests: make a collaborator fail once, take step
messages off the queue and hand them to the worker as SQS would, count DynamoDB calls, and make
moto fast enough for a few thousand participants (and forget them afterwards)."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws import client, queue_url
from chalicelib.engine.local_runtime import sqs_event
from chalicelib.ids import new_id
from chalicelib.settings import get_settings
from chalicelib.store import base as store_base
from chalicelib.store import models, records
from chalicelib.store import participants as store
from chalicelib.store.participants import Participant
from chalicelib.store.records import Record


class InjectedFaultError(Exception):
    """The failure a test injected (a crash between two steps of the protocol)."""


@contextmanager
def replaced(
    owner: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> Iterator[None]:
    """Replace ``owner.name`` (a function the engine calls through its module, so the engine
    sees the replacement) by ``wrap(real)`` inside the block, and put the real one back."""
    real = getattr(owner, name)
    setattr(owner, name, wrap(real))
    try:
        yield
    finally:
        setattr(owner, name, real)


@contextmanager
def failing_once(
    owner: Any, name: str, *, when: Callable[..., bool] = lambda *_, **__: True
) -> Iterator[list[int]]:
    """Make ``owner.name`` raise InjectedFaultError the first time it is called with arguments
    for which ``when(*args, **kwargs)`` holds (a crash at that point); every other call goes to
    the real one. Yields a list that gets an element when the failure fired."""
    fired: list[int] = []

    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def fail_once(*args: Any, **kwargs: Any) -> Any:
            if not fired and when(*args, **kwargs):
                fired.append(1)
                raise InjectedFaultError(f"{name} crashed (injected)")
            return real(*args, **kwargs)

        return fail_once

    with replaced(owner, name, wrap):
        yield fired


# -- queue messages ------------------------------------------------------------------------------


_taken: list[dict[str, Any]] = []


def receive(queue: str, *, at_most: int = 10) -> list[dict[str, Any]]:
    """Take visible messages off a queue as the Lambda poller would (they stay on it, invisible,
    until deleted or released)."""
    found = (
        client("sqs")
        .receive_message(
            QueueUrl=queue_url(queue), MaxNumberOfMessages=at_most, AttributeNames=["All"]
        )
        .get("Messages", [])
    )
    _taken.extend({"queue": queue} | m for m in found)
    return list(found)


def deliver(queue: str, messages: list[dict[str, Any]]) -> set[str]:
    """Hand received messages to the queue's Lambda handler; the ids it reported as failed."""
    from app import control_worker, step_worker

    handler = step_worker if queue == "steps" else control_worker
    result = handler(sqs_event(queue, messages), None) or {}
    return {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}


def release(queue: str, message: dict[str, Any]) -> None:
    """Make a received message visible again at once (as its visibility timeout would): the
    next receive redelivers it with a higher receive count."""
    client("sqs").change_message_visibility(
        QueueUrl=queue_url(queue), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def delete(queue: str, message: dict[str, Any]) -> None:
    client("sqs").delete_message(QueueUrl=queue_url(queue), ReceiptHandle=message["ReceiptHandle"])


def on_queue(queue: str, flow_id: str) -> int:
    """How many messages of one flow a queue holds: visible, in flight or delayed. Read from
    moto's queue: SQS's own counts are approximate and cover every flow (the tests share the
    queues), while this count is exact."""
    from moto.sqs.models import sqs_backends

    settings = get_settings()
    held = sqs_backends[settings.account_id][settings.region].queues[settings.queue_name(queue)]
    return sum(json.loads(m.body).get("flow") == flow_id for m in held._messages)


def discard(*queues: str) -> None:
    """Delete every message on the queues that is visible or that a test took and left in
    flight (PurgeQueue would refuse a second call within 60 s)."""
    sqs = client("sqs")
    for message in _taken:
        if message["queue"] in queues:
            with contextlib.suppress(ClientError):  # deleted meanwhile
                sqs.change_message_visibility(
                    QueueUrl=queue_url(message["queue"]),
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
    _taken[:] = [m for m in _taken if m["queue"] not in queues]
    for queue in queues:
        while found := receive(queue):
            sqs.delete_message_batch(
                QueueUrl=queue_url(queue),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(found)
                ],
            )
        _taken[:] = [m for m in _taken if m["queue"] != queue]


# -- DynamoDB calls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DynamoCall:
    operation: str
    tables: frozenset[str]
    index: str | None


def _tables_of(params: dict[str, Any]) -> frozenset[str]:
    names = {params["TableName"]} if "TableName" in params else set()
    names |= set(params.get("RequestItems") or {})
    for item in params.get("TransactItems") or []:
        names |= {op["TableName"] for op in item.values() if "TableName" in op}
    return frozenset(names)


def _dynamodb_clients() -> list[Any]:
    """Every botocore client the product talks to DynamoDB with. PynamoDB gives each model
    class its own Connection, whose client comes from a fresh botocore session of its own (so
    there is no shared session to hook), plus the Connection store.base makes for transactions.
    Asking for them creates them if need be, which costs no call."""
    connections = [store_base._connection()]
    for value in vars(models).values():
        if (
            isinstance(value, type)
            and issubclass(value, models.Model)
            and value is not models.Model
        ):
            connections.append(value._get_connection().connection)
    unique = {id(c.client): c.client for c in connections}
    unique[id(client("dynamodb"))] = client("dynamodb")
    return list(unique.values())


@contextmanager
def dynamodb_calls() -> Iterator[list[DynamoCall]]:
    """Record every DynamoDB call made inside the block: its operation, tables and index.

    botocore emits ``before-parameter-build.dynamodb.<Operation>`` with the call's parameters
    (TableName, IndexName, RequestItems, TransactItems) on every call of a client, PynamoDB's
    included (it calls the client's ``_make_api_call``, which emits it). Events are registered
    per client (a client copies its session's handlers when it is made), so the hook goes on
    each client the product uses."""
    calls: list[DynamoCall] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append(DynamoCall(model.name, _tables_of(params), params.get("IndexName")))

    clients = _dynamodb_clients()
    for each in clients:
        each.meta.events.register("before-parameter-build.dynamodb", record)
    try:
        yield calls
    finally:
        for each in clients:
            each.meta.events.unregister("before-parameter-build.dynamodb", record)


# -- moto ----------------------------------------------------------------------------------------


class _TablesByReference:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a table "deep copy" is
    the table itself (the items a transaction touches are saved by the wrapper instead)."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _transact_saving_touched_items(real: Callable[..., None]) -> Callable[..., None]:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.get_table(op["TableName"])
            keys = op.get("Key") or {
                name: op["Item"][name]
                for name in (table.hash_key_attr, table.range_key_attr)
                if name
            }
            hash_key, range_key = self.get_keys_value(table, keys)
            before = copy.deepcopy(table.get_item(hash_key, range_key))
            saved.append((table, hash_key, range_key, before))
        try:
            real(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                items = table.items[hash_key] if range_key is not None else table.items
                slot = range_key if range_key is not None else hash_key
                if item is None:
                    items.pop(slot, None)
                else:
                    items[slot] = item
            raise

    return transact_write_items


@contextmanager
def moto_at_scale() -> Iterator[None]:
    """Make moto's (5.2) rolled-back transactions cost O(items touched), with the same results,
    for a test with thousands of participants. A TransactWriteItems deep-copies every table it
    touches before it runs (for its rollback): ~0.3 s a transaction with a few thousand
    participants. ``chalicelib.moto_speedups`` (installed for every test) skips the copies for a
    transaction that cannot fail; here every transaction saves (deep-copies) only the items it
    touches and puts exactly those back when it is cancelled: the same all-or-nothing result.
    The conditions, the writes and the cancellation reasons are still moto's own. (Queries no
    longer sort whole tables anywhere: ``chalicelib.moto_speedups``.)
    """
    from moto.dynamodb import models as backend_module

    backend = backend_module.DynamoDBBackend
    real_transact = backend.transact_write_items
    backend_module.copy = _TablesByReference()
    backend.transact_write_items = _transact_saving_touched_items(real_transact)
    try:
        yield
    finally:
        backend.transact_write_items = real_transact
        backend_module.copy = copy


@contextmanager
def forgetting_new_items() -> Iterator[None]:
    """Forget, when the block ends, every DynamoDB item written inside it (moto's tables go
    back to their items from before): thousands of items left behind would slow down every
    later test of the session (a Scan, a Query of a big partition)."""
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib import moto_speedups

    settings = get_settings()
    tables = dynamodb_backends[settings.account_id][settings.region].tables
    before = {
        name: {h: dict(v) if isinstance(v, dict) else v for h, v in table.items.items()}
        for name, table in tables.items()
    }
    try:
        yield
    finally:
        for name, items in before.items():
            tables[name].items.clear()
            tables[name].items.update(items)
            moto_speedups.forget_indexes(tables[name])


# -- many participants ---------------------------------------------------------------------------


def clone_contacts(tenant_id: str, contact_id: str, count: int) -> list[str]:
    """``count`` new contacts with the fields of an existing one (no unique field, so no guard
    item), written in batches by the store's own item builder."""
    template = records.get(tenant_id, "contact", contact_id)
    assert template is not None
    made = [new_id("con") for _ in range(count)]
    with models.CrmItem.batch_write() as contacts:
        for made_id in made:
            record = Record(id=made_id, data=template.data, version=1)
            contacts.save(records._item(tenant_id, "contact", record, None))
    return made


def clone_participants(template: Participant, contact_ids: list[str]) -> list[Participant]:
    """A participant like ``template`` (same step, wait and wake bucket) for each contact, with
    its live guard and its journal: what enrolment and the steps walked so far wrote for the
    template, written in batches (BatchWriteItem, 25 items a call) instead of one transaction
    and one message a participant. The store's own item builders make the items."""
    journal = store.history(template.tenant_id, template.participant_id)
    clones = [
        replace(template, participant_id=new_id("par"), contact_id=contact_id)
        for contact_id in contact_ids
    ]
    with (
        models.ParticipantItem.batch_write() as participant_items,
        models.ParticipantGuardItem.batch_write() as guard_items,
        models.JournalItem.batch_write() as journal_items,
    ):
        for p in clones:
            participant_items.save(store._item(p))
            guard_items.save(store._live_guard(p.tenant_id, p.flow_id, p.contact_id))
            for seq, entry in journal:
                journal_items.save(store._journal_item(p, seq, entry))
    return clones
