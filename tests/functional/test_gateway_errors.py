"""The answers no route of ours makes are problem+json too (chalicelib/api/gateway.py): the
gateway's (no key, an unknown path; locally chalice.local's, with the deployed template's status
and body) and chalice's own (405, 415)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.app import AuthRequest, AuthResponse, Chalice
from chalice.test import Client

from chalicelib.api.gateway import NO_SUCH_OPERATION, swagger_gateway_responses
from tests.functional.conftest import Http
from tests.functional.helpers import assert_problem


def deployed_body(response_type: str) -> Any:
    """The body the deployed API Gateway answers for ``response_type`` (a fixed one: no
    ``$context`` variable in it)."""
    return json.loads(
        swagger_gateway_responses()[response_type]["responseTemplates"]["application/json"]
    )


def test_no_authorization_header_is_the_deployed_gateways_401(anon: Http) -> None:
    reply = anon.get("/v1/contacts")

    body = assert_problem(reply, 401)
    assert body == deployed_body("UNAUTHORIZED")
    assert body["title"] == "Unauthorized"
    assert "Authorization: Bearer" in body["detail"]
    assert reply.headers["x-amzn-ErrorType"] == "UnauthorizedException"  # chalice's, kept
    assert reply.headers["x-amzn-RequestId"]


@pytest.mark.parametrize("path", ["/v1/nothing", "/", "/v1/contacts/a/b/c"])
def test_an_unknown_path_is_404_with_or_without_a_key(anon: Http, admin: Http, path: str) -> None:
    for caller in (anon, admin, anon.as_key("flw_not-a-key")):
        for method in ("GET", "POST", "DELETE"):
            body = assert_problem(caller.request(method, path), 404)
            assert body == deployed_body("MISSING_AUTHENTICATION_TOKEN")
            assert body["detail"] == NO_SUCH_OPERATION


def test_a_method_a_known_path_does_not_have_is_405_with_allow(admin: Http) -> None:
    reply = admin.delete("/health")

    body = assert_problem(reply, 405)
    assert body["title"] == "Method Not Allowed"
    assert "DELETE" in body["detail"]
    assert reply.headers["Allow"] == "GET"


def test_a_content_type_the_operation_does_not_take_is_415(admin: Http) -> None:
    reply = admin.post("/v1/flows", raw=b"name=x", headers={"Content-Type": "text/plain"})

    body = assert_problem(reply, 415)
    assert body["title"] == "Unsupported Media Type"
    assert "text/plain" in body["detail"]
    assert admin.get("/v1/flows").json["items"] == []


def test_our_own_answers_and_the_ui_pass_unchanged(admin: Http, anon: Http) -> None:
    body = assert_problem(admin.get("/v1/contacts/no-such-contact"), 404)
    assert body["detail"] != NO_SUCH_OPERATION
    assert anon.get("/health").json == {"status": "ok"}
    page = anon.get("/ui")
    assert page.status == 200
    assert page.content_type.startswith("text/html")
    missing = anon.get("/ui/no-such-asset.js")
    assert (missing.status, missing.content_type) == (404, "text/plain; charset=utf-8")


# chalice.local's other gateway answers, on an app whose authorizer denies or answers nothing
# (the product's authorizer always allows; the route decides).
odd = Chalice(app_name="odd-authorizers")


@odd.authorizer()
def denies(auth_request: AuthRequest) -> AuthResponse:
    return AuthResponse(routes=[], principal_id="nobody")


@odd.authorizer()
def answers_nothing(auth_request: AuthRequest) -> Any:
    return None


@odd.route("/denied", authorizer=denies)
def denied() -> dict[str, str]:
    return {}


@odd.route("/broken", authorizer=answers_nothing)
def broken() -> dict[str, str]:
    return {}


@pytest.mark.parametrize(
    ("path", "status", "response_type"),
    [("/denied", 403, "ACCESS_DENIED"), ("/broken", 500, "AUTHORIZER_CONFIGURATION_ERROR")],
)
def test_an_authorizers_deny_or_failure_is_the_deployed_answer(
    path: str, status: int, response_type: str
) -> None:
    with Client(odd) as client:
        reply = Http(client, "some-key").get(path)

    assert assert_problem(reply, status) == deployed_body(response_type)
