"""What the benchmarks share: the environment, in-process moto with the tests' speed-ups, the app
behind chalice's test client, the engine on a fake clock, and a meter of every AWS request.

Importing this module sets fake credentials and a ``bench`` stage before anything of chalicelib
is imported (its settings and table names are read once), and removes any endpoint or profile,
so a benchmark can never reach a real AWS account.
"""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "FLOWS_OPERATOR_KEY": "operator-bench-key",
        "FLOWS_SIGNING_KEY": "signing-bench-key",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.setdefault("FLOWS_STAGE", "bench")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import json
import logging
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session

from chalicelib import moto_speedups
from chalicelib.api import gateway

moto_speedups.install()
gateway.install_local()
logging.getLogger("flows").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent

cpu = time.process_time
"""The clock of every timed figure: this process's CPU time. Everything measured (the product,
botocore, moto) runs in this one process and waits on nothing, so its CPU time is the work done,
and the other work on a shared machine does not inflate it as it inflates wall time."""
OPERATOR_KEY = os.environ["FLOWS_OPERATOR_KEY"]
KB, SQS_CHUNK = 1024, 64 * 1024

# -- the meter -----------------------------------------------------------------------------------

_DYNAMO_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


@dataclass
class Meter:
    """Every AWS request made while the meter is active, and what AWS would bill for it.

    ``calls`` are the requests the product makes (and SQS's Lambda poller makes for it: the
    receives and deletes of the local runtime stand in for them). ``emulated`` are the calls
    the local runtime makes only because moto does not fire schedules (listing, reading and
    deleting them): AWS does that itself, unbilled. DynamoDB capacity is computed from item
    sizes (see ``_DynamoCapacity``), SQS requests per 64 KB chunk.
    """

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    emulated: Counter[tuple[str, str]] = field(default_factory=Counter)
    sqs_requests: int = 0
    read_units: dict[str, float] = field(default_factory=dict)
    write_units: Counter[str] = field(default_factory=Counter)
    estimated_read_units: float = 0.0
    aws_seconds: float = 0.0
    emails: int = 0
    texts: int = 0
    schedules_fired: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    handler_seconds: dict[str, float] = field(default_factory=dict)
    handler_calls: int = 0
    handler_aws_seconds: float = 0.0
    emulating: bool = False
    in_handler: bool = False
    capacity: bool = True  # False: count calls and time only (no item snapshots)

    @property
    def requests(self) -> int:
        return sum(self.calls.values())

    def by_service(self) -> Counter[str]:
        services: Counter[str] = Counter()
        for (service, _), count in self.calls.items():
            services[service] += count
        return services

    def _record(self, service: str, operation: str, params: dict[str, Any], parsed: Any) -> None:
        if self.emulating and not (service == "sqs" and operation == "SendMessage"):
            self.emulated[(service, operation)] += 1
            return
        self.calls[(service, operation)] += 1
        if service == "sqs":
            self.sqs_requests += _sqs_chunks(operation, params, parsed)
        elif service == "sesv2" and operation == "SendEmail":
            self.emails += 1
        elif service == "sns" and operation == "Publish" and params.get("PhoneNumber"):
            self.texts += 1
        elif service == "dynamodb" and operation not in _DYNAMO_WRITES and self.capacity:
            units, estimated = _read_units(operation, params, parsed)
            for table, value in units.items():
                self.read_units[table] = self.read_units.get(table, 0.0) + value
            self.estimated_read_units += estimated


_active: Meter | None = None


@contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Count the AWS requests made inside the block into ``meter``."""
    global _active
    saved, _active = _active, meter
    try:
        yield meter
    finally:
        _active = saved


@contextmanager
def emulating() -> Iterator[None]:
    """Calls inside stand in for what AWS does by itself (moto never fires schedules)."""
    meter = _active
    if meter is None:
        yield
        return
    saved, meter.emulating = meter.emulating, True
    try:
        yield
    finally:
        meter.emulating = saved


def _sqs_chunks(operation: str, params: dict[str, Any], parsed: Any) -> int:
    """SQS bills each 64 KB chunk of a request's payload as one request."""
    if operation == "SendMessage":
        size = len(str(params.get("MessageBody", "")).encode())
    elif operation == "SendMessageBatch":
        size = sum(len(str(e.get("MessageBody", "")).encode()) for e in params.get("Entries", []))
    elif operation == "ReceiveMessage":
        received = (parsed or {}).get("Messages", [])
        size = sum(len(str(m.get("Body", "")).encode()) for m in received)
    else:
        size = 0
    return max(1, math.ceil(size / SQS_CHUNK))


