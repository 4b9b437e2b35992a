"""Local-only: make moto's DynamoDB cost what DynamoDB's costs, with moto's own results.

Used by the local stack (``make run``), the tests and ``bench/``; never imported by a Lambda
(moto is not in requirements.txt). Three of moto's (5.2) costs grow with a table's size where
DynamoDB's do not, so a scenario with thousands of participants slowed down as it went, and a
third made every call cost several milliseconds of Python:

- **Every Query sorted the whole table first.** ``Table.query`` starts from
  ``Table.all_items()``, which collects every item and sorts them all by their keys (comparing
  moto's ``DynamoType`` objects, which convert their values on every comparison), and only
  then keeps the items of the queried partition (or, for an index, the items whose index key
  matches, which it sorts again). Here, inside a Query, ``all_items`` hands back only the
  queried partition of the table (a base-table Query: moto keeps the items by partition),
  sorted by plain values, from its cursor, and for a page (a Limit) only the items moto's
  loop reaches: up to the limit-th one the range key condition keeps and the one after it,
  where moto stops (a page of a partition of 10,000 cost O(partition) in moto's sort and
  walk); or, for an index Query, the items whose index hash key (a string) has the queried
  value, from an index of the table's items by that attribute's value kept as writes happen
  (``_ByValue``; moto checks them itself, then its sort, patched too, orders them by plain
  values, starts after the cursor, and for a page keeps only the items moto's loop walks:
  a page of 10,000 matches cost most of a second). Outside
  a Query (a Scan) the items are sorted by their plain key values, converted once an item: the
  same order, since a key attribute has one type.
- **Every DynamoDB answer went through moto's generic, shape-driven serializer**: in a
  profile of the soak (tests/soak) it was two thirds of moto's time for a DynamoDB call. The
  data-plane answers (items, pages, transactions) are already in DynamoDB's JSON form, so
  they are written with ``json.dumps``, keeping only the keys the operation's output shape
  has (as the serializer does); anything else, errors included, goes through the serializer.
  (And the list of a handler class's methods, which moto makes for every request, is made
  once a class.)
- **Every SQS message received walked the whole queue three times** (moto reads the queue's
  retention period through ``get_queue_attributes``, which also counts the visible, delayed
  and in-flight messages), and every message sent walked it three times too (for one
  attribute, ContentBasedDeduplication). The period is read from the queue directly, a send
  does not count the messages, and the visible messages are found with one clock reading.
- **botocore signed every request and rebuilt its User-Agent character by character**: a
  quarter of a call's cost against the in-process mock, whose DynamoDB and SQS read nothing
  of the signature. A DynamoDB or SQS request to AWS's host (only ``mock_aws`` answers those
  here) goes unsigned; one to moto's server (``make run``, which routes by the signature),
  every other service's (moto's S3 refuses an unsigned one) and every presigned url are
  signed as before. The User-Agent's parts are sanitized once each.
- **moto kept every object it ever made** (a class-level list per model, for its dashboard):
  every item written, every message copy received, every whole-table copy a transaction made;
  full garbage collections over that heap grew to tens of seconds (found by bench/latency.py;
  see ``track_moto_models_weakly``).
- **Every transaction deep-copied every table it touches** for its rollback. A transaction
  whose conditions all hold on the current items (and whose items are distinct) runs without
  those copies: it cannot fail, so it needs no rollback. Any other runs unchanged. Transactions
  are also made atomic with respect to each other when threads run them at once (moto takes no
  lock; DynamoDB is atomic), which the local stack's threads and the tests' need.

What a call returns (for a Query: which items, in which order, with which
``LastEvaluatedKey``) is moto's own code's answer: ``tests/unit/test_moto_speedups.py`` makes
the same calls with and without the patches and compares the answers.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import functools
import itertools
import json
import re
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import botocore.useragent as _useragent
import moto.core.responses as _core_responses
import moto.dynamodb.models as _dynamodb_models
from botocore.signers import RequestSigner
from moto.core.responses import ActionResult
from moto.core.utils import unix_time, unix_time_millis
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.sqs.models import Queue, SQSBackend

dynamodb_models: Any = _dynamodb_models  # its module globals (copy, get_filter_expression)
_original_transact = DynamoDBBackend.transact_write_items
_original_update_item = DynamoDBBackend.update_item
_original_put_item = Table.put_item
_original_delete_item = Table.delete_item
_original_query = Table.query
_original_all_items = Table.all_items
_original_sorted_items = Table.sorted_items
_original_execute_result = ActionResult.execute_result
_original_retention = SQSBackend.is_message_valid_based_on_retention_period
_original_send_message = SQSBackend.send_message
_original_queue_messages = Queue.messages
_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
           "approximate_number_of_messages_not_visible")  # fmt: skip
_original_counts = {name: getattr(Queue, name) for name in _COUNTS}
_sqs_call = threading.local()
core_responses: Any = _core_responses
_original_method_names = core_responses.method_names_from_class
useragent: Any = _useragent
_original_sanitize = useragent.sanitize_user_agent_string_component
_original_sign = RequestSigner.sign
_LOCK = threading.Lock()
_counts = {"fast_answers": 0}  # for the tests: the DynamoDB answers written with json.dumps
_query = threading.local()


# -- queries -------------------------------------------------------------------------------------


def _fast_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    def arg(position: int, name: str) -> Any:
        return args[position] if len(args) > position else kwargs.get(name)

    outer, outer_page = getattr(_query, "scope", None), getattr(_query, "index_page", None)
    if arg(6, "index_name"):
        _query.scope = _query.index_page = _Scope(
            self,
            None,
            kwargs.get("hash_key_conditions") or [],
            start=arg(3, "exclusive_start_key"),
            forward=arg(4, "scan_index_forward") is not False,
            # A page is cut to the items moto's loop reaches only without a key condition on
            # the index's range key or a legacy QueryFilter: then moto keeps every item it
            # walks until the limit (a FilterExpression applies to the page afterwards).
            limit=None
            if _legacy_filter(kwargs) or arg(0, "range_comparison")
            or kwargs.get("range_key_conditions")
            else arg(2, "limit"),
        )  # fmt: skip
    else:
        _query.scope = _Scope(
            self,
            hash_key,
            start=arg(3, "exclusive_start_key"),
            forward=arg(4, "scan_index_forward") is not False,
            # moto looks at the items in order and stops at the one after the limit-th
            # match: only those can change the answer (unless a legacy QueryFilter counts).
            limit=None if _legacy_filter(kwargs) else arg(2, "limit"),
            comparison=(arg(0, "range_comparison"), arg(1, "range_objs")),
        )
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        _query.scope, _query.index_page = outer, outer_page


def _fast_sorted_items(
    self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
) -> list[Any]:
    """An index Query's matches in moto's order (its sort attributes, compared as plain
    values, converted once an item), from the page's cursor, and for a page only the items
    moto's loop will walk: the limit and the one after it. moto sorted all the matches by
    ``DynamoType`` (converting on every comparison) and walked every one before the cursor:
    O(n log n) a page, 10,000 active participants took most of a second a page."""
    scope = getattr(_query, "index_page", None)
    if scope is None or scope.table is not self:
        return _original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
    _query.index_page = None  # once: the Query's own sort
    attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)

    def plain(item: Any) -> tuple[Any, ...]:
        return tuple(_plain(item.attrs[name]) for name in attrs)

    ordered = sorted(items, key=plain)
    start = scope.start
    if start and all(name in start for name in attrs):
        cursor = tuple(_plain(DynamoType(start[name])) for name in attrs)
        ordered = _past_cursor(ordered, cursor, plain, scope.forward)
    if scope.limit is None:
        return ordered
    # moto reverses the list of a backward Query after its sort, and walks from the start.
    return ordered[: scope.limit + 1] if scope.forward else ordered[-(scope.limit + 1) :]


def _past_cursor(
    ordered: list[Any], cursor: Any, key: Callable[[Any], Any], forward: bool
) -> list[Any]:
    """The items of ``ordered`` (ascending by ``key``) that a Query going on from ``cursor``
    reaches: those after it, or, for a backward Query, those before it."""
    if forward:
        return ordered[bisect.bisect_right(ordered, cursor, key=key) :]
    return ordered[: bisect.bisect_left(ordered, cursor, key=key)]


def _fast_all_items(self: Table) -> list[Any]:
    scope = getattr(_query, "scope", None)
    if scope is None or scope.table is not self:
        return _sorted_by_plain_keys(self)
    _query.scope = None  # once: the Query's own list
    if scope.partition is None:  # an index Query: moto sorts the matching items itself
        return _index_matches(self, scope.index_hash)
    found = self.items.get(scope.partition)
    if found is None:
        return []
    if not self.range_key_attr:
        return [found]
    # In range-key order by plain values, so moto's own sort (by DynamoType, which converts
    # the values on every comparison) finds the list already sorted; and a later page starts
    # after its cursor, where moto would compare every item before it with the cursor.
    ordered = sorted(found.values(), key=_range_value)
    start = scope.start
    if start and self.range_key_attr in start:
        cursor = _plain(DynamoType(start[self.range_key_attr]))
        ordered = _past_cursor(ordered, cursor, _range_value, scope.forward)
    if scope.limit is None:
        return ordered
    # A page: what moto will look at, in its order (it sorts, then reverses a backward Query).
    if not scope.forward:
        return _page_of(ordered[::-1], scope)[::-1]
    return _page_of(ordered, scope)


@dataclass
class _Scope:
    """What the Query running on this thread asked for: its table, its partition (None for an
    index Query), the index's hash key conditions, its cursor, direction, limit and range key
    comparison."""

    table: Table
    partition: Any
    index_hash: list[tuple[str, Any]] = field(default_factory=list)
    start: dict[str, Any] | None = None
    forward: bool = True
    limit: int | None = None
    comparison: tuple[str | None, list[Any]] = (None, [])


def _legacy_filter(kwargs: dict[str, Any]) -> bool:
    known = {"index_name", "consistent_read", "filter_expression", "hash_key_conditions",
             "range_key_conditions", "projection_expressions"}  # fmt: skip
    return any(name not in known for name in kwargs)


def _page_of(ordered: list[Any], scope: _Scope) -> list[Any]:
    """The first items of ``ordered`` (in the Query's direction) moto's loop reaches: up to the
    ``limit``-th one the range key comparison keeps, and the one after it (where moto stops and
    sets LastEvaluatedKey)."""
    limit = scope.limit or 0
    operator, values = scope.comparison
    if operator is None:
        return ordered[: limit + 1]
    kept = 0
    for position, item in enumerate(ordered):
        if kept == limit:
            return ordered[: position + 1]
        if item.range_key.compare(operator, values):
            kept += 1
    return ordered


def _range_value(item: Any) -> Any:
    return _plain(item.range_key)


def _plain(value: DynamoType) -> Any:
    # A string's value as it is (``cast_value`` converts on every call); numbers converted.
    return value.value if value.type == "S" else value.cast_value


def _index_matches(table: Table, conditions: list[tuple[str, Any]]) -> list[Any]:
    """The items an index Query can match: those whose index hash key has the queried string
    value (moto checks each again), found through ``_ByValue``. Only string keys are compared
    here, by their raw value: a number's value has several spellings ("1", "1.0"), which moto
    compares as numbers."""
    wanted = [(name, value.value) for name, value in conditions if value.type == "S"]
    if not wanted:
        return list(_items(table))
    with _INDEX_LOCK:
        index = table.__dict__.get(_INDEX)
        if index is None or index.generation != _generation[0]:
            index = _ByValue()
            setattr(table, _INDEX, index)
        name, value = wanted[0]
        candidates = index.items(table, name, value)
    return _matching(candidates, wanted[1:])


def _matching(items: Iterator[Any] | list[Any], wanted: list[tuple[str, str]]) -> list[Any]:
    found = []
    for item in items:
        attrs = item.attrs
        for name, value in wanted:
            present = attrs.get(name)
            if present is None or present.type != "S" or present.value != value:
                break
        else:
            found.append(item)
    return found


_INDEX = "_flows_by_value"  # the attribute of a moto Table that holds its _ByValue
_INDEX_LOCK = threading.RLock()
_generation = [0]  # one more at every install() and uninstall()
_Key = tuple[Any, Any]  # an item's (hash key, range key or None), as moto keys table.items


class _ByValue:
    """A table's items by the string value of each attribute an index Query asked for (an
    index's hash key): what DynamoDB's index is, so a Query costs O(matches) and not a walk of
    the whole table. Kept up to date lazily: every write marks its item's key (``_touched``:
    moto's put and delete, UpdateItem, and every key of a transaction, whatever became of it),
    and the next index Query reads those items again as they are then."""

    def __init__(self) -> None:
        self.generation = _generation[0]  # writes made while uninstalled were not marked
        self.by_attr: dict[str, dict[str, dict[_Key, None]]] = {}
        self.of_key: dict[_Key, dict[str, str]] = {}
        self.dirty: set[_Key] = set()

    def items(self, table: Table, name: str, value: str) -> list[Any]:
        if name not in self.by_attr:
            self.by_attr[name] = {}
            for item in _items(table):
                self._add(name, (item.hash_key, item.range_key), item)
        for key in self.dirty:
            self._reindex(table, key)
        self.dirty.clear()
        found = []
        for key in self.by_attr[name].get(value, {}):
            item = _current(table, key)
            if item is not None:
                found.append(item)
        return found

    def _add(self, name: str, key: _Key, item: Any) -> None:
        present = item.attrs.get(name)
        if present is not None and present.type == "S":
            self.by_attr[name].setdefault(present.value, {})[key] = None
            self.of_key.setdefault(key, {})[name] = present.value

    def _reindex(self, table: Table, key: _Key) -> None:
        for name, value in self.of_key.pop(key, {}).items():
            holders = self.by_attr[name].get(value)
            if holders is not None:
                holders.pop(key, None)
                if not holders:
                    del self.by_attr[name][value]
        item = _current(table, key)
        if item is not None:
            for name in self.by_attr:
                self._add(name, key, item)


def _current(table: Table, key: _Key) -> Any:
    found: Any = table.items.get(key[0])
    if found is not None and table.range_key_attr:
        found = found.get(key[1])
    return found


def _touched(table: Table, key: _Key) -> None:
    index = table.__dict__.get(_INDEX)
    if index is not None:
        with _INDEX_LOCK:
            index.dirty.add(key)


def forget_indexes(table: Table) -> None:
    """Drop what ``_ByValue`` knows of ``table``: for code that changes ``table.items``
    directly (tests/functional/fault_kit.py puts a table's items back after a test)."""
    with _INDEX_LOCK:
        table.__dict__.pop(_INDEX, None)


def _put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    item = _original_put_item(self, *args, **kwargs)
    _touched(self, (item.hash_key, item.range_key))
    return item


def _delete_item(self: Table, hash_key: Any, range_key: Any = None) -> Any:
    try:
        return _original_delete_item(self, hash_key, range_key)
    finally:
        _touched(self, (hash_key, range_key))


def _update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any,
                 **kwargs: Any) -> Any:  # fmt: skip
    try:
        return _original_update_item(self, table_name, key, *args, **kwargs)
    finally:
        _touch_keys(self, [(table_name, key)])


def _touch_keys(backend: DynamoDBBackend, keys: list[tuple[str, dict[str, Any]]]) -> None:
    for table_name, key in keys:
        table = backend.tables.get(table_name)
        if table is None or table.__dict__.get(_INDEX) is None:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_attr = table.range_key_attr
        range_value = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
        _touched(table, (hash_value, range_value))


def _items(table: Table) -> Iterator[Any]:
    for by_hash in list(table.items.values()):
        if table.range_key_attr:
            yield from list(by_hash.values())
        else:
            yield by_hash


def _sorted_by_plain_keys(table: Table) -> list[Any]:
    return sorted(
        _items(table),
        key=lambda item: (
            (item.hash_key.cast_value, item.range_key.cast_value)
            if item.range_key
            else (item.hash_key.cast_value,)
        ),
    )


# -- responses ----------------------------------------------------------------------------------

_DATA_PLANE = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
     "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}
)  # fmt: skip
_JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}


