"""Triggers (SPEC.md §2): every change fires the matching triggers, whoever makes it (the API, a
flow's step), through the engine's gate; imports fire nothing; chains stop at depth 10."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.functional.engine_fixtures import World

NOTE = {"id": "note", "type": "notify_email", "settings": {"to": "ops@example.com",
        "subject": "s", "text": "t"}}  # fmt: skip


def triggered(world: World, *triggers: dict[str, Any], steps: Any = None) -> str:
    return world.flow(steps if steps is not None else [NOTE], triggers=list(triggers))


def contacts_in(world: World, flow_id: str) -> list[str]:
    return sorted(p.contact_id for p in world.everyone(flow_id))


def test_contact_created_and_updated_fire_through_the_api(world: World) -> None:
    created = triggered(world, {"type": "contact_created"})
    updated = triggered(world, {"type": "contact_updated"})
    contact = world.contact(email="kari@example.com")
    assert contacts_in(world, created) == [contact]
    assert contacts_in(world, updated) == []
    reply = world.http.patch(f"/v1/contacts/{contact}", {"category": "Lead"})
    assert reply.status == 200
    world.engine.drain()
    assert contacts_in(world, updated) == [contact]
    # A patch that changes nothing is no update.
    world.http.patch(f"/v1/contacts/{contact}", {"category": "Lead"})
    assert len(world.everyone(updated)) == 1
    world.check(created, updated)


def test_sale_request_and_membership_triggers(world: World) -> None:
    selection, project = world.selection(), world.project()
    flows = {
        name: triggered(world, trigger)
        for name, trigger in {
            "sale_created": {"type": "sale_created"},
            "sale_sold": {"type": "sale_sold"},
            "sale_lost": {"type": "sale_lost"},
            "request_created": {"type": "request_created"},
            "selection": {"type": "added_to_selection", "selection_id": selection},
            "project": {"type": "added_to_project", "project_id": project},
        }.items()
    }
    contact = world.contact()
    other_selection = world.selection("Other")
    world.add_member("selection", other_selection, contact)
    assert contacts_in(world, flows["selection"]) == []  # another selection: not this trigger
    world.add_member("selection", selection, contact)
    world.add_member("project", project, contact)
    sale = world.http.post("/v1/sales", {"title": "Deal", "contact_id": contact}).json["id"]
    assert world.http.post("/v1/requests", {"title": "Help", "contact_id": contact}).status == 201
    for name in ("sale_created", "request_created", "selection", "project"):
        assert contacts_in(world, flows[name]) == [contact], name
    assert contacts_in(world, flows["sale_sold"]) == []
    assert world.http.patch(f"/v1/sales/{sale}", {"status": "sold"}).status == 200
    assert contacts_in(world, flows["sale_sold"]) == [contact]
    assert contacts_in(world, flows["sale_lost"]) == []
    world.engine.drain()
    world.check(*flows.values())


def test_triggers_are_live_only_while_running_or_paused(world: World) -> None:
    flow = triggered(world, {"type": "contact_created"})
    world.lifecycle(flow, "pause")
    queued = world.contact()
    assert [p.status for p in world.everyone(flow)] == ["queued"]
    world.lifecycle(flow, "end")
    world.contact()
    assert contacts_in(world, flow) == [queued]


def test_import_fires_nothing_and_merges_by_email(world: World) -> None:
    flow = triggered(world, {"type": "contact_created"}, {"type": "contact_updated"})
    existing = world.contact(email="old@example.com", first_name="Old")
    world.engine.drain()
    before = len(world.everyone(flow))
    csv = (
        b"first_name,last_name,email,interests,extra_fields.shoe\n"
        b"Ada,Lovelace,ada@example.com,Maths;Engines,\n"
        b"Renamed,,OLD@example.com,,\n"
    )
    world.http.post("/v1/extra-fields", {"name": "shoe", "type": "text"})
    reply = world.http.post("/v1/contacts/import", raw=csv, headers={"Content-Type": "text/csv"})
    assert reply.status == 200, reply.body
    assert (reply.json["created"], reply.json["updated"]) == (1, 1)
    assert reply.json["contact_ids"][1] == existing
    found = world.http.get("/v1/contacts?email=ada@example.com").json["items"][0]
    assert found["interests"] == ["Maths", "Engines"]
    assert world.http.get(f"/v1/contacts/{existing}").json["first_name"] == "Renamed"
    assert len(world.everyone(flow)) == before
    json_rows = [{"first_name": "Bo", "email": "bo@example.com"}]
    assert world.http.post("/v1/contacts/import", json_rows).json["created"] == 1
    assert len(world.everyone(flow)) == before


@pytest.mark.parametrize(
    ("body", "content_type", "path"),
    [
        (b'[{"email": "fine@example.com"}, {"email": "not an address"}]', "application/json",
         "[1].email"),
        (b'[{"email": "x@example.com"}, {"email": "X@example.com"}]', "application/json",
         "[1].email"),
        (b'[{"owner_id": "asc_missing"}]', "application/json", "[0].owner_id"),
        (b"first_name,mobile_phone\nA,not a phone\n", "text/csv", "[0].mobile_phone"),
    ],
)  # fmt: skip
def test_a_bad_row_imports_nothing(world: World, body: bytes, content_type: str, path: str) -> None:
    reply = world.http.post("/v1/contacts/import", raw=body, headers={"Content-Type": content_type})
    assert reply.status == 400, reply.body
    assert reply.json["errors"][0]["path"] == path
    assert world.http.get("/v1/contacts").json["items"] == []


@pytest.mark.parametrize("body", [b"[]", b"{}", b"[1]", b"not json"])
def test_import_refuses_what_is_not_rows(world: World, body: bytes) -> None:
    assert world.http.post("/v1/contacts/import", raw=body).status == 400


def test_a_step_s_effect_fires_the_next_flow(world: World) -> None:
    """A -> B: A adds the contact to a selection that triggers B; B's participant is one
    enrolment deeper."""
    selection = world.selection()
    flow_b = triggered(world, {"type": "added_to_selection", "selection_id": selection})
    add = {"id": "add", "type": "add_to_list", "settings": {"selection_id": selection}}
    request = {"id": "req", "type": "create_request", "settings": {"title": "Call"}}
    flow_a = world.flow([add, request])
    flow_c = triggered(world, {"type": "request_created"})
    contact = world.contact()
    world.enrol(flow_a, contact)
    world.engine.drain()
    (b,) = world.everyone(flow_b)
    assert (b.contact_id, b.data["depth"], b.data["cause"]) == (contact, 1, f"flow:{flow_a}")
    assert contacts_in(world, flow_c) == [contact]
    world.check(flow_a, flow_b, flow_c)


def test_a_loop_of_flows_stops_at_the_chain_limit(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A -> B -> A -> ...: each flow takes the contact out of its own selection and puts it in
    the other's; the gate stops the chain after 10 enrolments deeper than the outside event."""
    to_a, to_b = world.selection("A"), world.selection("B")

    def hop(own: str, other: str) -> list[dict[str, Any]]:
        return [
            {"id": "out", "type": "remove_from_list", "settings": {"selection_id": own}},
            {"id": "on", "type": "add_to_list", "settings": {"selection_id": other}},
        ]

    flow_a = triggered(world, {"type": "added_to_selection", "selection_id": to_a},
                       steps=hop(to_a, to_b))  # fmt: skip
    flow_b = triggered(world, {"type": "added_to_selection", "selection_id": to_b},
                       steps=hop(to_b, to_a))  # fmt: skip
    contact = world.contact()
    with caplog.at_level(logging.WARNING, logger="flows.engine"):
        world.add_member("selection", to_a, contact)
        world.engine.drain()
    depths = sorted(p.data["depth"] for p in world.everyone(flow_a) + world.everyone(flow_b))
    assert depths == list(range(11))
    assert any("chain deeper than" in r.getMessage() for r in caplog.records)
    world.check(flow_a, flow_b)