def _before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if _active is None:
        return
    pending: dict[str, Any] = {"t0": cpu(), "params": params}
    service = model.service_model.service_name
    if _active.capacity and service == "dynamodb" and model.name in _DYNAMO_WRITES:
        pending["writes"] = _DynamoCapacity.before_write(model.name, params)
    context["bench"] = pending


def _after(parsed: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    pending = context.pop("bench", None)
    meter = _active
    if pending is None or meter is None:
        return
    spent = cpu() - pending["t0"]
    meter.aws_seconds += spent
    if meter.in_handler:
        meter.handler_calls += 1
        meter.handler_aws_seconds += spent
    service = model.service_model.service_name
    meter._record(service, model.name, pending["params"], parsed)
    if "writes" in pending:
        for name, units in _DynamoCapacity.after_write(pending["writes"]).items():
            meter.write_units[name] += units


_installed = False


def install_meter() -> None:
    """Hook every botocore client made from now on (boto3's, and each of PynamoDB's
    connections: both make their clients through ``botocore.session.Session.create_client``)
    with the ``before-parameter-build`` and ``after-call`` events. Install it before the first
    AWS call: clients are cached per process."""
    global _installed
    if _installed:
        return
    _installed = True
    real = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        made = real(self, *args, **kwargs)
        made.meta.events.register("before-parameter-build", _before)
        made.meta.events.register("after-call", _after)
        return made

    botocore.session.Session.create_client = create_client


# -- DynamoDB capacity, from item sizes -----------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    """What a write changes: the base item's size and each index's stored entry."""

    size: int | None
    entries: dict[str, tuple[Any, Any, int] | None]


@dataclass(frozen=True)
class _Write:
    table: str
    key: dict[str, Any]
    kind: str
    factor: int
    before: _Image


def _size(attrs: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value.size() for name, value in attrs.items())


def _wire_size(value: Any) -> int:
    """The DynamoDB size of an attribute value in wire format (``{"S": "..."}``)."""
    (kind, inner), *_ = value.items()
    if kind in ("S", "B"):
        return len(inner.encode() if isinstance(inner, str) else inner)
    if kind == "N":
        return len(inner.lstrip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _wire_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_wire_size(v) + 1 for v in inner)
    return sum(len(str(v).encode()) for v in inner)


def _item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _wire_size(value) for name, value in item.items())


class _DynamoCapacity:
    """Capacity units as DynamoDB on-demand bills them, computed from moto's items:

    - writes: 1 unit per KB of the larger of the item before and after (a delete: before; a
      failed condition: the item as it is), doubled in a transaction (the base table only);
      a ConditionCheck in a transaction is billed as a transactional write of the item.
    - global secondary indexes, on what each index stores (its projection), per the rules
      measured against DynamoDB (https://github.com/nubo-db/dynoxide, index_capacity.rs):
      joining or leaving an index costs the entry's KB; an entry changed in place the larger
      of its two images; a moved index key both; an unchanged entry nothing.
    - reads: 1 unit per 4 KB read (a query: of all items it returns, summed before
      rounding), halved when eventually consistent (every index query is); a missing item
      still costs the minimum.
    """

    @staticmethod
    def _backend() -> Any:
        from moto.dynamodb.models import dynamodb_backends

        from chalicelib.settings import get_settings

        settings = get_settings()
        return dynamodb_backends[settings.account_id][settings.region]

    @classmethod
    def _key_of(cls, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        table = cls._backend().get_table(table_name)
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {name: item[name] for name in names if name in item}

    @classmethod
    def _image(cls, table_name: str, key: dict[str, Any]) -> _Image:
        backend = cls._backend()
        try:
            table = backend.get_table(table_name)
            item = backend.get_item(table_name, key)
        except Exception:  # a call moto refuses (bad key or table): it bills nothing here either
            return _Image(None, {})
        entries: dict[str, tuple[Any, Any, int] | None] = {}
        for index in table.global_indexes:
            entries[index.name] = None if item is None else cls._entry(table, index, item.attrs)
        return _Image(None if item is None else _size(item.attrs), entries)

    @staticmethod
    def _entry(table: Any, index: Any, attrs: dict[str, Any]) -> tuple[Any, Any, int] | None:
        index_keys = [k["AttributeName"] for k in index.schema]
        if any(name not in attrs for name in index_keys):
            return None  # not in this sparse index
        projection = (index.projection or {}).get("ProjectionType", "ALL")
        table_keys = [table.hash_key_attr] + (
            [table.range_key_attr] if table.range_key_attr else []
        )
        if projection == "ALL":
            names = set(attrs)
        else:
            names = set(index_keys) | set(table_keys)
            if projection == "INCLUDE":
                names |= set(index.projection.get("NonKeyAttributes", []))
        projected = {n: attrs[n] for n in names if n in attrs}
        key = tuple(str(attrs[n].value) for n in index_keys)
        canonical = tuple(sorted((n, v.type, str(v.value)) for n, v in projected.items()))
        return key, canonical, _size(projected)

    @classmethod
    def before_write(cls, operation: str, params: dict[str, Any]) -> list[_Write]:
        writes: list[tuple[str, dict[str, Any], str, int]] = []
        if operation == "PutItem":
            table = params["TableName"]
            writes.append((table, cls._key_of(table, params["Item"]), "Put", 1))
        elif operation in ("UpdateItem", "DeleteItem"):
            writes.append((params["TableName"], params["Key"], operation, 1))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        writes.append((table, cls._key_of(table, item), "Put", 1))
                    else:
                        writes.append((table, request["DeleteRequest"]["Key"], "Delete", 1))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, op), *_ = entry.items()
                table = op["TableName"]
                key = cls._key_of(table, op["Item"]) if kind == "Put" else op["Key"]
                writes.append((table, key, kind, 2))
        return [_Write(t, k, kind, f, cls._image(t, k)) for t, k, kind, f in writes]

    @classmethod
    def after_write(cls, writes: list[_Write]) -> Counter[str]:
        units: Counter[str] = Counter()
        for write in writes:
            after = cls._image(write.table, write.key)
            before_kb = math.ceil((write.before.size or 0) / KB)
            after_kb = math.ceil((after.size or 0) / KB)
            units[write.table] += write.factor * max(1, before_kb, after_kb)
            if write.kind == "ConditionCheck":
                continue
            for index, old in write.before.entries.items():
                new = after.entries.get(index)
                index_units = _index_units(old, new)
                if index_units:
                    units[f"{write.table}/{index}"] += index_units
        return units


