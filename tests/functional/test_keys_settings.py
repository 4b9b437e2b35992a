"""API keys (shown once, listed without the secret, revoked at once) and the tenant's settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import Http, key_with_role, new_tenant
from tests.functional.helpers import assert_problem, error_paths

# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "flow_admin", "content_editor"])
def test_a_new_key_is_shown_once_and_listed_without_its_secret(admin: Http, role: str) -> None:
    reply = admin.post("/v1/keys", {"name": "ci", "role": role})

    assert reply.status == 201, reply.body
    created = reply.json
    assert created["name"] == "ci"
    assert created["role"] == role
    assert created["api_key"].startswith("flw_")
    listed = admin.get("/v1/keys").json
    assert listed["next"] is None
    mine = [k for k in listed["items"] if k["id"] == created["id"]]
    assert mine == [{k: created[k] for k in ("id", "name", "role", "created_at")}]
    assert all("api_key" not in k for k in listed["items"])
    assert created["api_key"] not in str(listed)
    assert admin.as_key(created["api_key"]).get("/v1/settings").status == 200


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "k", "role": "operator"}, "role"),
        ({"name": "k", "role": "root"}, "role"),
        ({"role": "admin"}, "name"),
        ({"name": "", "role": "admin"}, "name"),
        ({"name": "k", "role": "admin", "secret": "x"}, "secret"),
    ],
)
def test_an_invalid_key_request_is_400(admin: Http, body: dict[str, Any], path: str) -> None:
    assert error_paths(admin.post("/v1/keys", body)) == [path]


def test_the_last_admin_key_cannot_be_revoked(admin: Http) -> None:
    (first,) = admin.get("/v1/keys").json["items"]
    key_with_role(admin, "flow_admin")

    body = assert_problem(admin.delete(f"/v1/keys/{first['id']}"), 409)

    assert "admin" in body["detail"]
    assert admin.get("/v1/keys").status == 200


def test_with_a_second_admin_the_first_can_be_revoked(admin: Http) -> None:
    (first,) = admin.get("/v1/keys").json["items"]
    second = key_with_role(admin, "admin")

    assert second.delete(f"/v1/keys/{first['id']}").status == 204

    assert_problem(admin.get("/v1/keys"), 401)
    assert [k["role"] for k in second.get("/v1/keys").json["items"]] == ["admin"]
    (only,) = second.get("/v1/keys").json["items"]
    assert_problem(second.delete(f"/v1/keys/{only['id']}"), 409)


def test_revoking_an_unknown_or_foreign_key_is_404(admin: Http, other: Http) -> None:
    (foreign,) = other.get("/v1/keys").json["items"]
    key_with_role(other, "content_editor")

    assert_problem(admin.delete("/v1/keys/key_nope"), 404)
    assert_problem(admin.delete(f"/v1/keys/{foreign['id']}"), 404)
    assert other.get("/v1/keys").status == 200
    assert len(other.get("/v1/keys").json["items"]) == 2


def test_a_revoked_key_is_gone_from_the_list_and_cannot_be_revoked_twice(admin: Http) -> None:
    editor = admin.post("/v1/keys", {"name": "e", "role": "content_editor"}).json

    assert admin.delete(f"/v1/keys/{editor['id']}").status == 204

    assert editor["id"] not in [k["id"] for k in admin.get("/v1/keys").json["items"]]
    assert_problem(admin.delete(f"/v1/keys/{editor['id']}"), 404)


def test_keys_are_listed_per_tenant(admin: Http, other: Http) -> None:
    key_with_role(admin, "flow_admin")
    mine = {k["id"] for k in admin.get("/v1/keys").json["items"]}
    theirs = {k["id"] for k in other.get("/v1/keys").json["items"]}
    assert len(mine) == 2
    assert len(theirs) == 1
    assert not mine & theirs


# -- settings --------------------------------------------------------------------------------

DEFAULTS = {
    "timezone": "UTC",
    "default_sender_address": None,
    "default_sender_name": None,
    "sms_sender": None,
    "working_hours": {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
    },
    "default_phone_region": None,
    "request_categories": {},
    "sale_stages": {},
}


def test_a_new_tenant_has_the_default_settings(admin: Http) -> None:
    reply = admin.get("/v1/settings")
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.json == DEFAULTS


def test_settings_given_at_tenant_creation_are_kept(chalice_client: Any) -> None:
    tenant = new_tenant(chalice_client, timezone="Europe/Oslo", default_phone_region="no")
    settings = tenant.get("/v1/settings").json
    assert settings["timezone"] == "Europe/Oslo"
    assert settings["default_phone_region"] == "NO"


def test_patching_settings_merges(admin: Http) -> None:
    reply = admin.patch(
        "/v1/settings",
        {
            "timezone": "Europe/Oslo",
            "default_sender_address": "news@example.com",
            "default_sender_name": "Acme",
            "sms_sender": "Acme",
            "default_phone_region": "no",
        },
    )

    assert reply.status == 200, reply.body
    expected = DEFAULTS | {
        "timezone": "Europe/Oslo",
        "default_sender_address": "news@example.com",
        "default_sender_name": "Acme",
        "sms_sender": "Acme",
        "default_phone_region": "NO",
    }
    assert reply.json == expected
    assert admin.get("/v1/settings").json == expected

    # Nested objects merge; null resets a field to its default.
    reply = admin.patch("/v1/settings", {"working_hours": {"end": "20:00"}, "sms_sender": None})
    assert reply.status == 200, reply.body
    assert reply.json["working_hours"] == DEFAULTS["working_hours"] | {"end": "20:00"}
    assert reply.json["sms_sender"] is None
    assert reply.json["timezone"] == "Europe/Oslo"


def test_a_settings_patch_is_judged_on_the_merged_result(admin: Http) -> None:
    assert admin.patch("/v1/settings", {"working_hours": {"end": "20:00"}}).status == 200

    # 18:00 is after the default end but before the stored one: the merged hours are valid.
    reply = admin.patch("/v1/settings", {"working_hours": {"start": "18:00"}})

    assert reply.status == 200, reply.body
    assert reply.json["working_hours"]["start"] == "18:00"
    assert reply.json["working_hours"]["end"] == "20:00"


def test_patching_settings_accepts_merge_patch_json(admin: Http) -> None:
    reply = admin.patch(
        "/v1/settings",
        {"timezone": "America/New_York"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert reply.json["timezone"] == "America/New_York"


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": 1}, "timezone"),
        ({"default_sender_address": "not-an-address"}, "default_sender_address"),
        ({"sms_sender": "Far too long a sender"}, "sms_sender"),
        ({"default_phone_region": "XX"}, "default_phone_region"),
        ({"working_hours": {"start": "9am"}}, "working_hours.start"),
        ({"working_hours": {"days": ["someday"]}}, "working_hours.days.0"),
        ({"working_hours": {"start": "18:00", "end": "08:00"}}, "working_hours"),
        ({"currency": "NOK"}, "currency"),
    ],
)
def test_invalid_settings_are_400_and_change_nothing(
    admin: Http, patch: dict[str, Any], path: str
) -> None:
    assert error_paths(admin.patch("/v1/settings", patch)) == [path]
    assert admin.get("/v1/settings").json == DEFAULTS


def test_settings_belong_to_one_tenant(admin: Http, other: Http) -> None:
    admin.patch("/v1/settings", {"timezone": "Asia/Tokyo"})
    assert other.get("/v1/settings").json == DEFAULTS
