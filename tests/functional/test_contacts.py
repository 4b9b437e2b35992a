"""Contacts: create, read, list with pages, merge-patch, delete, email and phone rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.functional.conftest import Http
from tests.functional.helpers import assert_problem, create, error_paths


def find(http: Http, email: str) -> list[str]:
    reply = http.get(f"/v1/contacts?email={quote(email)}")
    assert reply.status == 200, reply.body
    assert reply.json["next"] is None
    return [c["id"] for c in reply.json["items"]]


# -- create and read -------------------------------------------------------------------------


def test_a_new_contact_gets_the_defaults(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {})

    assert contact == {
        "id": contact["id"],
        "created_at": contact["created_at"],
        "updated_at": contact["created_at"],
        "first_name": "",
        "last_name": "",
        "email": None,
        "mobile_phone": None,
        "company_id": None,
        "owner_id": None,
        "service_owner_id": None,
        "category": None,
        "business": None,
        "interests": [],
        "subscriptions": [],
        "extra_fields": {},
        "consent": {"email": True, "sms": True},
        "retired": False,
    }
    assert contact["created_at"].endswith("Z")


def test_a_contact_with_every_field_round_trips(admin: Http) -> None:
    company = create(admin, "/v1/companies", {"name": "Acme"})
    owner = create(admin, "/v1/associates", {"name": "Olav"})
    service = create(admin, "/v1/associates", {"name": "Siri"})
    create(admin, "/v1/extra-fields", {"name": "shoe_size", "type": "number"})
    body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "mobile_phone": "+47 912 34 567",
        "company_id": company["id"],
        "owner_id": owner["id"],
        "service_owner_id": service["id"],
        "category": "lead",
        "business": "engines",
        "interests": ["maths", "poetry"],
        "subscriptions": ["newsletter"],
        "extra_fields": {"shoe_size": 38},
        "consent": {"email": True, "sms": False},
        "retired": True,
    }

    contact = create(admin, "/v1/contacts", body)

    assert contact == body | {
        "mobile_phone": "+4791234567",
        "id": contact["id"],
        "created_at": contact["created_at"],
        "updated_at": contact["updated_at"],
    }
    assert contact["id"].startswith("con_")
    reply = admin.get(f"/v1/contacts/{contact['id']}")
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.json == contact


def test_consent_defaults_per_channel(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {"consent": {"sms": False}})
    assert contact["consent"] == {"email": True, "sms": False}


def test_an_unknown_contact_is_404(admin: Http) -> None:
    assert_problem(admin.get("/v1/contacts/con_nope"), 404)
    assert_problem(admin.patch("/v1/contacts/con_nope", {"first_name": "x"}), 404)
    assert_problem(admin.delete("/v1/contacts/con_nope"), 404)
    assert_problem(admin.get("/v1/contacts/con_nope/activity"), 404)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"first_name": 5}, ["first_name"]),
        ({"consent": {"email": "yes"}}, ["consent.email"]),
        ({"consent": {"fax": True}}, ["consent.fax"]),
        ({"consent": True}, ["consent"]),
        ({"interests": "x"}, ["interests"]),
        ({"interests": ["a", 1]}, ["interests.1"]),
        ({"subscriptions": [None]}, ["subscriptions.0"]),
        ({"retired": "no"}, ["retired"]),
        ({"extra_fields": []}, ["extra_fields"]),
        ({"first_name": "x" * 201}, ["first_name"]),
        ({"email": "not-an-address"}, ["email"]),
        ({"email": "ada@"}, ["email"]),
        ({"email": 42}, ["email"]),
        ({"nickname": "Ada"}, ["nickname"]),
        ({"id": "con_mine"}, ["id"]),
        ({"created_at": "2026-01-01T00:00:00Z"}, ["created_at"]),
        ({"first_name": 5, "last_name": [], "shoe": 1}, ["first_name", "last_name", "shoe"]),
    ],
)
def test_a_bad_contact_is_400_naming_each_field(
    admin: Http, body: dict[str, Any], paths: list[str]
) -> None:
    problem = assert_problem(admin.post("/v1/contacts", body), 400)
    assert sorted(e["path"] for e in problem["errors"]) == sorted(paths)
    assert all(e["message"] for e in problem["errors"])
    assert admin.get("/v1/contacts").json["items"] == []


@pytest.mark.parametrize("phone", ["12", "+47 123", "call me", "+999 1234567", "912 34 567"])
def test_an_invalid_phone_is_400(admin: Http, phone: str) -> None:
    assert error_paths(admin.post("/v1/contacts", {"mobile_phone": phone})) == ["mobile_phone"]


def test_a_national_phone_needs_the_default_region(admin: Http) -> None:
    assert error_paths(admin.post("/v1/contacts", {"mobile_phone": "912 34 567"})) == [
        "mobile_phone"
    ]

    assert admin.patch("/v1/settings", {"default_phone_region": "NO"}).status == 200

    contact = create(admin, "/v1/contacts", {"mobile_phone": "912 34 567"})
    assert contact["mobile_phone"] == "+4791234567"
    # A number with its country code keeps it, whatever the default region.
    contact = create(admin, "/v1/contacts", {"mobile_phone": "+46 70 123 45 67"})
    assert contact["mobile_phone"] == "+46701234567"
    patched = admin.patch(f"/v1/contacts/{contact['id']}", {"mobile_phone": "412 34 567"})
    assert patched.json["mobile_phone"] == "+4741234567"


# -- email -------------------------------------------------------------------------------------


def test_emails_are_unique_per_tenant_case_insensitively(admin: Http, other: Http) -> None:
    ada = create(admin, "/v1/contacts", {"email": "ada@example.com"})

    body = assert_problem(admin.post("/v1/contacts", {"email": "ADA@example.com"}), 409)

    assert [e["path"] for e in body["errors"]] == ["email"]
    assert [c["id"] for c in admin.get("/v1/contacts").json["items"]] == [ada["id"]]
    # Another tenant may hold the same address.
    create(other, "/v1/contacts", {"email": "ada@example.com"})


def test_email_lookup_is_case_insensitive(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"email": "Ada@Example.com"})
    create(admin, "/v1/contacts", {"email": "bob@example.com"})
    create(admin, "/v1/contacts", {})

    assert find(admin, "ada@example.com") == [ada["id"]]
    assert find(admin, "ADA@EXAMPLE.COM") == [ada["id"]]
    assert find(admin, "ada+news@example.com") == []
    assert find(admin, "nobody@example.com") == []


def test_email_lookup_validates_the_address(admin: Http) -> None:
    assert error_paths(admin.get("/v1/contacts?email=nope")) == ["query.email"]


def test_patching_the_email_moves_its_uniqueness(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"email": "ada@example.com"})
    bob = create(admin, "/v1/contacts", {"email": "bob@example.com"})

    # Taking another contact's address (in any case) is a conflict and changes nothing.
    assert_problem(admin.patch(f"/v1/contacts/{ada['id']}", {"email": "BOB@example.com"}), 409)
    assert admin.get(f"/v1/contacts/{ada['id']}").json["email"] == "ada@example.com"

    reply = admin.patch(f"/v1/contacts/{ada['id']}", {"email": "countess@example.com"})
    assert reply.status == 200, reply.body

    assert find(admin, "countess@example.com") == [ada["id"]]
    assert find(admin, "ada@example.com") == []
    assert find(admin, "bob@example.com") == [bob["id"]]
    # The old address is free again.
    newcomer = create(admin, "/v1/contacts", {"email": "ADA@example.com"})
    assert find(admin, "ada@example.com") == [newcomer["id"]]
    assert_problem(admin.post("/v1/contacts", {"email": "countess@example.com"}), 409)


def test_changing_only_the_case_of_an_email_is_no_conflict(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"email": "ada@example.com"})

    reply = admin.patch(f"/v1/contacts/{ada['id']}", {"email": "Ada@example.com"})

    assert reply.status == 200, reply.body
    assert reply.json["email"] == "Ada@example.com"
    assert find(admin, "ADA@example.com") == [ada["id"]]


def test_removing_or_deleting_frees_the_email(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"email": "ada@example.com"})
    bob = create(admin, "/v1/contacts", {"email": "bob@example.com"})

    assert admin.patch(f"/v1/contacts/{ada['id']}", {"email": None}).json["email"] is None
    assert admin.delete(f"/v1/contacts/{bob['id']}").status == 204

    assert find(admin, "ada@example.com") == []
    assert find(admin, "bob@example.com") == []
    create(admin, "/v1/contacts", {"email": "ada@example.com"})
    create(admin, "/v1/contacts", {"email": "bob@example.com"})


# -- merge patch -------------------------------------------------------------------------------


def test_patch_is_a_json_merge_patch(admin: Http) -> None:
    for name in ("size", "colour", "vip"):
        kind = "bool" if name == "vip" else "text"
        create(admin, "/v1/extra-fields", {"name": name, "type": kind})
    contact = create(
        admin,
        "/v1/contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "interests": ["maths"],
            "extra_fields": {"size": "M", "colour": "red"},
        },
    )

    reply = admin.patch(
        f"/v1/contacts/{contact['id']}",
        {
            "last_name": None,
            "interests": ["poetry"],
            "extra_fields": {"colour": None, "vip": True},
            "consent": {"sms": False},
        },
    )

    assert reply.status == 200, reply.body
    patched = reply.json
    assert patched["first_name"] == "Ada"
    assert patched["last_name"] == ""
    assert patched["interests"] == ["poetry"]
    assert patched["extra_fields"] == {"size": "M", "vip": True}
    assert patched["consent"] == {"email": True, "sms": False}
    assert patched["created_at"] == contact["created_at"]
    assert patched["updated_at"] >= contact["updated_at"]
    assert admin.get(f"/v1/contacts/{contact['id']}").json == patched


def test_an_empty_patch_changes_nothing(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {"first_name": "Ada"})
    reply = admin.patch(f"/v1/contacts/{contact['id']}", {})
    assert reply.status == 200
    assert {k: v for k, v in reply.json.items() if k != "updated_at"} == {
        k: v for k, v in contact.items() if k != "updated_at"
    }


def test_patch_accepts_merge_patch_json(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {"first_name": "Ada"})
    reply = admin.patch(
        f"/v1/contacts/{contact['id']}",
        {"first_name": "Augusta"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert reply.json["first_name"] == "Augusta"


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"nickname": "Ada"}, "nickname"),
        ({"id": "con_other"}, "id"),
        ({"first_name": 5}, "first_name"),
        ({"consent": {"email": "yes"}}, "consent.email"),
        ({"interests": "x"}, "interests"),
        ({"email": "nope"}, "email"),
        ({"mobile_phone": "12"}, "mobile_phone"),
        ({"company_id": "com_nope"}, "company_id"),
        ({"extra_fields": {"undefined": 1}}, "extra_fields.undefined"),
    ],
)
def test_a_bad_patch_is_400_and_changes_nothing(
    admin: Http, patch: dict[str, Any], path: str
) -> None:
    contact = create(admin, "/v1/contacts", {"first_name": "Ada"})

    assert path in error_paths(admin.patch(f"/v1/contacts/{contact['id']}", patch))

    assert admin.get(f"/v1/contacts/{contact['id']}").json == contact


def test_deleting_a_contact(admin: Http) -> None:
    keep = create(admin, "/v1/contacts", {"first_name": "Keep"})
    gone = create(admin, "/v1/contacts", {"first_name": "Gone"})

    reply = admin.delete(f"/v1/contacts/{gone['id']}")

    assert reply.status == 204
    assert reply.body == b""
    assert_problem(admin.get(f"/v1/contacts/{gone['id']}"), 404)
    assert_problem(admin.delete(f"/v1/contacts/{gone['id']}"), 404)
    assert [c["id"] for c in admin.get("/v1/contacts").json["items"]] == [keep["id"]]


# -- extra-field values ------------------------------------------------------------------------

DEFINITIONS = [
    {"name": "nickname", "type": "text"},
    {"name": "shoe_size", "type": "number"},
    {"name": "birthday", "type": "date"},
    {"name": "vip", "type": "bool"},
    {"name": "tier", "type": "list", "options": ["gold", "silver"]},
]


@pytest.fixture
def with_definitions(admin: Http) -> Http:
    for definition in DEFINITIONS:
        create(admin, "/v1/extra-fields", definition)
    return admin


def test_extra_field_values_of_every_type(with_definitions: Http) -> None:
    values = {
        "nickname": "Countess",
        "shoe_size": 38.5,
        "birthday": "1815-12-10",
        "vip": False,
        "tier": "gold",
    }
    contact = create(with_definitions, "/v1/contacts", {"extra_fields": values})
    assert contact["extra_fields"] == values
    assert with_definitions.get(f"/v1/contacts/{contact['id']}").json["extra_fields"] == values


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nickname", 5),
        ("nickname", ["a"]),
        ("shoe_size", "38"),
        ("shoe_size", True),
        ("birthday", "10.12.1815"),
        ("birthday", "1815-12-10T00:00:00Z"),
        ("birthday", 18151210),
        ("vip", "yes"),
        ("vip", 1),
        ("tier", "bronze"),
        ("tier", "GOLD"),
        ("tier", ["gold"]),
        ("undefined", "x"),
        ("Nickname", "x"),
    ],
)
def test_a_wrong_extra_field_value_is_400_naming_it(
    with_definitions: Http, name: str, value: Any
) -> None:
    reply = with_definitions.post("/v1/contacts", {"extra_fields": {name: value}})
    assert error_paths(reply) == [f"extra_fields.{name}"]


# -- pages -------------------------------------------------------------------------------------


def test_paging_through_contacts_in_creation_order(admin: Http) -> None:
    created = [create(admin, "/v1/contacts", {"first_name": f"n{i}"})["id"] for i in range(7)]

    seen, pages, url = [], 0, "/v1/contacts?limit=3"
    while url:
        reply = admin.get(url)
        assert reply.status == 200, reply.body
        page = reply.json
        assert len(page["items"]) <= 3
        seen += [c["id"] for c in page["items"]]
        pages += 1
        url = f"/v1/contacts?limit=3&cursor={page['next']}" if page["next"] else ""
        assert pages <= 4

    assert seen == created
    assert pages >= 3
    assert admin.get("/v1/contacts").json == {
        "items": admin.get("/v1/contacts?limit=500").json["items"],
        "next": None,
    }


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("limit=-1", "query.limit"),
        ("limit=ten", "query.limit"),
        ("cursor=garbage!", "cursor"),
        ("cursor=W10", "cursor"),
        ("cursor=eyJrIjogMX0", "cursor"),
    ],
)
def test_bad_paging_is_400(admin: Http, query: str, path: str) -> None:
    assert error_paths(admin.get(f"/v1/contacts?{query}")) == [path]


def test_a_contact_is_stamped_by_the_engines_clock(admin: Http, engine: Any) -> None:
    """The API and the workers keep one time, the engine's (which tests move): the CRM API
    took the wall clock, so a contact's times and the engine's disagreed in every test."""
    from chalicelib.clock import iso

    engine.clock.advance(days=-400)  # far from the wall clock
    contact = create(admin, "/v1/contacts", {})
    assert (contact["created_at"], contact["updated_at"]) == (iso(engine.clock.now),) * 2
