"""Tenant isolation (another tenant's objects answer 404, exactly as if they did not exist),
request errors as problem+json, and the served OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.functional.conftest import Http
from tests.functional.helpers import PROBLEM, assert_problem, create, error_paths


def ids(http: Http, path: str) -> list[str]:
    reply = http.get(path)
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.json["items"]]


# -- isolation -------------------------------------------------------------------------------

# path, a body to create one, a valid patch (None: no PATCH), whether DELETE exists
ISOLATED: list[tuple[str, dict[str, Any], dict[str, Any] | None, bool]] = [
    ("/v1/contacts", {"first_name": "Ada", "email": "ada@example.com"}, {"first_name": "X"}, True),
    ("/v1/companies", {"name": "Acme"}, {"name": "X"}, True),
    ("/v1/associates", {"name": "Olav"}, {"name": "X"}, True),
    ("/v1/sales", {"title": "Deal"}, {"status": "sold"}, False),
    ("/v1/selections", {"name": "VIP"}, None, False),
    ("/v1/projects", {"name": "Launch"}, None, False),
    ("/v1/groups", {"name": "Sales"}, None, False),
    ("/v1/follow-ups", {"title": "Call"}, None, False),
    ("/v1/requests", {"title": "Help"}, None, False),
    ("/v1/mailings", {"name": "Welcome"}, None, False),
    ("/v1/extra-fields", {"name": "tier", "type": "text"}, None, False),
]


@pytest.mark.parametrize(
    ("path", "body", "patch", "deletable"), ISOLATED, ids=[i[0] for i in ISOLATED]
)
def test_another_tenants_object_is_404_and_unlisted(
    admin: Http,
    other: Http,
    path: str,
    body: dict[str, Any],
    patch: dict[str, Any] | None,
    deletable: bool,
) -> None:
    mine = create(admin, path, body)
    theirs = create(other, path, body)
    url = f"{path}/{mine['id']}"

    assert_problem(other.get(url), 404)
    if patch is not None:
        assert_problem(other.patch(url, patch), 404)
    if deletable:
        assert_problem(other.delete(url), 404)

    assert ids(other, path) == [theirs["id"]]
    assert ids(admin, path) == [mine["id"]]
    assert admin.get(url).json == mine


def test_email_lookup_stays_in_the_tenant(admin: Http, other: Http) -> None:
    create(admin, "/v1/contacts", {"email": "ada@example.com"})
    assert other.get("/v1/contacts?email=ada@example.com").json == {"items": [], "next": None}


def test_another_tenants_contact_has_no_activity_for_us(admin: Http, other: Http) -> None:
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    assert_problem(other.get(f"/v1/contacts/{ada['id']}/activity"), 404)


@pytest.mark.parametrize("path", ["/v1/selections", "/v1/projects"])
def test_another_tenants_lists_and_contacts_are_404_for_members(
    admin: Http, other: Http, path: str
) -> None:
    mine = create(admin, path, {"name": "Mine"})
    theirs = create(other, path, {"name": "Theirs"})
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    bob = create(other, "/v1/contacts", {"first_name": "Bob"})
    assert admin.put(f"{path}/{mine['id']}/members/{ada['id']}").status == 200

    # Their key on my list, even with their own contact.
    assert_problem(other.get(f"{path}/{mine['id']}/members"), 404)
    assert_problem(other.put(f"{path}/{mine['id']}/members/{bob['id']}"), 404)
    assert_problem(other.put(f"{path}/{mine['id']}/members/{ada['id']}"), 404)
    assert_problem(other.delete(f"{path}/{mine['id']}/members/{ada['id']}"), 404)
    # Their list with my contact.
    assert_problem(other.put(f"{path}/{theirs['id']}/members/{ada['id']}"), 404)
    # My list with their contact.
    assert_problem(admin.put(f"{path}/{mine['id']}/members/{bob['id']}"), 404)

    members = admin.get(f"{path}/{mine['id']}/members").json["items"]
    assert [m["contact_id"] for m in members] == [ada["id"]]
    assert other.get(f"{path}/{theirs['id']}/members").json["items"] == []


@pytest.mark.parametrize("path", ["/v1/follow-ups", "/v1/requests", "/v1/sales"])
def test_listing_by_another_tenants_contact_finds_nothing(
    admin: Http, other: Http, path: str
) -> None:
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    create(admin, path, {"title": "Mine", "contact_id": ada["id"]})
    assert ids(other, f"{path}?contact_id={ada['id']}") == []


THEIRS: dict[str, tuple[str, dict[str, Any]]] = {
    "company": ("/v1/companies", {"name": "Theirs"}),
    "associate": ("/v1/associates", {"name": "Theirs"}),
    "group": ("/v1/groups", {"name": "Theirs"}),
    "contact": ("/v1/contacts", {"first_name": "Theirs"}),
    "project": ("/v1/projects", {"name": "Theirs"}),
}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/contacts", {"company_id": "company"}, "company_id"),
        ("/v1/contacts", {"owner_id": "associate"}, "owner_id"),
        ("/v1/contacts", {"service_owner_id": "associate"}, "service_owner_id"),
        ("/v1/companies", {"name": "C", "owner_id": "associate"}, "owner_id"),
        ("/v1/associates", {"name": "A", "group_ids": ["group"]}, "group_ids"),
        ("/v1/follow-ups", {"title": "T", "contact_id": "contact"}, "contact_id"),
        ("/v1/follow-ups", {"title": "T", "associate_id": "associate"}, "associate_id"),
        ("/v1/follow-ups", {"title": "T", "project_id": "project"}, "project_id"),
        ("/v1/requests", {"title": "T", "contact_id": "contact"}, "contact_id"),
        ("/v1/sales", {"title": "T", "contact_id": "contact"}, "contact_id"),
        ("/v1/sales", {"title": "T", "project_id": "project"}, "project_id"),
    ],
)
def test_another_tenants_id_as_a_reference_is_400(
    admin: Http, other: Http, path: str, body: dict[str, Any], field: str
) -> None:
    kind = body[field][0] if isinstance(body[field], list) else body[field]
    foreign_id = create(other, *THEIRS[kind])["id"]
    foreign = body | {field: [foreign_id] if isinstance(body[field], list) else foreign_id}

    assert error_paths(admin.post(path, foreign)) == [field]


def test_another_tenants_company_in_a_patch_is_400(admin: Http, other: Http) -> None:
    theirs = create(other, "/v1/companies", {"name": "Theirs"})
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})

    reply = admin.patch(f"/v1/contacts/{ada['id']}", {"company_id": theirs["id"]})

    assert error_paths(reply) == ["company_id"]
    assert admin.get(f"/v1/contacts/{ada['id']}").json["company_id"] is None


def test_a_cursor_carries_no_tenant(admin: Http, other: Http) -> None:
    for i in range(3):
        create(admin, "/v1/contacts", {"first_name": f"mine{i}"})
    theirs = [create(other, "/v1/contacts", {"first_name": f"theirs{i}"})["id"] for i in range(3)]
    cursor = admin.get("/v1/contacts?limit=1").json["next"]

    page = other.get(f"/v1/contacts?cursor={cursor}").json

    assert {c["id"] for c in page["items"]} <= set(theirs)


# -- request errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"first_name": "Ada",}',
        b"{'first_name': 'Ada'}",
        b'{"first_name": "Ada"} trailing',
        b'{"amount": NaN, "title": "T"}',
        b'{"amount": Infinity, "title": "T"}',
        b"\xff\xfe",
    ],
)
@pytest.mark.parametrize("path", ["/v1/contacts", "/v1/sales"])
def test_malformed_json_is_400(admin: Http, raw: bytes, path: str) -> None:
    body = assert_problem(admin.post(path, raw=raw), 400)
    assert body["detail"]
    assert ids(admin, path) == []


@pytest.mark.parametrize("raw", [b"[]", b'[{"first_name": "Ada"}]', b'"Ada"', b"42", b"null", b""])
def test_a_body_that_is_not_an_object_is_400(admin: Http, raw: bytes) -> None:
    assert_problem(admin.post("/v1/contacts", raw=raw), 400)
    contact = create(admin, "/v1/contacts", {"first_name": "Ada"})
    assert_problem(admin.patch(f"/v1/contacts/{contact['id']}", raw=raw), 400)
    assert_problem(admin.patch("/v1/settings", raw=raw), 400)
    assert_problem(admin.post("/v1/keys", raw=raw), 400)


def test_malformed_json_in_a_patch_is_400(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {"first_name": "Ada"})
    assert_problem(admin.patch(f"/v1/contacts/{contact['id']}", raw=b'{"first_name": '), 400)
    assert_problem(admin.patch("/v1/settings", raw=b"{nope}"), 400)
    assert admin.get(f"/v1/contacts/{contact['id']}").json == contact


def test_every_field_error_is_listed_with_its_path(admin: Http) -> None:
    reply = admin.post(
        "/v1/contacts",
        {"first_name": 5, "consent": {"email": "yes"}, "interests": "x", "colour": "red"},
    )

    body = assert_problem(reply, 400)

    assert body["type"]
    assert body["detail"]
    assert sorted(e["path"] for e in body["errors"]) == [
        "colour",
        "consent.email",
        "first_name",
        "interests",
    ]
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


# -- OpenAPI ---------------------------------------------------------------------------------


# API.md "CRM": every path of the table, and the item and member paths it implies.
CRM_PATHS = [
    "/v1/contacts",
    "/v1/companies",
    "/v1/associates",
    "/v1/groups",
    "/v1/selections",
    "/v1/projects",
    "/v1/extra-fields",
    "/v1/follow-ups",
    "/v1/requests",
    "/v1/sales",
    "/v1/mailings",
    "/v1/scripts",
]
CONTRACT_PATHS = {
    *CRM_PATHS,
    *(f"{path}/{{id}}" for path in CRM_PATHS),
    "/v1/selections/{id}/members",
    "/v1/selections/{id}/members/{contact_id}",
    "/v1/projects/{id}/members",
    "/v1/projects/{id}/members/{contact_id}",
    "/v1/contacts/{id}/activity",
    "/v1/keys",
    "/v1/keys/{key_id}",
    "/v1/settings",
    "/v1/admin/tenants",
}


def test_the_openapi_document_is_valid_and_complete(anon: Http) -> None:
    reply = anon.get("/openapi.json")

    assert reply.status == 200
    assert reply.content_type == "application/json"
    document = reply.json
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert set(document["paths"]) >= CONTRACT_PATHS
    operations = document["paths"]
    assert {"get", "post"} <= set(operations["/v1/contacts"])
    assert {"get", "patch", "delete"} <= set(operations["/v1/contacts/{id}"])
    assert {"get", "patch"} <= set(operations["/v1/sales/{id}"])
    assert {"put", "delete"} <= set(operations["/v1/selections/{id}/members/{contact_id}"])
    assert {"get", "patch"} <= set(operations["/v1/settings"])
    assert {"get", "post"} <= set(operations["/v1/keys"])
    assert "delete" in operations["/v1/keys/{key_id}"]
    contact_post = operations["/v1/contacts"]["post"]
    assert {"201", "400", "401", "403"} <= set(contact_post["responses"])
    assert PROBLEM in contact_post["responses"]["400"]["content"]
