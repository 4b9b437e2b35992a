"""List pagination: ``{"items": [...], "next": cursor|null}``, ``?cursor=`` and ``?limit=``.

A cursor is the url-safe base64 of the last key read. It carries no tenant or table: the store
rebuilds the full start key from the caller's own tenant, so a cursor can never reach across.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.problems import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Keys are at most 1 KB (DynamoDB's sort key limit), so their cursors are shorter than this.
MAX_CURSOR = 1500

T = TypeVar("T")


class ListQuery(BaseModel):
    """The query of every list call."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size (max 500)")
    cursor: str | None = Field(None, description="the `next` of the previous page")


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next: str | None = None


def encode_cursor(last_key: str | None) -> str | None:
    if last_key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"k": last_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The last key a cursor carries; a cursor this service did not make is a 400."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise invalid("cursor", "not a cursor this service issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError) as error:
        raise invalid("cursor", "not a cursor this service issued") from error
    if not isinstance(value, str) or not value or len(value.encode()) > 1024:
        raise invalid("cursor", "not a cursor this service issued")
    return value
