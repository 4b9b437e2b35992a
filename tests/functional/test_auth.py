"""Who may call what: 401 without a working key, 403 for a role that may not (SPEC.md 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import OPERATOR_KEY, Http, key_with_role
from tests.functional.helpers import assert_problem

SCRIPT = {"name": "enrich", "function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:enrich"}


ROUTES = [
    ("GET", "/v1/contacts", None),
    ("POST", "/v1/contacts", {"first_name": "Ada"}),
    ("GET", "/v1/keys", None),
    ("GET", "/v1/settings", None),
    ("POST", "/v1/admin/tenants", {"name": "Acme"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_authorization_header_is_401(anon: Http, method: str, path: str, body: Any) -> None:
    # The gateway rejects this before our code runs, with the deployed gateway's problem.
    assert_problem(anon.request(method, path, body), 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize(
    "authorization", ["Bearer flw_no-such-key", "Basic dXNlcjpwYXNz", "Bearer operator-test"]
)
def test_an_unknown_key_is_401(
    anon: Http, method: str, path: str, body: Any, authorization: str
) -> None:
    reply = anon.request(method, path, body, headers={"Authorization": authorization})
    assert_problem(reply, 401)


def test_a_revoked_key_is_401_on_the_very_next_request(admin: Http) -> None:
    editor = admin.post("/v1/keys", {"name": "temp", "role": "content_editor"}).json
    key = admin.as_key(editor["api_key"])
    assert key.get("/v1/contacts").status == 200

    assert admin.delete(f"/v1/keys/{editor['id']}").status == 204

    assert_problem(key.get("/v1/contacts"), 401)
    assert_problem(key.post("/v1/contacts", {"first_name": "Ada"}), 401)


FORBIDDEN = [
    ("content_editor", "POST", "/v1/keys", {"name": "k", "role": "admin"}),
    ("content_editor", "GET", "/v1/keys", None),
    ("content_editor", "DELETE", "/v1/keys/key_whatever", None),
    ("content_editor", "PATCH", "/v1/settings", {"timezone": "Europe/Oslo"}),
    ("content_editor", "POST", "/v1/scripts", SCRIPT),
    ("content_editor", "POST", "/v1/admin/tenants", {"name": "Acme"}),
    ("flow_admin", "POST", "/v1/keys", {"name": "k", "role": "content_editor"}),
    ("flow_admin", "GET", "/v1/keys", None),
    ("flow_admin", "DELETE", "/v1/keys/key_whatever", None),
    ("flow_admin", "PATCH", "/v1/settings", {"timezone": "Europe/Oslo"}),
    ("admin", "POST", "/v1/admin/tenants", {"name": "Acme"}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), FORBIDDEN)
def test_a_role_that_may_not_make_the_call_gets_403(
    admin: Http, role: str, method: str, path: str, body: Any
) -> None:
    caller = admin if role == "admin" else key_with_role(admin, role)
    assert_problem(caller.request(method, path, body), 403)


def test_403_comes_before_body_validation(admin: Http) -> None:
    editor = key_with_role(admin, "content_editor")
    assert_problem(editor.post("/v1/keys", raw=b"{not json"), 403)
    assert_problem(editor.post("/v1/scripts", {"function_arn": 5}), 403)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/contacts", None),
        ("POST", "/v1/contacts", {"first_name": "Ada"}),
        ("GET", "/v1/settings", None),
        ("GET", "/v1/keys", None),
        ("POST", "/v1/keys", {"name": "k", "role": "admin"}),
        ("GET", "/v1/selections", None),
    ],
)
def test_the_operator_key_is_403_outside_tenant_creation(
    anon: Http, method: str, path: str, body: Any
) -> None:
    assert_problem(anon.as_key(OPERATOR_KEY).request(method, path, body), 403)


def test_the_operator_creates_a_tenant_whose_first_key_is_an_admin(anon: Http) -> None:
    reply = anon.as_key(OPERATOR_KEY).post("/v1/admin/tenants", {"name": "Acme"})

    assert reply.status == 201, reply.body
    created = reply.json
    assert set(created) == {"tenant_id", "api_key", "key_id"}
    tenant = anon.as_key(created["api_key"])
    keys = tenant.get("/v1/keys").json["items"]
    assert [(k["id"], k["role"]) for k in keys] == [(created["key_id"], "admin")]


def test_creating_a_tenant_validates_its_body(anon: Http) -> None:
    operator = anon.as_key(OPERATOR_KEY)
    assert_problem(operator.post("/v1/admin/tenants", {}), 400)
    reply = operator.post("/v1/admin/tenants", {"name": "Acme", "settings": {"timezone": "Mars"}})
    assert [e["path"] for e in assert_problem(reply, 400)["errors"]] == ["settings.timezone"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/contacts", {"first_name": "Ada"}),
        ("POST", "/v1/mailings", {"name": "Welcome", "subject": "Hi"}),
        ("POST", "/v1/selections", {"name": "VIP"}),
        ("POST", "/v1/companies", {"name": "Acme"}),
        ("POST", "/v1/sales", {"title": "Deal"}),
    ],
)
def test_a_content_editor_may_write_crm_data(
    admin: Http, method: str, path: str, body: Any
) -> None:
    editor = key_with_role(admin, "content_editor")
    reply = editor.request(method, path, body)
    assert reply.status == 201, reply.body
    assert editor.get(f"{path}/{reply.json['id']}").status == 200


def test_a_content_editor_reads_the_settings(admin: Http) -> None:
    assert key_with_role(admin, "content_editor").get("/v1/settings").status == 200


def test_a_flow_admin_may_register_scripts(admin: Http) -> None:
    flow_admin = key_with_role(admin, "flow_admin")
    reply = flow_admin.post("/v1/scripts", SCRIPT)
    assert reply.status == 201, reply.body
    assert reply.json["function_arn"] == SCRIPT["function_arn"]