def _index_units(old: tuple[Any, Any, int] | None, new: tuple[Any, Any, int] | None) -> int:
    def kb(entry: tuple[Any, Any, int]) -> int:
        return max(1, math.ceil(entry[2] / KB))

    if old is None:
        return 0 if new is None else kb(new)
    if new is None:
        return kb(old)
    if old[0] != new[0]:
        return kb(old) + kb(new)
    if old[1] == new[1]:
        return 0
    return max(kb(old), kb(new))


def _read_units(
    operation: str, params: dict[str, Any], parsed: Any
) -> tuple[dict[str, float], float]:
    """Read units per table of one read call, and how many of them are estimated."""
    parsed = parsed or {}
    if operation == "GetItem":
        size = _item_size(parsed["Item"]) if parsed.get("Item") else 0
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        return {params["TableName"]: factor * max(1, math.ceil(size / (4 * KB)))}, 0.0
    if operation == "BatchGetItem":
        units: dict[str, float] = {}
        for table, request in params.get("RequestItems", {}).items():
            found = parsed.get("Responses", {}).get(table, [])
            factor = 1.0 if request.get("ConsistentRead") else 0.5
            missing = max(0, len(request.get("Keys", [])) - len(found))
            units[table] = factor * (
                sum(max(1, math.ceil(_item_size(i) / (4 * KB))) for i in found) + missing
            )
        return units, 0.0
    if operation in ("Query", "Scan"):
        table = params["TableName"]
        factor = 1.0 if params.get("ConsistentRead") and not params.get("IndexName") else 0.5
        items = parsed.get("Items")
        scanned = int(parsed.get("ScannedCount", 0))
        if items is not None and len(items) == scanned:
            size = sum(_item_size(i) for i in items)
            return {table: factor * max(1, math.ceil(size / (4 * KB)))}, 0.0
        # A count, or a filter that dropped items: the items read are not in the answer, so
        # take the index's mean item size (estimated; the step path makes no such query).
        mean = _mean_size(table, params.get("IndexName"))
        value = factor * max(1, math.ceil(scanned * mean / (4 * KB)))
        return {table: value}, value
    if operation == "TransactGetItems":
        units = {}
        for entry, found in zip(
            params.get("TransactItems", []), parsed.get("Responses", []), strict=False
        ):
            size = _item_size(found["Item"]) if found.get("Item") else 0
            table = entry["Get"]["TableName"]
            units[table] = units.get(table, 0.0) + 2 * max(1, math.ceil(size / (4 * KB)))
        return dict(units), 0.0
    return {}, 0.0


