"""Flows through the HTTP API: create, read, replace, versions, list, delete, tenants and roles,
and the bodies that are refused with a 400 (API.md "Flows")."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.functional.conftest import Http, key_with_role

PROBLEM_JSON = "application/problem+json"
EMAIL_SETTINGS = {
    "from": {"type": "specified", "address": "news@example.com", "name": "Example"},
    "reply_to": {"type": "from"},
}


def create(http: Http, body: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    reply = http.post("/v1/flows", (body or {"name": "Welcome"}) | fields)
    assert reply.status == 201, reply.body
    return reply.json


def status_of(http: Http, flow_id: str) -> str:
    reply = http.get(f"/v1/flows/{flow_id}")
    assert reply.status == 200, reply.body
    return reply.json["status"]


def move(http: Http, flow_id: str, *actions: str) -> None:
    for action in actions:
        reply = http.post(f"/v1/flows/{flow_id}/{action}")
        assert reply.status == 200, (action, reply.body)


def all_pages(http: Http, path: str) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        reply = http.get(path + (f"{sep}cursor={cursor}" if cursor else ""))
        assert reply.status == 200, reply.body
        pages.append(reply.json["items"])
        cursor = reply.json["next"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def flow_ids(http: Http, query: str = "") -> list[str]:
    return [f["id"] for page in all_pages(http, f"/v1/flows{query}") for f in page]


TREE = {
    "name": "Tree",
    "timezone": "Europe/Oslo",
    "steps": [
        {"id": "first", "type": "wait_time", "settings": {"duration": "P2D"}},
        {
            "type": "split",
            "settings": {"basis": "contact_data"},
            "branches": [
                {
                    "name": "Leads",
                    "condition": {
                        "rules": [{"field": "contact.category", "op": "eq", "value": "Lead"}]
                    },
                    "steps": [{"type": "wait_time", "settings": {"duration": "PT1H"}}],
                },
                {"id": "b-kept", "name": "Others", "steps": [{"id": "inner", "type": "wait_time"}]},
            ],
            "everyone_else": {"exit": False, "steps": [{"type": "wait_time"}]},
        },
    ],
}


# -- create and read -----------------------------------------------------------------------------


def test_create_answers_201_not_running_at_version_1(admin: Http) -> None:
    reply = admin.post("/v1/flows", {"name": "Welcome"})

    assert reply.status == 201, reply.body
    flow = reply.json
    assert flow["status"] == "not_running"
    assert flow["version"] == 1
    assert flow["id"]
    assert flow["stats"]["enrolled"] == 0
    assert status_of(admin, flow["id"]) == "not_running"


def test_server_makes_missing_step_and_branch_ids_and_keeps_the_clients(admin: Http) -> None:
    flow = create(admin, TREE)

    first, split = flow["steps"]
    leads, others = split["branches"]
    assert first["id"] == "first"
    assert others["id"] == "b-kept"
    assert others["steps"][0]["id"] == "inner"
    made = [
        split["id"],
        leads["id"],
        leads["steps"][0]["id"],
        split["everyone_else"]["steps"][0]["id"],
    ]
    assert all(isinstance(made_id, str) and made_id for made_id in made), made
    assert len({*made, "first", "b-kept", "inner"}) == 7
    assert status_of(admin, flow["id"]) == "not_running"


def test_get_answers_exactly_what_post_answered(admin: Http) -> None:
    flow = create(admin, TREE | {"email_settings": EMAIL_SETTINGS})

    assert admin.get(f"/v1/flows/{flow['id']}").json == flow
    assert status_of(admin, flow["id"]) == "not_running"


def test_email_settings_answer_with_the_field_name_from(admin: Http) -> None:
    # The API names the sender "from" (API.md); the model's Python name "from_" must not leak.
    flow = create(admin, email_settings=EMAIL_SETTINGS)

    assert flow["email_settings"]["from"] == EMAIL_SETTINGS["from"] | {"fallback_address": None}
    assert "from_" not in flow["email_settings"]
    version = admin.get(f"/v1/flows/{flow['id']}/versions/1").json
    assert version["definition"]["email_settings"]["from"]["address"] == "news@example.com"
    assert status_of(admin, flow["id"]) == "not_running"


# -- replace and versions ------------------------------------------------------------------------


def test_each_put_bumps_the_version_and_every_version_is_kept(admin: Http) -> None:
    flow = create(admin, name="v1")
    for number in (2, 3, 4):
        reply = admin.put(f"/v1/flows/{flow['id']}", {"name": f"v{number}"})
        assert reply.status == 200, reply.body
        assert reply.json["version"] == number

    versions = admin.get(f"/v1/flows/{flow['id']}/versions")
    assert versions.status == 200
    assert [(v["version"], v["name"]) for v in versions.json["items"]] == [
        (1, "v1"),
        (2, "v2"),
        (3, "v3"),
        (4, "v4"),
    ]
    pages = all_pages(admin, f"/v1/flows/{flow['id']}/versions?limit=3")
    assert [[v["version"] for v in page] for page in pages if page] == [[1, 2, 3], [4]]
    third = admin.get(f"/v1/flows/{flow['id']}/versions/3")
    assert third.status == 200
    assert third.json["version"] == 3
    assert third.json["definition"]["name"] == "v3"
    assert admin.get(f"/v1/flows/{flow['id']}").json["version"] == 4
    assert status_of(admin, flow["id"]) == "not_running"


@pytest.mark.parametrize("number", ["5", "0", "abc", "-1", "²", "9" * 40])
def test_an_unknown_version_is_404(admin: Http, number: str) -> None:
    flow = create(admin)

    assert admin.get(f"/v1/flows/{flow['id']}/versions/{number}").status == 404
    assert status_of(admin, flow["id"]) == "not_running"


@pytest.mark.parametrize("last", ["abc", "²", "9" * 40])
def test_a_forged_versions_cursor_is_400(admin: Http, last: str) -> None:
    flow = create(admin)
    cursor = base64.urlsafe_b64encode(json.dumps({"k": last}).encode()).decode().rstrip("=")

    reply = admin.get(f"/v1/flows/{flow['id']}/versions?cursor={cursor}")

    assert reply.status == 400, reply.body
    assert status_of(admin, flow["id"]) == "not_running"


def test_versions_keep_each_definition_with_its_steps(admin: Http) -> None:
    flow = create(admin, TREE)
    changed = flow | {"steps": flow["steps"][:1]}
    assert admin.put(f"/v1/flows/{flow['id']}", changed).status == 200

    one = admin.get(f"/v1/flows/{flow['id']}/versions/1").json["definition"]
    two = admin.get(f"/v1/flows/{flow['id']}/versions/2").json["definition"]
    assert one["steps"] == flow["steps"]
    assert [s["id"] for s in two["steps"]] == ["first"]
    assert status_of(admin, flow["id"]) == "not_running"


def test_put_of_the_whole_get_answer_is_accepted_and_read_only_fields_ignored(admin: Http) -> None:
    flow = create(admin, TREE | {"sms_sender": "Example"})
    answer = admin.get(f"/v1/flows/{flow['id']}").json
    answer["steps"].append({"type": "send_sms", "settings": {"text": "Hi"}})
    forged = answer | {
        "id": "flw_forged",
        "status": "running",
        "version": 99,
        "created_at": "2000-01-01T00:00:00Z",
        "problems": [{"step_id": None, "path": "x", "message": "forged", "severity": "error"}],
        "stats": {"enrolled": 1000},
    }

    reply = admin.put(f"/v1/flows/{flow['id']}", forged)

    assert reply.status == 200, reply.body
    saved = reply.json
    assert saved["id"] == flow["id"]
    assert saved["status"] == "not_running"
    assert saved["version"] == 2
    assert saved["created_at"] == flow["created_at"]
    assert saved["stats"]["enrolled"] == 0
    assert all(p["message"] != "forged" for p in saved["problems"])
    assert saved["steps"][:2] == flow["steps"]
    assert admin.get(f"/v1/flows/{flow['id']}").json == saved
    assert status_of(admin, flow["id"]) == "not_running"


def test_a_refused_put_changes_nothing(admin: Http) -> None:
    flow = create(admin, TREE)

    reply = admin.put(f"/v1/flows/{flow['id']}", {"name": "x", "steps": [{"type": "teleport"}]})

    assert reply.status == 400
    assert admin.get(f"/v1/flows/{flow['id']}").json == flow
    assert [v["version"] for v in admin.get(f"/v1/flows/{flow['id']}/versions").json["items"]] == [
        1
    ]


# -- list ----------------------------------------------------------------------------------------


def test_list_filters_by_status(admin: Http) -> None:
    idle = create(admin, name="idle")
    running = create(admin, name="running")
    paused = create(admin, name="paused")
    move(admin, running["id"], "start")
    move(admin, paused["id"], "start", "pause")

    assert flow_ids(admin, "?status=running") == [running["id"]]
    assert flow_ids(admin, "?status=paused") == [paused["id"]]
    assert flow_ids(admin, "?status=not_running") == [idle["id"]]
    assert sorted(flow_ids(admin)) == sorted([idle["id"], running["id"], paused["id"]])
    assert admin.get("/v1/flows?status=asleep").status == 400
    assert [status_of(admin, f["id"]) for f in (idle, running, paused)] == [
        "not_running",
        "running",
        "paused",
    ]


def test_list_pages_through_every_flow_once(admin: Http) -> None:
    created = [create(admin, name=f"flow {n}")["id"] for n in range(7)]

    pages = all_pages(admin, "/v1/flows?limit=2")

    assert len(pages) >= 4
    assert all(len(page) <= 2 for page in pages)
    listed = [f["id"] for page in pages for f in page]
    assert sorted(listed) == sorted(created)
    assert admin.get("/v1/flows?cursor=not-a-cursor").status == 400


def test_list_of_running_flows_pages_past_other_flows(admin: Http) -> None:
    created = [create(admin, name=f"flow {n}")["id"] for n in range(6)]
    for flow_id in created[::2]:
        move(admin, flow_id, "start")

    running = [
        f["id"] for page in all_pages(admin, "/v1/flows?status=running&limit=2") for f in page
    ]

    assert sorted(running) == sorted(created[::2])
    assert all(status_of(admin, flow_id) == "running" for flow_id in created[::2])


# -- delete --------------------------------------------------------------------------------------


def test_delete_a_flow_that_is_not_running(admin: Http) -> None:
    flow = create(admin)

    assert admin.delete(f"/v1/flows/{flow['id']}").status == 204

    assert admin.get(f"/v1/flows/{flow['id']}").status == 404
    assert admin.get(f"/v1/flows/{flow['id']}/versions").status == 404
    assert admin.get(f"/v1/flows/{flow['id']}/versions/1").status == 404
    assert admin.delete(f"/v1/flows/{flow['id']}").status == 404
    assert flow["id"] not in flow_ids(admin)


@pytest.mark.parametrize("actions", [("start",), ("start", "pause")], ids=["running", "paused"])
def test_delete_is_refused_while_live_and_allowed_after_end(
    admin: Http, actions: tuple[str, ...]
) -> None:
    flow = create(admin)
    move(admin, flow["id"], *actions)
    expected = "running" if actions == ("start",) else "paused"

    refused = admin.delete(f"/v1/flows/{flow['id']}")

    assert refused.status == 409
    assert refused.content_type == PROBLEM_JSON
    assert status_of(admin, flow["id"]) == expected
    move(admin, flow["id"], "end")
    assert admin.delete(f"/v1/flows/{flow['id']}").status == 204
    assert admin.get(f"/v1/flows/{flow['id']}").status == 404


# -- tenants and roles ---------------------------------------------------------------------------


def test_another_tenant_sees_nothing_of_the_flow(admin: Http, other: Http) -> None:
    flow = create(admin)
    path = f"/v1/flows/{flow['id']}"

    assert other.get(path).status == 404
    assert other.put(path, {"name": "Hijacked"}).status == 404
    assert other.delete(path).status == 404
    for action in ("start", "pause", "end"):
        assert other.post(f"{path}/{action}").status == 404
    assert other.get(f"{path}/versions").status == 404
    assert other.get(f"{path}/versions/1").status == 404
    assert flow_ids(other) == []
    assert admin.get(path).json == flow
    assert status_of(admin, flow["id"]) == "not_running"


def test_content_editor_may_read_flows_but_not_change_them(admin: Http) -> None:
    editor = key_with_role(admin, "content_editor")
    flow = create(admin)
    path = f"/v1/flows/{flow['id']}"

    assert editor.get(path).json == flow
    assert flow_ids(editor) == [flow["id"]]
    assert editor.get(f"{path}/versions").status == 200
    assert editor.post("/v1/flows", {"name": "Mine"}).status == 403
    assert editor.put(path, {"name": "Mine"}).status == 403
    for action in ("start", "pause", "end"):
        assert editor.post(f"{path}/{action}").status == 403
    assert editor.delete(path).status == 403
    move(admin, flow["id"], "start")
    assert editor.post(f"{path}/pause").status == 403
    assert editor.post(f"{path}/end").status == 403
    assert flow_ids(admin) == [flow["id"]]
    assert admin.get(path).json["version"] == 1
    assert status_of(admin, flow["id"]) == "running"


def test_flow_admin_may_do_everything_with_flows(admin: Http) -> None:
    flow_admin = key_with_role(admin, "flow_admin")

    flow = create(flow_admin)
    path = f"/v1/flows/{flow['id']}"
    assert flow_admin.put(path, {"name": "Renamed"}).status == 200
    for action, status in (("start", "running"), ("pause", "paused"), ("end", "not_running")):
        reply = flow_admin.post(f"{path}/{action}")
        assert reply.status == 200, reply.body
        assert reply.json["status"] == status
    assert flow_admin.delete(path).status == 204
    assert admin.get(path).status == 404


# -- refused bodies ------------------------------------------------------------------------------


def step(type_: str, **settings: Any) -> dict[str, Any]:
    return {"type": type_, "settings": settings}


def split(*branches: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "split", "settings": {"basis": "contact_data"}, "branches": list(branches)} | (
        extra
    )


BAD_BODIES: dict[str, Any] = {
    "no name": {"steps": []},
    "unknown step type": {"name": "x", "steps": [step("teleport")]},
    "step without type": {"name": "x", "steps": [{"settings": {}}]},
    "duplicate step ids": {
        "name": "x",
        "steps": [{"id": "a", **step("wait_time")}, {"id": "a", **step("wait_time")}],
    },
    "duplicate step ids across branches": {
        "name": "x",
        "steps": [
            split(
                {"name": "one", "steps": [{"id": "a", **step("wait_time")}]},
                {"name": "two", "steps": [{"id": "a", **step("wait_time")}]},
            )
        ],
    },
    "duplicate step id in a branch and the top": {
        "name": "x",
        "steps": [
            {"id": "a", **step("wait_time")},
            split(everyone_else={"steps": [{"id": "a", **step("wait_time")}]}),
        ],
    },
    "duplicate branch ids": {
        "name": "x",
        "steps": [split({"id": "b", "name": "one"}, {"id": "b", "name": "two"})],
    },
    "step id with spaces": {"name": "x", "steps": [{"id": "a b", **step("wait_time")}]},
    "send_sms text is a number": {"name": "x", "steps": [step("send_sms", text=5)]},
    "wait_time working_days is a string": {
        "name": "x",
        "steps": [step("wait_time", working_days="3")],
    },
    "unknown setting": {"name": "x", "steps": [step("wait_time", hours=3)]},
    "branches on a non-split step": {
        "name": "x",
        "steps": [{**step("wait_time"), "branches": [{"name": "b", "steps": []}]}],
    },
    "everyone_else on a non-split step": {
        "name": "x",
        "steps": [{**step("send_sms"), "everyone_else": {"steps": []}}],
    },
    "unknown top-level field": {"name": "x", "colour": "blue"},
    "unknown time zone": {"name": "x", "timezone": "Mars/Olympus_Mons"},
    "duration in years": {"name": "x", "steps": [step("wait_time", duration="P1Y")]},
    "duration in words": {"name": "x", "steps": [step("wait_time", duration="2 days")]},
    "max_wait in months": {"name": "x", "steps": [step("wait_for_action", max_wait="P1M")]},
    "unknown trigger type": {"name": "x", "triggers": [{"type": "moon_rise"}]},
    "steps not a list": {"name": "x", "steps": {"id": "a"}},
    "body not an object": [],
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_nonsense_is_refused_with_400_and_not_saved(admin: Http, body: Any) -> None:
    reply = admin.post("/v1/flows", body)

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM_JSON
    assert reply.json["status"] == 400
    assert flow_ids(admin) == []


@pytest.mark.parametrize("raw", [b'{"name": "x",', b"", b"name=x", b'{"name": NaN}'])
def test_malformed_json_is_refused_with_400_and_not_saved(admin: Http, raw: bytes) -> None:
    reply = admin.post("/v1/flows", raw=raw)

    assert reply.status == 400, reply.body
    assert reply.content_type == PROBLEM_JSON
    assert flow_ids(admin) == []


def test_a_400_points_at_the_bad_setting(admin: Http) -> None:
    reply = admin.post("/v1/flows", {"name": "x", "steps": [step("send_sms", text=5)]})

    assert reply.status == 400
    assert any("settings.text" in error["path"] for error in reply.json["errors"]), reply.json