def _fast_execute_result(self: ActionResult, context: Any) -> Any:
    result = self.result
    operation = context.operation_model
    if (
        type(self) in (ActionResult, DynamoResult)
        and isinstance(result, dict)
        and context.service_model.service_name == "dynamodb"
        and operation.name in _DATA_PLANE
    ):
        members = operation.output_shape.members
        try:
            body = json.dumps({k: v for k, v in result.items() if k in members and v is not None})
        except TypeError:
            pass
        else:
            _counts["fast_answers"] += 1
            return 200, dict(_JSON_HEADERS), body
    return _original_execute_result(self, context)


@functools.cache
def _method_names(clazz: object) -> frozenset[str]:
    # moto lists a handler class's methods (inspect.getmembers) on every request, to check
    # that the action is one of them; a class's methods do not change.
    return frozenset(_original_method_names(clazz))


# -- botocore ------------------------------------------------------------------------------------

# DynamoDB's and SQS's hosts on AWS itself: only moto's in-process mock (``mock_aws``) answers
# them here. (Not S3's: moto's S3 takes an unsigned request for an anonymous one, and refuses.)
_UNSIGNED_HOST = re.compile(r"^(dynamodb|sqs)\.[a-z0-9-]+\.amazonaws\.com$")


def _sign_unless_in_process(
    self: RequestSigner, operation_name: str, request: Any, *args: Any, **kwargs: Any
) -> Any:
    # SigV4 signing was a tenth of a call's cost, and moto's in-process DynamoDB and SQS read
    # nothing of it but the access key (to pick the account: without one, the default account,
    # which is the tests' and bench's). moto's server (``make run``) does read it, to route the
    # request to its service: a request to it (a local url) is signed, as is any presigned url
    # and any other service's request.
    signing_type = args[1] if len(args) > 1 else kwargs.get("signing_type", "standard")
    host = urlsplit(str(request.url)).hostname or ""
    if signing_type == "standard" and _UNSIGNED_HOST.match(host):
        return None
    return _original_sign(self, operation_name, request, *args, **kwargs)


