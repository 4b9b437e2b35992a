"""Small assertions the API tests share."""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import Http, Reply

PROBLEM = "application/problem+json"


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    """The reply is a problem+json of ``status``; its body."""
    assert reply.status == status, reply.body
    assert reply.content_type == PROBLEM
    body: dict[str, Any] = reply.json
    assert body["status"] == status
    return body


def error_paths(reply: Reply) -> list[str]:
    """The ``errors[].path`` of a 400."""
    return [e["path"] for e in assert_problem(reply, 400)["errors"]]


def create(http: Http, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST that must answer 201; the created object."""
    reply = http.post(path, body)
    assert reply.status == 201, reply.body
    created: dict[str, Any] = reply.json
    return created
