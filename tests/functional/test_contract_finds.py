"""What schemathesis found (tests/contract): each case failed before its fix.

Requests that named an empty id answered 500 (DynamoDB refuses an empty key), lax time fields
took a number as seconds since 1970, an import took ``"retired": 0`` for false, and the served
OpenAPI left out answers the API gives (the gateway's 401, 413, the public endpoints' pages,
redirects and pixel, the import's body and its 400)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import Http
from tests.functional.helpers import PROBLEM, assert_problem, create, error_paths


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/requests", {"title": "T", "owner_id": ""}, "owner_id"),
        ("/v1/sales", {"title": "T", "contact_id": ""}, "contact_id"),
        ("/v1/follow-ups", {"title": "T", "associate_id": ""}, "associate_id"),
        ("/v1/contacts", {"company_id": ""}, "company_id"),
        ("/v1/associates", {"name": "A", "group_ids": [""]}, "group_ids"),
        ("/v1/links", {"url": "https://x.example", "actions": {"script_id": ""}},
         "actions.script_id"),
        ("/v1/forms", {"name": "F", "actions": {"response_mailing_id": ""}},
         "actions.response_mailing_id"),
        ("/v1/contacts", {"owner_id": "a" * 2000}, "owner_id"),
    ],
)  # fmt: skip
def test_an_empty_or_oversized_reference_is_400(
    admin: Http, path: str, body: dict[str, Any], field: str
) -> None:
    assert error_paths(admin.post(path, body)) == [field]


def test_an_empty_reference_in_a_patch_is_400(admin: Http) -> None:
    sale = create(admin, "/v1/sales", {"title": "Deal"})
    assert error_paths(admin.patch(f"/v1/sales/{sale['id']}", {"contact_id": ""})) == ["contact_id"]
    assert admin.get(f"/v1/sales/{sale['id']}").json == sale


def test_processing_a_submission_for_an_empty_contact_id_is_400(admin: Http, anon: Http) -> None:
    form = create(admin, "/v1/forms", {"name": "F", "processing": "manual"})
    assert anon.post(f"/f/{form['id']}", {"email": "a@example.com"}).status == 200
    [pending] = admin.get(f"/v1/forms/{form['id']}/submissions").json["items"]
    process = f"/v1/forms/{form['id']}/submissions/{pending['id']}/process"
    assert error_paths(admin.post(process, {"contact_id": ""})) == ["contact_id"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/follow-ups", {"title": "T", "end": 0}, "end"),
        ("/v1/follow-ups", {"title": "T", "start": 1_700_000_000}, "start"),
        ("/v1/sales", {"title": "T", "date": 0}, "date"),
    ],
)
def test_a_time_is_iso_text_never_a_number(
    admin: Http, path: str, body: dict[str, Any], field: str
) -> None:
    assert error_paths(admin.post(path, body)) == [field]


def test_a_time_in_a_sale_patch_is_iso_text_too(admin: Http) -> None:
    sale = create(admin, "/v1/sales", {"title": "Deal", "date": "2026-12-01T09:00:00+01:00"})
    assert sale["date"] == "2026-12-01T08:00:00Z"
    assert error_paths(admin.patch(f"/v1/sales/{sale['id']}", {"date": 0})) == ["date"]


def test_an_import_row_is_checked_as_strictly_as_a_create(admin: Http) -> None:
    reply = admin.post("/v1/contacts/import", [{"email": "a@example.com", "retired": 0}])
    assert error_paths(reply) == ["[0].retired"]
    assert admin.get("/v1/contacts").json["items"] == []
    csv = b"email,retired,interests\nb@example.com,true,A;B\n"
    reply = admin.post("/v1/contacts/import", raw=csv, headers={"Content-Type": "text/csv"})
    assert reply.status == 200, reply.body
    [contact] = admin.get("/v1/contacts").json["items"]
    assert (contact["retired"], contact["interests"]) == (True, ["A", "B"])


# -- the served OpenAPI says what the API answers ---------------------------------------------


@pytest.fixture(scope="module")
def document(chalice_client: Any) -> dict[str, Any]:
    reply = Http(chalice_client).get("/openapi.json")
    assert reply.status == 200
    return dict(reply.json)


def test_every_keyed_operation_documents_the_gateways_401(
    document: dict[str, Any], anon: Http
) -> None:
    reply = anon.get("/v1/contacts")  # no Authorization header: the gateway answers
    assert_problem(reply, 401)  # as the routes do (chalicelib/api/gateway.py)
    for path, methods in document["paths"].items():
        for method, entry in methods.items():
            if "security" in entry:
                content = entry["responses"]["401"]["content"]
                assert set(content) == {PROBLEM}, (method, path)


def test_every_body_taking_operation_documents_413(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for method, entry in methods.items():
            if "requestBody" in entry:
                assert "413" in entry["responses"], (method, path)
                assert "400" in entry["responses"], (method, path)


def test_the_public_endpoints_document_their_real_answers(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def answers(method: str, path: str) -> dict[str, set[str]]:
        responses = paths[path][method]["responses"]
        return {status: set(r.get("content", {})) for status, r in responses.items()}

    assert answers("get", "/l/{token}") == {"200": {"text/plain"}, "302": set(), "404": {PROBLEM}}
    assert answers("get", "/o/{token}") == {"200": {"image/gif"}, "204": set(), "404": {PROBLEM}}
    assert answers("get", "/u/{token}") == {"200": {"text/html"}, "404": {PROBLEM}}
    assert answers("post", "/u/{token}") == {"200": {"text/html"}, "404": {PROBLEM}}
    assert answers("post", "/f/{form_id}") == {
        "200": {"application/json", "text/html"},
        "303": set(),
        "400": {PROBLEM},
        "404": {PROBLEM},
        "413": {PROBLEM},
    }
    assert "Location" in paths["/l/{token}"]["get"]["responses"]["302"]["headers"]
    submit = paths["/f/{form_id}"]["post"]["requestBody"]["content"]
    assert set(submit) == {"application/x-www-form-urlencoded", "application/json"}


def test_the_import_documents_its_body_and_its_400(document: dict[str, Any], admin: Http) -> None:
    entry = document["paths"]["/v1/contacts/import"]["post"]
    assert set(entry["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert "400" in entry["responses"]
    assert_problem(admin.post("/v1/contacts/import", raw=b""), 400)