@functools.lru_cache(maxsize=1024)
def _sanitize(raw: str, allow_hash: bool) -> str:
    # botocore rebuilds the User-Agent header on every request, sanitizing each of its parts
    # character by character; the parts are the same few strings every time.
    return str(_original_sanitize(raw, allow_hash))


# -- SQS ----------------------------------------------------------------------------------------


def _fast_retention(self: SQSBackend, queue_name: str, message: Any) -> bool:
    # moto reads the retention period through get_queue_attributes, which computes every
    # attribute, three of them by walking all the queue's messages: once per message received.
    queue: Any = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return bool(retain_until > unix_time())


# -- moto's dashboard ---------------------------------------------------------------------------


class _LiveInstances:
    """What moto's dashboard lists of one model class: the instances still alive, in creation
    order (a list-like of weak references, see ``track_moto_models_weakly``)."""

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref[Any]] = {}
        self._numbers = itertools.count()

    def append(self, instance: Any) -> None:
        number = next(self._numbers)
        refs = self._refs
        # A class without weak references (none in moto 5.2) is not listed.
        with contextlib.suppress(TypeError):
            refs[number] = weakref.ref(instance, lambda _: refs.pop(number, None))

    def __iter__(self) -> Iterator[Any]:
        for ref in list(self._refs.values()):
            instance: Any = ref()
            if instance is not None:
                yield instance

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _new_tracked_weakly(cls: type, *args: Any, **kwargs: Any) -> Any:
    instance: Any = object.__new__(cls)
    tracked = cls.__dict__.get("instances_tracked")
    if not isinstance(tracked, _LiveInstances):  # first use, or after moto's reset
        tracked = _LiveInstances()
        cls.instances_tracked = tracked  # type: ignore[attr-defined]
    tracked.append(instance)
    return instance