def _mean_size(table_name: str, index_name: str | None) -> float:
    backend = _DynamoCapacity._backend()
    table = backend.get_table(table_name)
    sizes = []
    for item in list(table.all_items())[:200]:
        if index_name:
            index = next(i for i in table.global_indexes if i.name == index_name)
            entry = _DynamoCapacity._entry(table, index, item.attrs)
            if entry is not None:
                sizes.append(entry[2])
        else:
            sizes.append(_size(item.attrs))
    return statistics.fmean(sizes) if sizes else 0.0


# -- moto and the app ------------------------------------------------------------------------------


@contextmanager
def local_aws() -> Iterator[None]:
    """In-process moto with the product's tables, queues and schedule group, metered."""
    from moto import mock_aws

    install_meter()
    with mock_aws():
        from chalicelib.store.resources import create_resources

        create_resources()
        yield


@dataclass
class Reply:
    status: int
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Api:
    """The app's HTTP API through chalice's test client, as one key."""

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def call(self, method: str, path: str, body: Any = None, *, expect: int = 0) -> Reply:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        data = json.dumps(body).encode() if body is not None else b""
        response = self.client.http.request(method, path, headers=headers, body=data)
        reply = Reply(response.status_code, response.body)
        if expect and reply.status != expect:
            raise AssertionError(f"{method} {path}: {reply.status} {reply.body[:300]!r}")
        return reply


@contextmanager
def app_client() -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


def new_tenant(client: Any) -> tuple[str, Api]:
    created = Api(client, OPERATOR_KEY).call(
        "POST", "/v1/admin/tenants", {"name": "Bench"}, expect=201
    )
    return str(created.json["tenant_id"]), Api(client, created.json["api_key"])


# -- the engine, run as SQS and the Scheduler would ------------------------------------------------


class Engine:
    """Runs both queues through the Lambda handlers (``pump_once``: receive up to ten, call the
    handler, delete) and fires due wake schedules, timing each handler call as one Lambda
    invocation into the active meter."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def handler(self, queue: str) -> Callable[[dict[str, Any], Any], Any]:
        from app import control_worker, step_worker

        worker = step_worker if queue == "steps" else control_worker

        def timed(event: dict[str, Any], context: Any) -> Any:
            started = cpu()
            if _active is not None:
                _active.in_handler = True
            try:
                return worker(event, context)
            finally:
                if _active is not None:
                    _active.in_handler = False
                    _active.invocations[queue] += 1
                    _active.messages[queue] += len(event["Records"])
                    spent = cpu() - started
                    _active.handler_seconds[queue] = _active.handler_seconds.get(queue, 0.0) + spent

        return timed

    def fire(self) -> int:
        from chalicelib.engine.local_runtime import fire_due_schedules

        with emulating():
            fired = fire_due_schedules(self.clock.now)
        if _active is not None:
            _active.schedules_fired += fired
        return fired

    def drain(self, rounds: int = 1000) -> int:
        from chalicelib.engine.local_runtime import drain

        total = 0
        for _ in range(rounds):
            moved = drain("control", self.handler("control"))
            moved += drain("steps", self.handler("steps")) + self.fire()
            if moved == 0:
                return total
            total += moved
        raise AssertionError("the engine did not settle")


START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the fake clock's start (a Monday)


def use_clock() -> Any:
    """The engine's clock, moved by the benchmark (tests/functional/engine_kit.FakeClock)."""
    from chalicelib.engine.runtime import runtime
    from tests.functional.engine_kit import FakeClock

    clock = FakeClock(START)
    runtime.clock = clock
    return clock


def queue_depth(queue: str) -> int:
    """Messages on a queue (visible, delayed or in flight), read from moto directly."""
    from moto.sqs.models import sqs_backends

    from chalicelib.settings import get_settings

    settings = get_settings()
    held = sqs_backends[settings.account_id][settings.region].queues[settings.queue_name(queue)]
    return len(held._messages)


def take_messages(queue: str) -> list[dict[str, Any]]:
    """Every message on a queue, taken off it directly in moto (no SQS request, and moto's
    send never slows with a backlog): what a synthetic SQS event is built from."""
    from moto.sqs.models import sqs_backends

    from chalicelib.settings import get_settings

    settings = get_settings()
    held = sqs_backends[settings.account_id][settings.region].queues[settings.queue_name(queue)]
    taken = [
        {"MessageId": m.id, "ReceiptHandle": m.id, "Body": m.body, "Attributes": {}}
        for m in held._messages
    ]
    held._messages.clear()
    return taken


@contextmanager
def no_gc() -> Iterator[None]:
    """Collect garbage first, then none inside the block: a collection's pause would otherwise
    land in whichever side of a comparison happened to trigger it."""
    import gc

    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
