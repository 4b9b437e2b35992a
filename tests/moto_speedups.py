"""Test-only: make moto's DynamoDB transactions cost O(items in the transaction).

moto backs up every table a transaction touches with ``copy.deepcopy`` before applying it, so
each transaction costs O(items in those tables) and a scenario with thousands of participants
grows quadratically. Here a transaction whose conditions all hold on the current items (and
whose items are distinct) runs without those backups: it cannot fail, so it needs no rollback.
Any other transaction runs unchanged, with moto's own backup and rollback. The semantics our
tests observe are moto's, plus one DynamoDB gives and moto lacks: transactions are atomic
with respect to each other when test threads run them at once.
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_original = DynamoDBBackend.transact_write_items
_LOCK = threading.Lock()


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
    dynamodb_models.copy = types.SimpleNamespace(deepcopy=_no_table_copies_deepcopy)  # type: ignore[assignment]
    try:
        yield
    finally:
        dynamodb_models.copy = saved


def _fast_transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    # One transaction at a time, as DynamoDB guarantees: moto itself takes no lock, so two
    # test threads could otherwise both pass their conditions and both write.
    with _LOCK:
        if len(transact_items) <= 100 and _cannot_fail(self, transact_items):
            with _without_table_backups():
                return _original(self, transact_items)
        return _original(self, transact_items)


def install() -> None:
    DynamoDBBackend.transact_write_items = _fast_transact_write_items  # type: ignore[method-assign]