def track_moto_models_weakly() -> None:
    """Stop moto keeping every model object it ever made (a workaround for moto 5.2).

    ``moto.core.common_models.BaseModel.__new__`` appends every instance of every moto model
    to a class-level list (``instances_tracked``, for the ``/moto-api/data.json`` dashboard)
    that nothing empties but a reset. In a long-running server that is every DynamoDB ``Item``
    ever written, every SQS ``Message`` copy a ReceiveMessage hands out, and, worst, the copy of
    each whole table a TransactWriteItems makes for its rollback: the local stack grew ~2.5 MB
    a request (7 GB by the 800th event of ``bench.latency``), and Python's full garbage
    collections, which walk every tracked object while holding the GIL, grew with it to tens
    of seconds: the whole stack stood still, and a request got no answer within 30 s.

    Here the lists hold weak references: the dashboard still lists every live object, and a
    copy is freed when moto drops it. Idempotent; applies to every moto model in the process.
    """
    from moto.core.common_models import BaseModel

    BaseModel.__new__ = staticmethod(_new_tracked_weakly)  # type: ignore[method-assign]


def _fast_send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
    # moto's SendMessage reads one queue attribute (ContentBasedDeduplication) through
    # ``Queue.attributes``, which also counts the visible, delayed and in-flight messages by
    # walking the queue: a send cost O(backlog). Inside a send those counts are not computed.
    _sqs_call.sending = True
    try:
        return _original_send_message(self, *args, **kwargs)
    finally:
        _sqs_call.sending = False


