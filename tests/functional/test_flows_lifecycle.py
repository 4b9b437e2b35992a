"""The flow's life (SPEC.md §3): every transition, every refused one, start refused by problems,
and the trigger index that follows the status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.store.flows import MAX_TRIGGER_KEYS, flows_for_trigger
from tests.functional.conftest import OPERATOR_KEY, Http

PROBLEM_JSON = "application/problem+json"
# The moves that bring a new flow into each status.
REACH = {
    "not_running": (),
    "running": ("start",),
    "paused": ("start", "pause"),
    "ended": ("start", "end"),
}


@dataclass
class Tenant:
    http: Http
    id: str


@pytest.fixture
def tenant(chalice_client: Any) -> Tenant:
    """A fresh tenant whose id the test needs (to look into the trigger index)."""
    reply = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "Lifecycle"})
    assert reply.status == 201, reply.body
    return Tenant(Http(chalice_client, reply.json["api_key"]), reply.json["tenant_id"])


def create(http: Http, **fields: Any) -> dict[str, Any]:
    reply = http.post("/v1/flows", {"name": "Lifecycle"} | fields)
    assert reply.status == 201, reply.body
    return reply.json


def move(http: Http, flow_id: str, *actions: str) -> None:
    for action in actions:
        reply = http.post(f"/v1/flows/{flow_id}/{action}")
        assert reply.status == 200, (action, reply.body)


def status_of(http: Http, flow_id: str) -> str:
    reply = http.get(f"/v1/flows/{flow_id}")
    assert reply.status == 200, reply.body
    return reply.json["status"]


def act(http: Http, flow: dict[str, Any], action: str) -> Any:
    path = f"/v1/flows/{flow['id']}"
    if action == "edit":
        return http.put(path, {"name": "Edited"})
    if action == "delete":
        return http.delete(path)
    return http.post(f"{path}/{action}")


# -- the transition table ------------------------------------------------------------------------

# (status before, action) -> (HTTP status, flow status after; None: the flow is gone)
TABLE: dict[tuple[str, str], tuple[int, str | None]] = {
    ("not_running", "start"): (200, "running"),
    ("not_running", "pause"): (409, "not_running"),
    ("not_running", "end"): (409, "not_running"),
    ("not_running", "edit"): (200, "not_running"),
    ("not_running", "delete"): (204, None),
    ("running", "start"): (409, "running"),
    ("running", "pause"): (200, "paused"),
    ("running", "end"): (200, "not_running"),
    ("running", "edit"): (409, "running"),
    ("running", "delete"): (409, "running"),
    ("paused", "start"): (200, "running"),
    ("paused", "pause"): (409, "paused"),
    ("paused", "end"): (200, "not_running"),
    ("paused", "edit"): (200, "paused"),
    ("paused", "delete"): (409, "paused"),
    # An ended flow is not_running like a new one: it may start again, or go.
    ("ended", "start"): (200, "running"),
    ("ended", "delete"): (204, None),
}


@pytest.mark.parametrize(("before", "action"), TABLE.keys(), ids=[f"{b}-{a}" for b, a in TABLE])
def test_transition(admin: Http, before: str, action: str) -> None:
    http_status, after = TABLE[before, action]
    flow = create(admin)
    move(admin, flow["id"], *REACH[before])
    version = 1

    reply = act(admin, flow, action)

    assert reply.status == http_status, reply.body
    if after is None:
        assert admin.get(f"/v1/flows/{flow['id']}").status == 404
        return
    current = admin.get(f"/v1/flows/{flow['id']}").json
    if http_status == 409:
        assert reply.content_type == PROBLEM_JSON
        assert reply.json["detail"]
        assert current["version"] == version
    else:
        assert reply.json["status"] == after
        # Lifecycle answers leave the stats out (null); everything else is the flow as read.
        assert reply.json | {"stats": None} == current | {"stats": None}
    assert current["version"] == version + (action == "edit" and http_status == 200)
    assert current["status"] == after


def test_a_full_life_keeps_one_version_per_edit(admin: Http) -> None:
    flow = create(admin)

    move(admin, flow["id"], "start", "pause", "start", "pause")
    assert admin.put(f"/v1/flows/{flow['id']}", {"name": "Paused edit"}).status == 200
    move(admin, flow["id"], "start", "end", "start", "end")

    versions = admin.get(f"/v1/flows/{flow['id']}/versions").json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert status_of(admin, flow["id"]) == "not_running"


# -- problems and start --------------------------------------------------------------------------


def test_start_is_refused_with_422_listing_the_problems(admin: Http) -> None:
    flow = create(admin, steps=[{"id": "sms", "type": "send_sms"}])

    reply = admin.post(f"/v1/flows/{flow['id']}/start")

    assert reply.status == 422, reply.body
    assert reply.content_type == PROBLEM_JSON
    found = {(p["step_id"], p["path"], p["severity"]) for p in reply.json["problems"]}
    assert found == {("sms", "settings.text", "error"), ("sms", "settings.sender", "error")}
    assert all(p["message"] for p in reply.json["problems"])
    assert status_of(admin, flow["id"]) == "not_running"


def test_warnings_alone_do_not_block_start(admin: Http) -> None:
    flow = create(
        admin,
        success={"criteria": [], "jump_to_finish": True},
        steps=[{"id": "wait", "type": "wait_time", "settings": {"working_days": 2}}],
    )
    assert flow["problems"], "the flow should have warnings"
    assert {p["severity"] for p in flow["problems"]} == {"warning"}

    reply = admin.post(f"/v1/flows/{flow['id']}/start")

    assert reply.status == 200, reply.body
    assert reply.json["problems"] == flow["problems"]
    assert status_of(admin, flow["id"]) == "running"


def test_only_errors_are_listed_when_start_is_refused(admin: Http) -> None:
    flow = create(
        admin,
        success={"criteria": [], "jump_to_finish": True},
        steps=[{"id": "wait", "type": "wait_time"}],
    )
    assert {p["severity"] for p in flow["problems"]} == {"warning", "error"}

    reply = admin.post(f"/v1/flows/{flow['id']}/start")

    assert reply.status == 422
    assert [(p["step_id"], p["path"]) for p in reply.json["problems"]] == [
        ("wait", "settings.duration")
    ]
    assert status_of(admin, flow["id"]) == "not_running"


def test_resume_is_refused_after_a_paused_edit_adds_a_problem(admin: Http) -> None:
    flow = create(admin)
    move(admin, flow["id"], "start", "pause")
    edited = admin.put(f"/v1/flows/{flow['id']}", {"name": "x", "steps": [{"type": "run_script"}]})
    assert edited.status == 200, edited.body

    reply = admin.post(f"/v1/flows/{flow['id']}/start")

    assert reply.status == 422
    assert [p["path"] for p in reply.json["problems"]] == ["settings.script_id"]
    assert status_of(admin, flow["id"]) == "paused"


def test_fixing_the_problems_lets_the_flow_start(admin: Http) -> None:
    flow = create(admin, steps=[{"id": "sms", "type": "send_sms"}])
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 422
    fixed = flow | {"sms_sender": "Example", "steps": [{"id": "sms", "type": "send_sms"}]}
    fixed["steps"][0]["settings"] = {"text": "Hello"}

    assert admin.put(f"/v1/flows/{flow['id']}", fixed).json["problems"] == []
    move(admin, flow["id"], "start")
    assert status_of(admin, flow["id"]) == "running"


def test_start_finds_problems_anew(admin: Http) -> None:
    # Saved clean, then the flow it hands finished participants to is deleted.
    target = create(admin, name="Target")
    flow = create(admin, finish={"on_success_flow_id": target["id"]})
    assert flow["problems"] == []
    assert admin.delete(f"/v1/flows/{target['id']}").status == 204

    reply = admin.post(f"/v1/flows/{flow['id']}/start")

    assert reply.status == 422
    assert [(p["step_id"], p["path"]) for p in reply.json["problems"]] == [
        (None, "finish.on_success_flow_id")
    ]
    assert status_of(admin, flow["id"]) == "not_running"


# -- the trigger index ---------------------------------------------------------------------------


def selection(http: Http, name: str = "VIP") -> str:
    reply = http.post("/v1/selections", {"name": name})
    assert reply.status == 201, reply.body
    return reply.json["id"]


def on_selection(tenant_id: str, selection_id: str) -> list[str]:
    return flows_for_trigger(tenant_id, "added_to_selection", selection_id)


def test_the_trigger_index_follows_the_flow_through_its_life(tenant: Tenant) -> None:
    http = tenant.http
    vip = selection(http)
    flow = create(http, triggers=[{"type": "added_to_selection", "selection_id": vip}])
    assert on_selection(tenant.id, vip) == []

    move(http, flow["id"], "start")
    assert on_selection(tenant.id, vip) == [flow["id"]]

    move(http, flow["id"], "pause")
    assert on_selection(tenant.id, vip) == [flow["id"]]

    move(http, flow["id"], "start")
    assert on_selection(tenant.id, vip) == [flow["id"]]

    move(http, flow["id"], "end")
    assert on_selection(tenant.id, vip) == []

    move(http, flow["id"], "start", "pause", "end")
    assert on_selection(tenant.id, vip) == []
    assert http.delete(f"/v1/flows/{flow['id']}").status == 204
    assert on_selection(tenant.id, vip) == []
    assert http.get(f"/v1/flows/{flow['id']}").status == 404


def test_a_paused_edit_moves_the_trigger_index_entry(tenant: Tenant) -> None:
    http = tenant.http
    old, new = selection(http, "Old"), selection(http, "New")
    flow = create(http, triggers=[{"type": "added_to_selection", "selection_id": old}])
    move(http, flow["id"], "start", "pause")

    edited = flow | {"triggers": [{"type": "added_to_selection", "selection_id": new}]}
    assert http.put(f"/v1/flows/{flow['id']}", edited).status == 200

    assert on_selection(tenant.id, old) == []
    assert on_selection(tenant.id, new) == [flow["id"]]
    move(http, flow["id"], "start")
    assert on_selection(tenant.id, new) == [flow["id"]]
    assert status_of(http, flow["id"]) == "running"


def test_an_edit_while_not_running_indexes_nothing(tenant: Tenant) -> None:
    http = tenant.http
    vip = selection(http)
    flow = create(http)

    edited = flow | {"triggers": [{"type": "added_to_selection", "selection_id": vip}]}
    assert http.put(f"/v1/flows/{flow['id']}", edited).status == 200

    assert on_selection(tenant.id, vip) == []
    move(http, flow["id"], "start")
    assert on_selection(tenant.id, vip) == [flow["id"]]
    assert status_of(http, flow["id"]) == "running"


def test_triggers_without_a_target_index_under_star(tenant: Tenant) -> None:
    http = tenant.http
    vip = selection(http)
    flow = create(
        http,
        triggers=[
            {"type": "contact_created"},
            {"type": "sale_sold"},
            {"type": "added_to_selection", "selection_id": vip},
        ],
    )
    move(http, flow["id"], "start")

    assert flows_for_trigger(tenant.id, "contact_created", None) == [flow["id"]]
    assert flows_for_trigger(tenant.id, "contact_created", "*") == [flow["id"]]
    assert flows_for_trigger(tenant.id, "sale_sold", None) == [flow["id"]]
    assert flows_for_trigger(tenant.id, "added_to_selection", None) == []
    assert flows_for_trigger(tenant.id, "contact_updated", None) == []
    move(http, flow["id"], "end")
    assert flows_for_trigger(tenant.id, "contact_created", None) == []
    assert status_of(http, flow["id"]) == "not_running"


def test_the_index_lists_every_live_flow_of_the_tenant_and_no_other(
    tenant: Tenant, other: Http
) -> None:
    http = tenant.http
    trigger = [{"type": "contact_created"}]
    running, paused, idle = (create(http, triggers=trigger) for _ in range(3))
    move(http, running["id"], "start")
    move(http, paused["id"], "start", "pause")
    foreign = create(other, triggers=trigger)
    move(other, foreign["id"], "start")

    listed = flows_for_trigger(tenant.id, "contact_created", None)

    assert sorted(listed) == sorted([running["id"], paused["id"]])
    assert [status_of(http, f["id"]) for f in (running, paused, idle)] == [
        "running",
        "paused",
        "not_running",
    ]


def test_a_flow_has_at_most_48_triggers(admin: Http) -> None:
    # Start, pause, end and paused edits rewrite the flow's trigger index entries in one
    # transaction of at most 100 items: more triggers would make them fail with a 500.
    triggers = [
        {"type": "added_to_selection", "selection_id": f"sel_{n}"}
        for n in range(MAX_TRIGGER_KEYS + 1)
    ]

    reply = admin.post("/v1/flows", {"name": "Many", "triggers": triggers})

    assert reply.status == 400, reply.body
    assert admin.get("/v1/flows").json["items"] == []


def test_every_trigger_of_a_flow_with_the_most_triggers_is_indexed(tenant: Tenant) -> None:
    http = tenant.http
    first = [selection(http, f"First {n}") for n in range(MAX_TRIGGER_KEYS)]
    flow = create(http, triggers=[{"type": "added_to_selection", "selection_id": s} for s in first])
    move(http, flow["id"], "start", "pause")
    assert all(on_selection(tenant.id, s) == [flow["id"]] for s in first)

    # A paused edit that replaces every trigger: each old entry deleted, each new one written.
    others = [
        {"type": "added_to_selection", "selection_id": f"sel_{n}"} for n in range(MAX_TRIGGER_KEYS)
    ]
    edited = http.put(f"/v1/flows/{flow['id']}", flow | {"triggers": others})

    assert edited.status == 200, edited.body
    assert all(on_selection(tenant.id, s) == [] for s in first)
    assert on_selection(tenant.id, f"sel_{MAX_TRIGGER_KEYS - 1}") == [flow["id"]]
    move(http, flow["id"], "end")
    assert on_selection(tenant.id, "sel_0") == []
    assert status_of(http, flow["id"]) == "not_running"