def test_warnings_when_a_trigger_s_own_actions_repeat_or_contradict_a_step(world: World) -> None:
    selection = world.selection()
    form = world.http.post(
        "/v1/forms", {"name": "F", "actions": {"add_to_selection": {"selection_id": selection}}}
    ).json["id"]
    link = world.http.post(
        "/v1/links",
        {"url": "https://example.com", "actions": {
            "remove_from_selection": {"selection_id": selection}, "add_interest": "Demo"}},
    ).json["id"]  # fmt: skip
    add = {"id": "add", "type": "add_to_list", "settings": {"selection_id": selection}}
    interest = {"id": "int", "type": "update_contact", "settings": {"updates": [
        {"field": "interests", "action": "add", "value": "Demo"}]}}  # fmt: skip
    triggers = [{"type": "form_submitted", "form_id": form},
                {"type": "link_clicked", "link_id": link}]  # fmt: skip
    body = {"name": "F", "steps": [add, interest], "triggers": triggers}
    flow = world.http.post("/v1/flows", body).json
    warnings = {(p["step_id"], p["message"]) for p in flow["problems"]}
    assert all(p["severity"] == "warning" for p in flow["problems"])
    assert warnings == {
        ("add", f"the form {form} (triggers[0]) already adds this selection: the step repeats it"),
        ("add", f"the link {link} (triggers[1]) removes this selection: the step contradicts it"),
        ("int", f"the link {link} (triggers[1]) already adds this interest: the step repeats it"),
    }
    assert world.http.post(f"/v1/flows/{flow['id']}/start").status == 200