def _count_unless_sending(name: str) -> property:
    real = _original_counts[name].fget

    def count(self: Queue) -> int:
        return 0 if getattr(_sqs_call, "sending", False) else int(real(self))

    return property(count)


def _visible_messages(self: Queue) -> list[Any]:
    # ``Queue.messages`` (every receive) asked the clock twice for every message of the queue.
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and now >= m.delayed_until]


# -- transactions --------------------------------------------------------------------------------


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _cannot_fail(backend: DynamoDBBackend, items: list[dict[str, Any]]) -> bool:
    seen: set[tuple[str, str]] = set()
    for item in items:
        if len(item) != 1:
            return False
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            return False
        if op.get("TableName") not in backend.tables:
            return False
        key = _key(backend, op_type, op)
        marker = (op["TableName"], str(dict(sorted(key.items()))))
        if marker in seen:
            return False
        seen.add(marker)
        condition = op.get("ConditionExpression")
        if condition is None:
            continue
        current = backend.get_item(op["TableName"], key)
        expression = dynamodb_models.get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if not expression.expr(current):
            return False
    return True


def _no_table_copies_deepcopy(value: Any, memo: Any = None) -> Any:
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@contextmanager
def _without_table_backups() -> Iterator[None]:
    saved = dynamodb_models.copy
    dynamodb_models.copy = types.SimpleNamespace(deepcopy=_no_table_copies_deepcopy)
    try:
        yield
    finally:
        dynamodb_models.copy = saved


