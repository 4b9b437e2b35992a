"""Shared store helpers: transactions, JSON data, key building."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings

Write = Callable[[TransactWrite], None]
"""One write joined to a step's transaction (made by the store's ``*_write`` builders)."""


class ConditionFailedError(Exception):
    """A conditional write lost: someone else changed the item first."""


@cache
def _connection() -> Connection:
    return Connection(region=get_settings().region)


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """One DynamoDB transaction; a failed condition surfaces as ConditionFailedError."""
    from pynamodb.exceptions import TransactWriteError

    try:
        with TransactWrite(connection=_connection()) as tx:
            yield tx
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            raise ConditionFailedError(str(error)) from error
        raise


def key(*parts: str) -> str:
    """A composite key: ``key(tenant, "contact") == "tenant#contact"``."""
    return "#".join(parts)


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def loads(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    assert isinstance(value, dict)
    return value
