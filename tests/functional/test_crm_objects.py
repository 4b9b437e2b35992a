"""The CRM kinds besides contacts: create, read, list, patch and delete where they have them,
extra-field definitions, selection and project members, a contact's activity and objects."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.functional.conftest import Http
from tests.functional.helpers import assert_problem, create, error_paths

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:enrich"


def next_second() -> None:
    time.sleep(1.01 - time.time() % 1)


def ids(http: Http, path: str) -> list[str]:
    reply = http.get(path)
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.json["items"]]


# Each kind with a body, and the fields the server sets or rewrites (normalised, defaults).
KINDS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("/v1/companies", {"name": "Acme", "category": "customer", "business": "anvils"}, {}),
    (
        "/v1/associates",
        {"name": "Olav", "email": "olav@example.com", "mobile_phone": "+47 412 34 567"},
        {"mobile_phone": "+4741234567", "group_ids": [], "active": True},
    ),
    ("/v1/groups", {"name": "Sales"}, {}),
    ("/v1/selections", {"name": "VIP"}, {}),
    ("/v1/projects", {"name": "Launch"}, {}),
    ("/v1/extra-fields", {"name": "tier", "type": "list", "options": ["gold", "silver"]}, {}),
    (
        "/v1/follow-ups",
        {
            "type": "meeting",
            "title": "Coffee",
            "start": "2026-11-23T10:00:00+01:00",
            "end": "2026-11-23T11:00:00Z",
            "description": "Talk shop",
        },
        {
            "start": "2026-11-23T09:00:00Z",
            "contact_id": None,
            "associate_id": None,
            "project_id": None,
        },
    ),
    (
        "/v1/requests",
        {"title": "Help", "type": "support", "priority": "high", "message": "It broke"},
        {"status": "open", "contact_id": None, "owner_id": None, "category": None},
    ),
    (
        "/v1/sales",
        {"title": "Big deal", "type": "licence", "stage": "offer", "amount": 1200.5},
        {"status": "open", "contact_id": None, "owner_id": None, "project_id": None},
    ),
    (
        "/v1/mailings",
        {
            "name": "Welcome",
            "subject": "Hello [[customer.first_name]]",
            "html": "<p>Hi</p>",
            "text": "Hi",
            "from_name": "Acme",
            "from_address": "news@example.com",
            "reply_to": "help@example.com",
            "attachments": ["files/terms.pdf"],
        },
        {},
    ),
    ("/v1/scripts", {"name": "enrich", "function_arn": ARN}, {}),
]


@pytest.mark.parametrize(("path", "body", "made"), KINDS, ids=[k[0] for k in KINDS])
def test_create_get_and_list(
    admin: Http, path: str, body: dict[str, Any], made: dict[str, Any]
) -> None:
    created = create(admin, path, body)

    # What was sent, as the server made it, came back.
    assert created == created | body | made
    assert created["id"]
    assert created["created_at"] == created["updated_at"]
    reply = admin.get(f"{path}/{created['id']}")
    assert reply.status == 200
    assert reply.json == created
    second = create(admin, path, body | {"name": "second"} if "name" in body else body)
    assert ids(admin, path) == [created["id"], second["id"]]
    assert_problem(admin.get(f"{path}/nope"), 404)


def test_an_empty_list(admin: Http) -> None:
    for path, _, _ in KINDS:
        reply = admin.get(path)
        assert reply.status == 200
        assert reply.json == {"items": [], "next": None}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/v1/companies", {}, "name"),
        ("/v1/companies", {"name": ""}, "name"),
        ("/v1/companies", {"name": "Acme", "owner_id": "asc_nope"}, "owner_id"),
        ("/v1/companies", {"name": "Acme", "size": 3}, "size"),
        ("/v1/associates", {"name": "Olav", "email": "olav"}, "email"),
        ("/v1/associates", {"name": "Olav", "mobile_phone": "412 34 567"}, "mobile_phone"),
        ("/v1/associates", {"name": "Olav", "group_ids": ["grp_nope"]}, "group_ids"),
        ("/v1/associates", {"name": "Olav", "active": "yes"}, "active"),
        ("/v1/groups", {"name": 1}, "name"),
        ("/v1/selections", {}, "name"),
        ("/v1/projects", {"name": "P", "members": []}, "members"),
        ("/v1/follow-ups", {}, "title"),
        ("/v1/follow-ups", {"title": "T", "type": "call"}, "type"),
        ("/v1/follow-ups", {"title": "T", "start": "tomorrow"}, "start"),
        ("/v1/follow-ups", {"title": "T", "start": "2026-11-23T10:00:00"}, "start"),
        ("/v1/follow-ups", {"title": "T", "contact_id": "con_nope"}, "contact_id"),
        ("/v1/follow-ups", {"title": "T", "associate_id": "asc_nope"}, "associate_id"),
        ("/v1/follow-ups", {"title": "T", "project_id": "prj_nope"}, "project_id"),
        ("/v1/requests", {"title": "T", "priority": 1}, "priority"),
        ("/v1/requests", {"title": "T", "owner_id": "asc_nope"}, "owner_id"),
        ("/v1/sales", {"title": "T", "status": "won"}, "status"),
        ("/v1/sales", {"title": "T", "amount": -1}, "amount"),
        ("/v1/sales", {"title": "T", "amount": "100"}, "amount"),
        ("/v1/mailings", {"name": "M", "from_address": "news"}, "from_address"),
        ("/v1/mailings", {"name": "M", "attachments": "a.pdf"}, "attachments"),
        ("/v1/scripts", {"name": "S"}, "function_arn"),
        ("/v1/scripts", {"name": "S", "function_arn": "arn:aws:s3:::bucket"}, "function_arn"),
        ("/v1/extra-fields", {"name": "has space", "type": "text"}, "name"),
        ("/v1/extra-fields", {"name": "x", "type": "colour"}, "type"),
    ],
)
def test_a_bad_object_is_400_naming_the_field(
    admin: Http, path: str, body: dict[str, Any], error: str
) -> None:
    assert error_paths(admin.post(path, body)) == [error]
    assert ids(admin, path) == []


def test_a_follow_up_may_not_end_before_it_starts(admin: Http) -> None:
    reply = admin.post(
        "/v1/follow-ups",
        {"title": "T", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"},
    )
    assert "end is before start" in assert_problem(reply, 400)["detail"]


# -- patch and delete ------------------------------------------------------------------------


def test_patching_and_deleting_a_company(admin: Http) -> None:
    owner = create(admin, "/v1/associates", {"name": "Olav"})
    company = create(admin, "/v1/companies", {"name": "Acme", "category": "lead"})

    reply = admin.patch(
        f"/v1/companies/{company['id']}", {"owner_id": owner["id"], "category": None}
    )

    assert reply.status == 200, reply.body
    assert reply.json == company | {
        "owner_id": owner["id"],
        "category": None,
        "updated_at": reply.json["updated_at"],
    }
    assert error_paths(admin.patch(f"/v1/companies/{company['id']}", {"name": None})) == ["name"]
    assert error_paths(admin.patch(f"/v1/companies/{company['id']}", {"size": 1})) == ["size"]
    assert admin.delete(f"/v1/companies/{company['id']}").status == 204
    assert_problem(admin.get(f"/v1/companies/{company['id']}"), 404)
    assert ids(admin, "/v1/companies") == []


def test_patching_and_deleting_an_associate(admin: Http) -> None:
    sales = create(admin, "/v1/groups", {"name": "Sales"})
    support = create(admin, "/v1/groups", {"name": "Support"})
    olav = create(admin, "/v1/associates", {"name": "Olav", "group_ids": [sales["id"]]})

    reply = admin.patch(
        f"/v1/associates/{olav['id']}",
        {"group_ids": [sales["id"], support["id"]], "active": False, "mobile_phone": "+4741234567"},
    )

    assert reply.status == 200, reply.body
    assert reply.json["group_ids"] == [sales["id"], support["id"]]
    assert reply.json["active"] is False
    assert reply.json["name"] == "Olav"
    assert error_paths(
        admin.patch(f"/v1/associates/{olav['id']}", {"group_ids": ["grp_nope"]})
    ) == ["group_ids"]
    assert admin.delete(f"/v1/associates/{olav['id']}").status == 204
    assert_problem(admin.patch(f"/v1/associates/{olav['id']}", {"active": True}), 404)


@pytest.mark.parametrize("status", ["sold", "lost", "open"])
def test_a_sale_changes_status(admin: Http, status: str) -> None:
    sale = create(admin, "/v1/sales", {"title": "Deal", "amount": 100})

    reply = admin.patch(f"/v1/sales/{sale['id']}", {"status": status, "stage": "closed"})

    assert reply.status == 200, reply.body
    assert reply.json == sale | {
        "status": status,
        "stage": "closed",
        "updated_at": reply.json["updated_at"],
    }
    assert admin.get(f"/v1/sales/{sale['id']}").json["status"] == status


@pytest.mark.parametrize(
    ("patch", "path"),
    [({"status": "won"}, "status"), ({"status": None, "amount": -5}, "amount"), ({"x": 1}, "x")],
)
def test_a_bad_sale_patch_is_400(admin: Http, patch: dict[str, Any], path: str) -> None:
    sale = create(admin, "/v1/sales", {"title": "Deal"})
    assert error_paths(admin.patch(f"/v1/sales/{sale['id']}", patch)) == [path]
    assert admin.get(f"/v1/sales/{sale['id']}").json == sale


# -- extra-field definitions -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "number", "date", "bool"])
def test_a_definition_of_each_plain_type(admin: Http, kind: str) -> None:
    definition = create(admin, "/v1/extra-fields", {"name": f"f_{kind}", "type": kind})
    assert definition["type"] == kind
    assert definition["options"] is None
    assert admin.get(f"/v1/extra-fields/{definition['id']}").json == definition


def test_only_a_list_definition_has_options(admin: Http) -> None:
    assert_problem(admin.post("/v1/extra-fields", {"name": "tier", "type": "list"}), 400)
    reply = admin.post("/v1/extra-fields", {"name": "tier", "type": "list", "options": []})
    assert_problem(reply, 400)
    reply = admin.post("/v1/extra-fields", {"name": "size", "type": "text", "options": ["S"]})
    assert_problem(reply, 400)
    assert ids(admin, "/v1/extra-fields") == []


def test_a_definition_name_is_taken_once(admin: Http, other: Http) -> None:
    create(admin, "/v1/extra-fields", {"name": "tier", "type": "text"})

    body = assert_problem(admin.post("/v1/extra-fields", {"name": "tier", "type": "number"}), 409)

    assert [e["path"] for e in body["errors"]] == ["name"]
    assert_problem(admin.post("/v1/extra-fields", {"name": "TIER", "type": "text"}), 409)
    assert len(ids(admin, "/v1/extra-fields")) == 1
    create(other, "/v1/extra-fields", {"name": "tier", "type": "text"})


# -- members ---------------------------------------------------------------------------------

LISTS = ["/v1/selections", "/v1/projects"]


@pytest.mark.parametrize("path", LISTS)
def test_members_are_added_once_listed_and_removed(admin: Http, path: str) -> None:
    the_list = create(admin, path, {"name": "L"})
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    bob = create(admin, "/v1/contacts", {"first_name": "Bob"})
    members = f"{path}/{the_list['id']}/members"

    first = admin.put(f"{members}/{ada['id']}")
    assert first.status == 200, first.body
    assert first.json["contact_id"] == ada["id"]
    assert first.json["added_at"].endswith("Z")
    next_second()  # times are to the second: a new added_at would now differ
    again = admin.put(f"{members}/{ada['id']}")
    assert again.status == 200
    assert again.json == first.json
    added_bob = admin.put(f"{members}/{bob['id']}").json

    listed = admin.get(members).json
    assert listed == {
        "items": sorted([first.json, added_bob], key=lambda m: m["contact_id"]),
        "next": None,
    }

    reply = admin.delete(f"{members}/{ada['id']}")
    assert reply.status == 204
    assert [m["contact_id"] for m in admin.get(members).json["items"]] == [bob["id"]]
    assert_problem(admin.delete(f"{members}/{ada['id']}"), 404)


@pytest.mark.parametrize("path", LISTS)
def test_membership_needs_a_known_list_and_contact(admin: Http, path: str) -> None:
    the_list = create(admin, path, {"name": "L"})
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    other_path = LISTS[1 - LISTS.index(path)]
    not_this_kind = create(admin, other_path, {"name": "X"})

    assert_problem(admin.put(f"{path}/{the_list['id']}/members/con_nope"), 404)
    assert_problem(admin.put(f"{path}/nope/members/{ada['id']}"), 404)
    assert_problem(admin.put(f"{path}/{not_this_kind['id']}/members/{ada['id']}"), 404)
    assert_problem(admin.get(f"{path}/nope/members"), 404)
    assert_problem(admin.delete(f"{path}/nope/members/{ada['id']}"), 404)
    assert admin.get(f"{path}/{the_list['id']}/members").json == {"items": [], "next": None}


@pytest.mark.parametrize("path", LISTS)
def test_members_page(admin: Http, path: str) -> None:
    the_list = create(admin, path, {"name": "L"})
    members = f"{path}/{the_list['id']}/members"
    contacts = {create(admin, "/v1/contacts", {})["id"] for _ in range(5)}
    for contact_id in contacts:
        assert admin.put(f"{members}/{contact_id}").status == 200

    seen, url = [], f"{members}?limit=2"
    while url:
        page = admin.get(url).json
        seen += [m["contact_id"] for m in page["items"]]
        url = f"{members}?limit=2&cursor={page['next']}" if page["next"] else ""

    assert sorted(seen) == sorted(contacts)
    assert len(seen) == len(contacts)


def test_deleting_a_contact_removes_its_memberships(admin: Http) -> None:
    selection = create(admin, "/v1/selections", {"name": "S"})
    project = create(admin, "/v1/projects", {"name": "P"})
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    bob = create(admin, "/v1/contacts", {"first_name": "Bob"})
    for list_path in (f"/v1/selections/{selection['id']}", f"/v1/projects/{project['id']}"):
        for contact in (ada, bob):
            assert admin.put(f"{list_path}/members/{contact['id']}").status == 200

    assert admin.delete(f"/v1/contacts/{ada['id']}").status == 204

    for list_path in (f"/v1/selections/{selection['id']}", f"/v1/projects/{project['id']}"):
        members = admin.get(f"{list_path}/members").json["items"]
        assert [m["contact_id"] for m in members] == [bob["id"]]
        assert_problem(admin.delete(f"{list_path}/members/{ada['id']}"), 404)
        assert_problem(admin.put(f"{list_path}/members/{ada['id']}"), 404)


# -- a contact's activity and objects ----------------------------------------------------------


def test_activity_lists_memberships_and_objects_newest_first(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    selection = create(admin, "/v1/selections", {"name": "S"})
    project = create(admin, "/v1/projects", {"name": "P"})

    admin.put(f"/v1/selections/{selection['id']}/members/{ada['id']}")
    admin.put(f"/v1/selections/{selection['id']}/members/{ada['id']}")  # no second entry
    admin.put(f"/v1/projects/{project['id']}/members/{ada['id']}")
    follow_up = create(admin, "/v1/follow-ups", {"title": "Call", "contact_id": ada["id"]})
    request = create(admin, "/v1/requests", {"title": "Help", "contact_id": ada["id"]})
    sale = create(admin, "/v1/sales", {"title": "Deal", "contact_id": ada["id"]})
    admin.delete(f"/v1/selections/{selection['id']}/members/{ada['id']}")

    reply = admin.get(f"/v1/contacts/{ada['id']}/activity")

    assert reply.status == 200, reply.body
    entries = reply.json["items"]
    assert [(e["type"], e.get("kind")) for e in entries] == [
        ("membership_removed", "selection"),
        ("activity_created", "sale"),
        ("activity_created", "request"),
        ("activity_created", "follow_up"),
        ("membership_added", "project"),
        ("membership_added", "selection"),
    ]
    assert [e.get("object_id") for e in entries[1:4]] == [
        sale["id"],
        request["id"],
        follow_up["id"],
    ]
    assert [e.get("list_id") for e in entries if e["type"] != "activity_created"] == [
        selection["id"],
        project["id"],
        selection["id"],
    ]
    assert all(e["id"] and e["at"].endswith("Z") for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)

    first = admin.get(f"/v1/contacts/{ada['id']}/activity?limit=4").json
    rest = admin.get(f"/v1/contacts/{ada['id']}/activity?limit=4&cursor={first['next']}").json
    assert first["items"] + rest["items"] == entries
    assert rest["next"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/follow-ups", {"title": "Call"}),
        ("/v1/requests", {"title": "Help"}),
        ("/v1/sales", {"title": "Deal"}),
    ],
)
def test_listing_a_contacts_objects(admin: Http, path: str, body: dict[str, Any]) -> None:
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    bob = create(admin, "/v1/contacts", {"first_name": "Bob"})
    adas = [create(admin, path, body | {"contact_id": ada["id"]})["id"] for _ in range(3)]
    bobs = [create(admin, path, body | {"contact_id": bob["id"]})["id"]]
    loose = create(admin, path, body)["id"]

    assert ids(admin, f"{path}?contact_id={ada['id']}") == adas
    assert ids(admin, f"{path}?contact_id={bob['id']}") == bobs
    assert ids(admin, f"{path}?contact_id=con_nobody") == []
    assert ids(admin, path) == [*adas, *bobs, loose]

    first = admin.get(f"{path}?contact_id={ada['id']}&limit=2").json
    assert [o["id"] for o in first["items"]] == adas[:2]
    rest = admin.get(f"{path}?contact_id={ada['id']}&limit=2&cursor={first['next']}").json
    assert [o["id"] for o in rest["items"]] == adas[2:]
    assert rest["next"] is None


def test_a_sale_moved_to_another_contact_is_listed_there(admin: Http) -> None:
    ada = create(admin, "/v1/contacts", {"first_name": "Ada"})
    bob = create(admin, "/v1/contacts", {"first_name": "Bob"})
    sale = create(admin, "/v1/sales", {"title": "Deal", "contact_id": ada["id"]})

    reply = admin.patch(f"/v1/sales/{sale['id']}", {"contact_id": bob["id"]})

    assert reply.status == 200, reply.body
    assert ids(admin, f"/v1/sales?contact_id={ada['id']}") == []
    assert ids(admin, f"/v1/sales?contact_id={bob['id']}") == [sale["id"]]
    assert error_paths(admin.patch(f"/v1/sales/{sale['id']}", {"contact_id": "con_x"})) == [
        "contact_id"
    ]


@pytest.mark.parametrize(
    ("target", "path", "body", "field", "patch"),
    [
        ("/v1/companies", "/v1/contacts", {}, "company_id", {"first_name": "Ada"}),
        ("/v1/associates", "/v1/contacts", {}, "owner_id", {"first_name": "Ada"}),
        ("/v1/associates", "/v1/companies", {"name": "Acme"}, "owner_id", {"category": "lead"}),
        ("/v1/contacts", "/v1/sales", {"title": "Deal"}, "contact_id", {"status": "sold"}),
    ],
)
def test_a_deleted_reference_leaves_the_object_editable(
    admin: Http, target: str, path: str, body: dict[str, Any], field: str, patch: dict[str, Any]
) -> None:
    referenced = create(admin, target, {} if target == "/v1/contacts" else {"name": "Gone"})
    referring = create(admin, path, body | {field: referenced["id"]})
    assert admin.delete(f"{target}/{referenced['id']}").status == 204

    reply = admin.patch(f"{path}/{referring['id']}", patch)

    assert reply.status == 200, reply.body
    assert reply.json[field] == referenced["id"]
    # A reference the patch adds is still checked.
    assert error_paths(admin.patch(f"{path}/{referring['id']}", {field: "nope"})) == [field]
