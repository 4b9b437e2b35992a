"""Functional tests: the real app and store on an in-process moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

OPERATOR_KEY = "operator-test-key"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """A fresh in-process AWS per test module: moto's tables stay small, so its queries (which
    go over whole tables) stay fast."""
    with mock_aws():
        from chalicelib.store.resources import create_resources

        create_resources()
        yield


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")


class Http:
    """A small JSON client over chalice's test client."""

    def __init__(self, client: Any, key: str | None = None) -> None:
        self._client = client
        self.key = key

    def as_key(self, key: str | None) -> Http:
        return Http(self._client, key)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"Content-Type": "application/json"} | (headers or {})
        if self.key is not None:
            sent["Authorization"] = f"Bearer {self.key}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = self._client.http.request(method, path, headers=sent, body=data)
        return Reply(response.status_code, dict(response.headers), response.body)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


@pytest.fixture(scope="module")
def chalice_client(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


@pytest.fixture
def anon(chalice_client: Any) -> Http:
    return Http(chalice_client)


def new_tenant(chalice_client: Any, **settings: Any) -> Http:
    reply = Http(chalice_client, OPERATOR_KEY).post(
        "/v1/admin/tenants", {"name": "Test tenant", "settings": settings}
    )
    assert reply.status == 201, reply.body
    return Http(chalice_client, reply.json["api_key"])


@pytest.fixture
def admin(chalice_client: Any) -> Http:
    """An admin key of a fresh tenant."""
    return new_tenant(chalice_client)


@pytest.fixture
def other(chalice_client: Any) -> Http:
    """An admin key of a second, unrelated tenant."""
    return new_tenant(chalice_client)


def key_with_role(admin: Http, role: str) -> Http:
    reply = admin.post("/v1/keys", {"name": role, "role": role})
    assert reply.status == 201, reply.body
    return admin.as_key(reply.json["api_key"])


@pytest.fixture
def engine(aws: None) -> Iterator[Any]:
    """The engine on a fake clock (tests/functional/engine_kit.py); afterwards no wake schedule
    of this test is left to fire in another's drain."""
    from tests.functional.engine_fixtures import delete_all_schedules
    from tests.functional.engine_kit import running_engine

    with running_engine() as running:
        yield running
    delete_all_schedules()


@pytest.fixture
def world(chalice_client: Any, engine: Any) -> Any:
    """A fresh tenant with its admin key and the engine (tests/functional/engine_fixtures.py)."""
    from tests.functional.engine_fixtures import World

    return World.new(chalice_client, engine)


@pytest.fixture
def scripts(engine: Any) -> Any:
    """The script runner of tracked links, faked (tests/functional/test_links_forms.Scripts)."""
    from chalicelib.engine.runtime import runtime
    from tests.functional.test_links_forms import Scripts

    runtime.scripts = fake = Scripts()
    return fake


@pytest.fixture
def public(chalice_client: Any) -> Http:
    """The API without a key: the public endpoints (/l, /f, /o, /u)."""
    return Http(chalice_client)