def _fast_transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    # One transaction at a time, as DynamoDB guarantees: moto itself takes no lock, so two
    # threads could otherwise both pass their conditions and both write.
    with _LOCK:
        try:
            if len(transact_items) <= 100 and _cannot_fail(self, transact_items):
                with _without_table_backups():
                    return _original_transact(self, transact_items)
            return _original_transact(self, transact_items)
        finally:
            # Written, or put back (moto's rollback replaces the tables with their copies):
            # either way the index reads these items again.
            _touch_keys(self, list(_transaction_keys(self, transact_items)))


def _transaction_keys(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in transact_items:
        for op_type, op in entry.items():
            if isinstance(op, dict) and op.get("TableName") in backend.tables:
                with contextlib.suppress(KeyError):
                    yield op["TableName"], _key(backend, op_type, op)


def _patches() -> list[tuple[Any, str, Any, Any]]:
    """(owner, attribute, this module's version, moto's own) of every patch."""
    counts = [
        (Queue, name, _count_unless_sending(name), _original_counts[name]) for name in _COUNTS
    ]
    return [
        (DynamoDBBackend, "transact_write_items", _fast_transact_write_items, _original_transact),
        (Table, "query", _fast_query, _original_query),
        (Table, "put_item", _put_item, _original_put_item),
        (Table, "delete_item", _delete_item, _original_delete_item),
        (DynamoDBBackend, "update_item", _update_item, _original_update_item),
        (Table, "all_items", _fast_all_items, _original_all_items),
        (Table, "sorted_items", _fast_sorted_items, _original_sorted_items),
        (ActionResult, "execute_result", _fast_execute_result, _original_execute_result),
        (SQSBackend, "is_message_valid_based_on_retention_period", _fast_retention,
         _original_retention),
        (SQSBackend, "send_message", _fast_send_message, _original_send_message),
        (Queue, "messages", property(_visible_messages), _original_queue_messages),
        *counts,
        (core_responses, "method_names_from_class", _method_names, _original_method_names),
        (RequestSigner, "sign", _sign_unless_in_process, _original_sign),
        (useragent, "sanitize_user_agent_string_component", _sanitize, _original_sanitize),
    ]  # fmt: skip


def install() -> None:
    """Patch moto's classes in this process (idempotent)."""
    track_moto_models_weakly()
    _generation[0] += 1
    for owner, name, ours, _ in _patches():
        setattr(owner, name, ours)


def uninstall() -> None:
    """Moto as it ships (for the tests that compare both; moto's dashboard stays weak)."""
    _generation[0] += 1
    for owner, name, _, theirs in _patches():
        setattr(owner, name, theirs)
