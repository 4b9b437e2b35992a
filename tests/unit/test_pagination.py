"""Cursors and the list query: a cursor round-trips, anything else is a 400."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ListQuery,
    Page,
    decode_cursor,
    encode_cursor,
)
from chalicelib.api.problems import BadRequestError


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


@given(st.text(min_size=1, max_size=300))
def test_cursor_round_trips_any_key(key: str) -> None:
    cursor = encode_cursor(key)

    assert cursor is not None
    assert decode_cursor(cursor) == key


@given(st.text())
def test_cursor_is_url_safe(key: str) -> None:
    cursor = encode_cursor(key)

    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_no_last_key_means_no_cursor() -> None:
    assert encode_cursor(None) is None


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_means_the_first_page(cursor: str | None) -> None:
    assert decode_cursor(cursor) is None


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("x", id="one-char"),
        pytest.param("!!!!", id="not-base64"),
        pytest.param("not a cursor", id="words"),
        pytest.param("ünïcode", id="non-ascii"),
        pytest.param(_b64(b"\xff\xfe\xfd"), id="not-utf8"),
        pytest.param(_b64(b"not json"), id="not-json"),
        pytest.param(_b64(b"[1, 2]"), id="json-list"),
        pytest.param(_b64(b'"k"'), id="json-string"),
        pytest.param(_b64(b"42"), id="json-number"),
        pytest.param(_b64(b"null"), id="json-null"),
        pytest.param(_b64(b'{"key": "a"}'), id="wrong-field"),
        pytest.param(_b64(b'{"k": 1}'), id="key-not-a-string"),
        pytest.param(_b64(b'{"k": null}'), id="key-null"),
        pytest.param(_b64(b'{"k": ["a"]}'), id="key-a-list"),
        pytest.param(_b64(b"[" * 5000), id="deeply-nested"),
    ],
)
def test_a_cursor_this_service_did_not_issue_is_a_400(cursor: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        decode_cursor(cursor)

    assert raised.value.status == 400
    assert raised.value.errors is not None
    assert [e.path for e in raised.value.errors] == ["cursor"]


def test_a_tampered_cursor_is_a_400() -> None:
    # Given a real cursor whose JSON was edited to carry a number for the key
    cursor = encode_cursor("con_01")
    assert cursor is not None
    payload = json.loads(_unb64(cursor))
    payload["k"] = 7

    # Then it is refused like any cursor this service did not make
    with pytest.raises(BadRequestError):
        decode_cursor(_b64(json.dumps(payload).encode()))


def test_a_cursor_carries_only_the_key() -> None:
    # The store rebuilds the start key from the caller's tenant, so nothing else may ride along.
    cursor = encode_cursor("con_01")
    assert cursor is not None

    assert json.loads(_unb64(cursor)) == {"k": "con_01"}


@given(st.text(min_size=1))
def test_a_truncated_cursor_never_escapes_as_another_error(key: str) -> None:
    cursor = encode_cursor(key)
    assert cursor is not None

    try:
        decoded = decode_cursor(cursor[:-1])
    except BadRequestError:
        return
    assert isinstance(decoded, str)


def test_list_query_defaults() -> None:
    query = ListQuery()

    assert query.limit == DEFAULT_LIMIT
    assert query.cursor is None


@pytest.mark.parametrize("limit", [1, DEFAULT_LIMIT, MAX_LIMIT])
def test_list_query_accepts_limits_from_1_to_500(limit: int) -> None:
    assert ListQuery.model_validate({"limit": limit}).limit == limit


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, 10_000])
def test_list_query_refuses_limits_outside_1_to_500(limit: int) -> None:
    with pytest.raises(ValidationError):
        ListQuery.model_validate({"limit": limit})


def test_list_query_reads_the_query_string() -> None:
    # Query parameters arrive as strings; unknown ones are ignored.
    query = ListQuery.model_validate({"limit": "20", "cursor": "abc", "sort": "name"})

    assert query.limit == 20
    assert query.cursor == "abc"


def test_list_query_refuses_a_limit_that_is_not_a_number() -> None:
    with pytest.raises(ValidationError):
        ListQuery.model_validate({"limit": "many"})


def test_page_next_defaults_to_none() -> None:
    page = Page[int](items=[1, 2])

    assert page.model_dump() == {"items": [1, 2], "next": None}


def test_oversized_or_empty_cursor_keys_are_refused() -> None:
    import pytest

    from chalicelib.api.pagination import decode_cursor, encode_cursor
    from chalicelib.api.problems import BadRequestError

    for key in ("", "k" * 1025):
        with pytest.raises(BadRequestError):
            decode_cursor(encode_cursor(key) or "x")
    with pytest.raises(BadRequestError):
        decode_cursor("A" * 2000)
