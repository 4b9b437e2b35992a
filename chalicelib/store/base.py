"""Shared store helpers: transactions, JSON data, key building."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import botocore.session
from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings

Write = Callable[[TransactWrite], None]
"""One write joined to a step's transaction (made by the store's ``*_write`` builders)."""


class ConditionFailedError(Exception):
    """A conditional write lost: someone else changed the item first."""


def share_botocore_loader() -> None:
    """Make every botocore session PynamoDB creates (one per model's connection, and per thread)
    share one data loader, so the service's JSON models are read from disk once per process.

    Each session otherwise loads them again: ~0.25 s for every model first used in a process,
    seconds of a Lambda cold start (bench/README.md, "cold start"). Sessions stay separate,
    as PynamoDB wants them (botocore client creation is not thread-safe); only the loader's
    read-only cache is shared."""
    from pynamodb.connection import base as pynamodb_base

    made = pynamodb_base.get_session  # type: ignore[attr-defined]
    if getattr(made, "shares_loader", False):
        return
    loaders: list[Any] = []

    def get_session() -> botocore.session.Session:
        session = made()
        if loaders:
            session.register_component("data_loader", loaders[0])
        else:
            loaders.append(session.get_component("data_loader"))
        return session

    get_session.shares_loader = True  # type: ignore[attr-defined]
    pynamodb_base.get_session = get_session  # type: ignore[attr-defined]


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
        if error_code(error) == "TransactionCanceledException":
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


def error_code(error: Exception) -> str | None:
    """The AWS error code under a PynamoDB error, or None (a timeout, a lost connection).

    PynamoDB's own ``cause_response_code`` fails with AttributeError when the cause is a
    botocore error without a response (a read timeout), hiding the real error.
    """
    cause = getattr(error, "cause", None)
    response = getattr(cause, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None
