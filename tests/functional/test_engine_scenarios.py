"""Engine scenarios through the API: the worker runs by draining the queues with the kit's fake
clock (DESIGN.md, the step protocol; SPEC.md sections 1-5). Each test has its own tenant and
ends by checking the engine invariant for its flows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.engine.dispatch import step_message
from chalicelib.engine.messages import send
from chalicelib.engine.runtime import runtime
from chalicelib.engine.window import next_opening
from chalicelib.flows.definition import SendWindow
from tests.functional.engine_fixtures import World
from tests.functional.engine_kit import wake_schedules

# -- step builders ------------------------------------------------------------------------------


def wait(step_id: str, duration: str = "P1D") -> dict[str, Any]:
    return {"id": step_id, "type": "wait_time", "settings": {"duration": duration}}


def rule(field: str, value: Any, op: str = "eq") -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def split(
    step_id: str,
    basis: str,
    branches: list[dict[str, Any]],
    *,
    exit: bool = False,
    **settings: Any,
) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "split",
        "settings": {"basis": basis} | settings,
        "branches": branches,
        "everyone_else": {"exit": exit, "steps": []},
    }


def branch(
    branch_id: str, condition: dict[str, Any], steps: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"id": branch_id, "name": branch_id, "condition": condition, "steps": steps or []}


def passing(step_id: str = "pass") -> dict[str, Any]:
    """A split nobody matches: the participant goes straight on to Finish."""
    return split(
        step_id, "contact_data", [branch("never", {"rules": [rule("contact.category", "-")]})]
    )


def wait_for_click(step_id: str, link_id: str, **settings: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "wait_for_action",
        "settings": {"actions": [{"type": "link_clicked", "link_id": link_id}]} | settings,
    }


def wake(world: World, flow_id: str, participant_id: str) -> None:
    """What a click's processing does for a participant waiting on it: a step message now."""
    send("steps", step_message(world.participant(flow_id, participant_id)))


def branch_taken(world: World, flow_id: str, participant_id: str) -> str | None:
    """The branch the participant's (only) split sent it down."""
    for entry in world.detail(flow_id, participant_id)["history"]:
        if entry.get("outcome") == "branch":
            return str(entry["detail"]["branch_id"])
    return None


# -- 1. getting into a flow ---------------------------------------------------------------------


def test_enrol_while_running_and_while_paused(world: World) -> None:
    flow = world.flow([wait("w1"), passing()])
    reply = world.propose(flow, first := world.contact())
    assert reply.status == 201, reply.body
    assert (reply.json["status"], reply.json["step_id"]) == ("active", "w1")
    world.engine.drain()
    world.check(flow)

    # Given the flow is paused, when a contact is proposed, then it enters queued
    world.lifecycle(flow, "pause")
    reply = world.propose(flow, later := world.contact())
    assert reply.status == 201, reply.body
    assert (reply.json["status"], reply.json["step_id"]) == ("queued", None)
    world.engine.drain()
    assert world.state(flow, reply.json["id"]) == ("queued", None)
    world.check(flow)

    # When the flow resumes, then the queued participant moves to the first step and waits
    world.lifecycle(flow, "start")
    world.engine.drain()
    queued = reply.json["id"]
    assert world.state(flow, queued) == ("active", "w1")
    assert world.participant(flow, queued).wait_until is not None
    world.check(flow)
    world.engine.advance(days=1, minutes=1)
    statuses = {p.contact_id: p.status for p in world.everyone(flow)}
    assert statuses == {first: "finished", later: "finished"}
    world.check(flow)


def test_the_gate_refuses_with_409_and_says_why(world: World) -> None:
    excluded = world.selection("Do not mail")
    flow = world.flow(
        [wait("w1")],
        filter=[rule("contact.category", "Lead")],
        exclusion_selection_ids=[excluded],
    )
    not_running = world.flow([wait("w1")], start=False)
    lead = world.contact(category="Lead")
    world.refused(not_running, lead, "not running")

    world.refused(flow, world.contact(category="Customer"), "(filter)")
    world.refused(flow, world.contact(category="Lead", retired=True), "(retired)")
    in_exclusion = world.contact(category="Lead")
    world.add_member("selection", excluded, in_exclusion)
    world.refused(flow, in_exclusion, "(excluded)")

    world.enrol(flow, lead)
    world.refused(flow, lead, "(already_participating)")
    world.engine.drain()
    world.refused(flow, lead, "(already_participating)")
    assert [p.contact_id for p in world.everyone(flow)] == [lead]
    world.check(flow, not_running)


def test_start_only_once_until_the_participation_is_erased(world: World) -> None:
    flow = world.flow([passing()], start_only_once=True)
    contact = world.contact()
    first = world.enrol(flow, contact)
    world.engine.drain()
    assert world.participant(flow, first).status == "finished"
    world.refused(flow, contact, "(start_only_once)")

    assert world.http.delete(f"/v1/flows/{flow}/participants/{first}").status == 204
    again = world.enrol(flow, contact)
    world.engine.drain()
    assert [p.participant_id for p in world.everyone(flow)] == [again]
    assert world.participant(flow, again).status == "finished"
    world.check(flow)


def test_entering_a_flow_removes_the_contact_from_the_flows_it_names(world: World) -> None:
    flow_a = world.flow([wait("a1", "P2D")])
    flow_b = world.flow([wait("b1", "P1D")], remove_from_flow_ids=[flow_a])
    contact, bystander = world.contact(), world.contact()
    in_a = world.enrol(flow_a, contact)
    other_in_a = world.enrol(flow_a, bystander)
    world.engine.drain()

    # When the contact enters flow B, then its live participation of flow A drops out
    in_b = world.enrol(flow_b, contact)
    world.engine.drain()
    a = world.participant(flow_a, in_a)
    assert (a.status, a.data.get("dropout_reason")) == ("dropped_out", "removed_by_flow")
    assert world.detail(flow_a, in_a)["dropout_reason"] == "removed_by_flow"
    assert world.state(flow_b, in_b) == ("active", "b1")
    assert world.state(flow_a, other_in_a) == ("active", "a1")

    # Its old wait fires later and finds it terminal; the bystander goes on
    world.engine.advance(days=2, minutes=1)
    assert world.participant(flow_a, in_a).status == "dropped_out"
    assert world.participant(flow_a, other_in_a).status == "finished"
    assert world.participant(flow_b, in_b).status == "finished"
    world.check(flow_a, flow_b)


# -- 2. walking the steps with the clock --------------------------------------------------------


def test_three_steps_finish_after_the_clock_moves(world: World) -> None:
    vip = world.selection("VIP")
    flow = world.flow(
        [
            wait("w1", "PT2H"),
            wait("w2", "P2D"),
            split("sp", "selection_member", [branch("vip", {"selection_id": vip})]),
        ]
    )
    contact = world.contact()
    pid = world.enrol(flow, contact)
    world.engine.drain()
    world.engine.advance(hours=2, minutes=1)
    assert world.state(flow, pid) == ("active", "w2")
    world.add_member("selection", vip, contact)
    world.engine.advance(days=1)
    assert world.state(flow, pid) == ("active", "w2")
    world.check(flow)

    world.engine.advance(days=1)
    detail = world.detail(flow, pid)
    assert detail["status"] == "finished"
    assert world.walked(flow, pid) == [
        (None, "enrolled"),
        ("w1", "waiting"),
        ("w1", "done"),
        ("w2", "waiting"),
        ("w2", "done"),
        ("sp", "branch"),
    ]
    assert detail["history"][-1]["detail"]["branch_id"] == "vip"
    assert detail["history"][-1]["detail"]["finish"] == "finished"
    world.check(flow)


# -- 3. pause and resume ------------------------------------------------------------------------


def test_a_wait_that_ends_while_paused_goes_on_after_resume(world: World) -> None:
    # Given a participant waiting a day on w1
    flow = world.flow([wait("w1"), wait("w2", "PT1H")])
    waiting = world.enrol(flow, world.contact())
    world.engine.drain()

    # When the flow is paused and the day passes, then it is parked on w1, and newcomers queue
    world.lifecycle(flow, "pause")
    world.engine.advance(days=2)
    p = world.participant(flow, waiting)
    assert (p.status, p.step_id, p.data.get("parked")) == ("active", "w1", True)
    queued = world.enrol(flow, world.contact())
    world.engine.drain()
    assert world.state(flow, queued) == ("queued", None)
    world.check(flow)

    # When it resumes, then the parked one goes on from w1 and the queued one starts
    world.lifecycle(flow, "start")
    world.engine.drain()
    assert world.state(flow, waiting) == ("active", "w2")
    assert world.participant(flow, waiting).data.get("parked") is False
    assert world.state(flow, queued) == ("active", "w1")
    assert world.walked(flow, waiting) == [
        (None, "enrolled"),
        ("w1", "waiting"),
        ("w1", "parked"),
        ("w1", "done"),
        ("w2", "waiting"),
    ]
    world.check(flow)
    world.engine.advance(days=1, minutes=1)
    world.engine.advance(hours=1, minutes=1)
    assert {p.status for p in world.everyone(flow)} == {"finished"}
    world.check(flow)


def test_a_wait_for_action_woken_while_paused_still_times_out_after_resume(world: World) -> None:
    # Given a participant waiting for a click, woken (without one) while the flow is paused
    link = world.bare_record("link")
    flow = world.flow([wait_for_click("wa", link, max_wait="P3D"), passing()])
    pid = world.enrol(flow, world.contact())
    world.engine.drain()
    world.lifecycle(flow, "pause")
    wake(world, flow, pid)
    world.engine.drain()
    assert world.participant(flow, pid).data.get("parked") is True

    # When the flow resumes, then it waits on, no longer parked
    world.lifecycle(flow, "start")
    world.engine.drain()
    p = world.participant(flow, pid)
    assert (p.status, p.step_id, p.data.get("parked")) == ("active", "wa", False)
    world.check(flow)

    # And its timeout still moves it on
    world.engine.advance(days=3, minutes=1)
    assert world.participant(flow, pid).status == "finished"
    world.check(flow)


# -- 4. edits while paused ----------------------------------------------------------------------


def test_an_edit_while_paused_applies_to_the_steps_not_yet_passed(world: World) -> None:
    # Given a participant waiting on w1, before a split on the contact's category
    steps = [
        wait("w1"),
        split(
            "s2", "contact_data", [branch("leads", {"rules": [rule("contact.category", "Lead")]})]
        ),
    ]
    flow = world.flow(steps)
    pid = world.enrol(flow, world.contact(category="Customer"))
    world.engine.drain()
    world.lifecycle(flow, "pause")

    # When the paused flow gets a new step after w1 and the split a branch for customers
    steps[1:1] = [wait("w3", "PT2H")]
    steps[2]["branches"].append(
        branch("customers", {"rules": [rule("contact.category", "Customer")]}, [wait("w4")])
    )
    reply = world.http.put(f"/v1/flows/{flow}", {"name": "Flow", "steps": steps})
    assert reply.status == 200, reply.body
    assert reply.json["problems"] == []
    world.lifecycle(flow, "start")

    # Then the participant walks the new steps after w1
    world.engine.advance(days=1, minutes=1)
    assert world.state(flow, pid) == ("active", "w3")
    world.engine.advance(hours=2)
    assert world.state(flow, pid) == ("active", "w4")
    world.check(flow)
    world.engine.advance(days=1)
    assert world.participant(flow, pid).status == "finished"
    assert [step for step, outcome in world.walked(flow, pid) if outcome == "done"] == [
        "w1",
        "w3",
        "w4",
    ]
    assert branch_taken(world, flow, pid) == "customers"
    world.check(flow)


def test_a_participant_parked_on_a_removed_step_goes_on_at_the_next_one(world: World) -> None:
    # Given a participant whose first step's message is still queued when the flow is paused
    target = world.selection("Target")
    steps = [
        {"id": "a1", "type": "add_to_list", "settings": {"selection_id": target}},
        {"id": "a2", "type": "add_to_list", "settings": {"selection_id": target}},
        wait("w3"),
    ]
    flow = world.flow(steps)
    pid = world.enrol(flow, world.contact())
    world.lifecycle(flow, "pause")
    world.engine.drain()
    p = world.participant(flow, pid)
    assert (p.step_id, p.data.get("parked")) == ("a1", True)

    # When an edit removes the step it stands on (and the one after), and the flow resumes
    reply = world.http.put(f"/v1/flows/{flow}", {"name": "Flow", "steps": [steps[2]]})
    assert reply.status == 200, reply.body
    world.lifecycle(flow, "start")
    world.engine.drain()

    # Then it goes on at the next step that survived
    assert world.state(flow, pid) == ("active", "w3")
    assert (None, "step_removed") not in world.walked(flow, pid)
    assert ("a1", "step_removed") in world.walked(flow, pid)
    world.check(flow)
    world.engine.advance(days=1, minutes=1)
    assert world.participant(flow, pid).status == "finished"
    world.check(flow)


# -- 5. end -------------------------------------------------------------------------------------


def test_end_cancels_for_good_and_a_restart_only_takes_new_participants(world: World) -> None:
    flow = world.flow([wait("w1", "P2D"), passing()])
    active = world.enrol(flow, world.contact())
    world.engine.drain()
    world.lifecycle(flow, "pause")
    queued = world.enrol(flow, world.contact())
    assert wake_schedules(world.tenant_id, flow)

    # When the flow ends, then queued and active participants are cancelled, its waits gone
    world.lifecycle(flow, "end")
    world.engine.drain()
    assert world.participant(flow, active).status == "cancelled"
    assert world.participant(flow, queued).status == "cancelled"
    stats = world.stats(flow)
    assert stats["by_status"]["cancelled"] == 2
    assert (stats["enrolled"], stats["in_progress"]) == (2, 0)
    assert wake_schedules(world.tenant_id, flow) == set()
    world.check(flow)

    # When it starts again, then the cancelled never move, and a new contact walks the flow
    world.lifecycle(flow, "start")
    world.engine.drain()
    newcomer = world.enrol(flow, world.contact())
    world.engine.drain()
    world.engine.advance(days=3)
    assert world.participant(flow, active).status == "cancelled"
    assert world.participant(flow, queued).status == "cancelled"
    assert world.participant(flow, newcomer).status == "finished"
    assert world.walked(flow, active)[-1] == (None, "cancelled")
    world.check(flow)


# -- 6. splits ----------------------------------------------------------------------------------


def run_split(
    world: World, step: dict[str, Any], contacts: dict[str, str], engage: Any = None
) -> dict[str, str]:
    """Enrol each contact into a flow of one split; ``engage(name, contact_id)`` runs after
    enrolment and before the split. The branch each one took (``exit:<reason>`` when it dropped
    out), once the engine invariant is checked."""
    flow = world.flow([step])
    enrolled = {name: world.enrol(flow, contact) for name, contact in contacts.items()}
    for name, contact in contacts.items():
        if engage:
            engage(name, contact)
    world.engine.drain()
    taken = {}
    for name, pid in enrolled.items():
        p = world.participant(flow, pid)
        if p.status == "dropped_out":
            taken[name] = f"exit:{p.data['dropout_reason']}"
        else:
            assert p.status == "finished", p
            taken[name] = branch_taken(world, flow, pid) or "?"
    world.check(flow)
    return taken


def test_split_on_contact_data_takes_the_first_matching_branch(world: World) -> None:
    step = split(
        "sp",
        "contact_data",
        [
            branch("leads", {"rules": [rule("contact.category", "Lead")]}),
            branch("olas", {"rules": [rule("contact.first_name", "Ola")]}),
        ],
    )
    contacts = {
        "lead": world.contact(category="Lead"),
        "both": world.contact(category="Lead", first_name="Ola"),
        "ola": world.contact(first_name="Ola", category="Customer"),
        "other": world.contact(category="Customer"),
    }
    assert run_split(world, step, contacts) == {
        "lead": "leads",
        "both": "leads",
        "ola": "olas",
        "other": "everyone_else",
    }
    with_exit = split(
        "sp",
        "contact_data",
        [branch("leads", {"rules": [rule("contact.category", "Lead")]})],
        exit=True,
    )
    assert run_split(world, with_exit, {"lead": contacts["lead"], "other": contacts["other"]}) == {
        "lead": "leads",
        "other": "exit:everyone_else_exit",
    }


def test_split_on_form_submitted_counts_submissions_since_enrolment(world: World) -> None:
    # A form that does not exist is a problem on the flow, and a flow with problems cannot start
    unknown = split("sp", "form_submitted", [branch("yes", {"form_id": "frm_missing"})])
    reply = world.http.post("/v1/flows", {"name": "Flow", "steps": [unknown]})
    assert [p["path"] for p in reply.json["problems"]] == ["branches[0].condition.form_id"]
    assert world.http.post(f"/v1/flows/{reply.json['id']}/start").status == 422

    form = world.bare_record("form", name="Signup")
    step = split("sp", "form_submitted", [branch("yes", {"form_id": form})])
    early, submitted, never = world.contact(), world.contact(), world.contact()
    world.engage(early, "submit", form, fields={"email": "a@example.com"})
    world.engine.clock.advance(seconds=1)

    def submit(name: str, contact: str) -> None:
        if name == "submitted":
            world.engage(contact, "submit", form, fields={"email": "b@example.com"})

    contacts = {"early": early, "submitted": submitted, "never": never}
    assert run_split(world, step, contacts, submit) == {
        "early": "everyone_else",
        "submitted": "yes",
        "never": "everyone_else",
    }


def test_split_on_form_data_looks_at_the_latest_submission(world: World) -> None:
    form = world.bare_record("form", name="Quote")
    step = split(
        "sp",
        "form_data",
        [
            branch("big", {"form_id": form, "rules": [rule("form.budget", 1000, "gte")]}),
            branch("norway", {"form_id": form, "rules": [rule("country", "NO")]}),
        ],
    )

    def submit(name: str, contact: str) -> None:
        budgets = {"big": [10, 5000], "shrunk": [5000, 10], "norwegian": [10]}
        for budget in budgets.get(name, []):
            world.engage(contact, "submit", form, fields={"budget": budget, "country": "no"})
            world.engine.clock.advance(milliseconds=5)

    contacts = {name: world.contact() for name in ("big", "shrunk", "norwegian", "silent")}
    assert run_split(world, step, contacts, submit) == {
        "big": "big",
        "shrunk": "norway",
        "norwegian": "norway",
        "silent": "everyone_else",
    }


def test_split_on_link_clicked_in_any_or_one_mailing(world: World) -> None:
    link, other_link = world.bare_record("link", url="https://x"), world.bare_record("link")
    news, offer = world.bare_record("mailing", name="News"), world.bare_record("mailing")
    step = split(
        "sp",
        "link_clicked",
        [
            branch("in_offer", {"link_id": link, "mailing_id": offer}),
            branch("anywhere", {"link_id": link, "mailing_id": None}),
        ],
    )
    clicks = {"offer": (link, offer), "news": (link, news), "other": (other_link, offer)}

    def click(name: str, contact: str) -> None:
        if name in clicks:
            target, mailing = clicks[name]
            world.engage(contact, "click", target, mailing_id=mailing)

    contacts = {name: world.contact() for name in ("offer", "news", "other", "none")}
    assert run_split(world, step, contacts, click) == {
        "offer": "in_offer",
        "news": "anywhere",
        "other": "everyone_else",
        "none": "everyone_else",
    }


def test_split_on_project_and_selection_membership(world: World) -> None:
    project, vip, gold = world.project(), world.selection("VIP"), world.selection("Gold")
    by_project = split(
        "sp", "project_member", [branch("member", {"project_id": project})], exit=True
    )
    by_selection = split(
        "sp",
        "selection_member",
        [branch("vip", {"selection_id": vip}), branch("gold", {"selection_id": gold})],
    )
    contacts = {name: world.contact() for name in ("in_project", "vip_and_gold", "gold", "none")}
    world.add_member("project", project, contacts["in_project"])
    world.add_member("selection", vip, contacts["vip_and_gold"])
    world.add_member("selection", gold, contacts["vip_and_gold"])
    world.add_member("selection", gold, contacts["gold"])
    assert run_split(world, by_project, contacts) == {
        "in_project": "member",
        "vip_and_gold": "exit:everyone_else_exit",
        "gold": "exit:everyone_else_exit",
        "none": "exit:everyone_else_exit",
    }
    assert run_split(world, by_selection, contacts) == {
        "in_project": "everyone_else",
        "vip_and_gold": "vip",
        "gold": "gold",
        "none": "everyone_else",
    }


# -- 7. wait for action -------------------------------------------------------------------------


def test_wait_for_action_goes_on_when_the_action_is_taken_while_waiting(world: World) -> None:
    # Given two contacts one day before a wait for a click (at most two days)
    link = world.bare_record("link")
    flow = world.flow([wait("w1"), wait_for_click("wa", link, max_wait="P2D"), passing()])
    early, clicker = world.contact(), world.contact()
    early_pid, clicker_pid = world.enrol(flow, early), world.enrol(flow, clicker)
    world.engine.drain()

    # When one clicks before it reaches the wait, and the other while it waits
    world.engage(early, "click", link)
    world.engine.advance(days=1, minutes=1)
    assert world.state(flow, early_pid) == ("active", "wa")
    assert world.state(flow, clicker_pid) == ("active", "wa")
    wake(world, flow, early_pid)
    world.engine.advance(hours=3)
    world.engage(clicker, "click", link)
    wake(world, flow, early_pid)
    wake(world, flow, clicker_pid)
    world.engine.drain()

    # Then the one that clicked while waiting goes on at once; the early click does not count
    assert world.participant(flow, clicker_pid).status == "finished"
    done = [h for h in world.detail(flow, clicker_pid)["history"] if h.get("step_id") == "wa"]
    assert [h["outcome"] for h in done] == ["waiting", "done"]
    assert done[-1]["detail"] == {"action": "link_clicked", "target_id": link}
    assert world.state(flow, early_pid) == ("active", "wa")
    world.check(flow)

    # And the early one times out after max_wait and goes on
    world.engine.advance(days=2)
    assert world.participant(flow, early_pid).status == "finished"
    history = world.detail(flow, early_pid)["history"]
    [timeout] = [h for h in history if h.get("step_id") == "wa" and h.get("outcome") == "done"]
    assert timeout["detail"] == {"timed_out": True}
    world.check(flow)


def test_wait_for_action_timeouts_exit_or_wait_for_ever(world: World) -> None:
    link = world.bare_record("link")
    exits = world.flow([wait_for_click("wa", link, max_wait="PT6H", exit_on_timeout=True)])
    for_ever = world.flow([wait_for_click("wa", link, max_wait=None), passing()])
    contact = world.contact()
    leaver = world.enrol(exits, contact)
    patient = world.enrol(for_ever, contact)
    world.engine.drain()
    world.engine.advance(hours=6, minutes=1)

    # A timeout with exit_on_timeout drops out
    left = world.participant(exits, leaver)
    assert (left.status, left.data.get("dropout_reason")) == ("dropped_out", "no_action_in_time")
    world.check(exits)

    # Without max_wait it waits for ever: no message, no schedule, and the invariant holds
    world.engine.advance(days=400)
    p = world.participant(for_ever, patient)
    assert (p.status, p.step_id, p.wait_until, p.wake_bucket) == ("active", "wa", None, None)
    assert p.data["wait"]["forever"] is True
    assert wake_schedules(world.tenant_id, for_ever) == set()
    world.check(for_ever)

    # Until the action comes
    world.engage(contact, "click", link)
    wake(world, for_ever, patient)
    world.engine.drain()
    assert world.participant(for_ever, patient).status == "finished"
    world.check(for_ever)


# -- 8. success ---------------------------------------------------------------------------------


def success_on(selection_id: str, *, jump: bool) -> dict[str, Any]:
    return {
        "criteria": [{"type": "added_to_selection", "selection_id": selection_id}],
        "jump_to_finish": jump,
    }


def test_success_with_jump_to_finish_ends_at_the_next_step_check(world: World) -> None:
    won = world.selection("Won")
    flow = world.flow([wait("w1", "P2D"), wait("w2", "P2D")], success=success_on(won, jump=True))
    contact, already = world.contact(), world.contact()
    world.add_member("selection", won, already)
    pid, at_once = world.enrol(flow, contact), world.enrol(flow, already)
    world.engine.drain()

    # A contact who meets the criteria at enrolment succeeds at its first step check
    assert world.participant(flow, at_once).status == "succeeded"
    assert world.walked(flow, at_once) == [(None, "enrolled"), (None, "success")]

    # One added to the selection while it waits succeeds when its wait ends, not before
    world.add_member("selection", won, contact)
    world.engine.advance(days=1)
    assert world.state(flow, pid) == ("active", "w1")
    world.engine.advance(days=1, minutes=1)
    assert world.participant(flow, pid).status == "succeeded"
    assert world.walked(flow, pid)[-1] == (None, "success")
    stats = world.stats(flow)
    assert (stats["succeeded"], stats["completed"], stats["success_rate"]) == (2, 2, 1.0)
    world.check(flow)


def test_success_without_jump_counts_at_finish(world: World) -> None:
    won = world.selection("Won")
    flow = world.flow([wait("w1"), wait("w2")], success=success_on(won, jump=False))
    contacts = {name: world.contact() for name in ("later", "already", "never")}
    world.add_member("selection", won, contacts["already"])
    enrolled = {name: world.enrol(flow, c) for name, c in contacts.items()}
    world.engine.drain()

    # Given "later" joins the selection while on w1 and leaves it again on w2
    world.add_member("selection", won, contacts["later"])
    world.engine.advance(days=1, minutes=1)
    assert world.state(flow, enrolled["later"]) == ("active", "w2")
    assert world.http.delete(f"/v1/selections/{won}/members/{contacts['later']}").status == 204
    world.engine.advance(days=1, minutes=1)

    # Then success met on the way (or at enrolment) counts at Finish; no success: finished
    statuses = {name: world.participant(flow, pid).status for name, pid in enrolled.items()}
    assert statuses == {"later": "succeeded", "already": "succeeded", "never": "finished"}
    stats = world.stats(flow)
    assert stats["success_rate"] == round(2 / 3, 4)
    world.check(flow)


def test_success_seen_while_waiting_for_an_action_is_remembered(world: World) -> None:
    # Given a participant waiting for a click, and a success criterion without jump
    won, link = world.selection("Won"), world.bare_record("link")
    flow = world.flow(
        [wait_for_click("wa", link, max_wait="P3D"), wait("w2", "PT1H")],
        success=success_on(won, jump=False),
    )
    contact = world.contact()
    pid = world.enrol(flow, contact)
    world.engine.drain()

    # When it meets the criterion and is checked (woken without the click), then leaves it
    world.add_member("selection", won, contact)
    wake(world, flow, pid)
    world.engine.drain()
    assert world.participant(flow, pid).data.get("success_met") is True
    assert world.http.delete(f"/v1/selections/{won}/members/{contact}").status == 204

    # Then the success it met on the way counts at Finish
    world.engine.advance(days=3, minutes=1)
    world.engine.advance(hours=1, minutes=1)
    assert world.participant(flow, pid).status == "succeeded"
    world.check(flow)


def test_finish_hands_the_contact_to_the_next_flow(world: World) -> None:
    won = world.selection("Won")
    winners = world.flow([wait("w1")])
    others = world.flow([wait("w1")])
    flow = world.flow(
        [wait("w1", "PT1H")],
        success=success_on(won, jump=False),
        finish={"on_success_flow_id": winners, "otherwise_flow_id": others},
    )
    winner, loser = world.contact(), world.contact()
    world.add_member("selection", won, winner)
    world.enrol(flow, winner)
    world.enrol(flow, loser)
    world.engine.drain()
    world.engine.advance(hours=1, minutes=1)
    assert {p.contact_id: p.status for p in world.everyone(flow)} == {
        winner: "succeeded",
        loser: "finished",
    }
    [handed] = world.everyone(winners)
    assert (handed.contact_id, handed.status, handed.step_id) == (winner, "active", "w1")
    assert handed.data["cause"] == f"finish:{flow}"
    assert [p.contact_id for p in world.everyone(others)] == [loser]
    world.check(flow, winners, others)


def test_flows_handing_a_contact_back_and_forth_stop_after_ten_enrolments(world: World) -> None:
    # Given two flows that hand every finisher to each other
    ping = world.flow([passing()], start=False)
    pong = world.flow([passing()], finish={"otherwise_flow_id": ping})
    body = {"name": "Flow", "steps": [passing()], "finish": {"otherwise_flow_id": pong}}
    assert world.http.put(f"/v1/flows/{ping}", body).status == 200
    world.lifecycle(ping, "start")

    # When a contact enters one of them, then the chain stops at ten enrolments it caused
    contact = world.contact()
    world.enrol(ping, contact)
    world.engine.drain()
    walked = world.everyone(ping) + world.everyone(pong)
    assert sorted(p.data["depth"] for p in walked) == list(range(11))
    assert {p.status for p in walked} == {"finished"}
    world.check(ping, pong)


# -- 9. the send window (no send step runs yet: the rule itself) --------------------------------

OSLO_OFFICE = SendWindow(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00")


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        # Monday 23 Nov 2026, Oslo is UTC+1: inside the window, it is open now
        (utc(2026, 11, 23, 10, 0), utc(2026, 11, 23, 10, 0)),
        (utc(2026, 11, 23, 8, 0), utc(2026, 11, 23, 8, 0)),
        # before 09:00 local: today at 09:00; at or after 17:00: tomorrow at 09:00
        (utc(2026, 11, 23, 7, 59), utc(2026, 11, 23, 8, 0)),
        (utc(2026, 11, 23, 16, 0), utc(2026, 11, 24, 8, 0)),
        (utc(2026, 11, 23, 23, 30), utc(2026, 11, 24, 8, 0)),
        # Friday evening and the weekend: Monday at 09:00
        (utc(2026, 11, 27, 16, 0), utc(2026, 11, 30, 8, 0)),
        (utc(2026, 11, 28, 12, 0), utc(2026, 11, 30, 8, 0)),
        (utc(2026, 11, 29, 23, 0), utc(2026, 11, 30, 8, 0)),
        # summer time (UTC+2): 09:00 local is 07:00 UTC
        (utc(2026, 6, 15, 6, 30), utc(2026, 6, 15, 7, 0)),
        (utc(2026, 6, 15, 14, 59), utc(2026, 6, 15, 14, 59)),
        (utc(2026, 6, 15, 15, 0), utc(2026, 6, 16, 7, 0)),
        # summer time ends on Sunday 25 Oct 2026: Friday 17:00 CEST -> Monday 09:00 CET
        (utc(2026, 10, 23, 15, 0), utc(2026, 10, 26, 8, 0)),
        # summer time starts on Sunday 28 Mar 2027: Friday 17:00 CET -> Monday 09:00 CEST
        (utc(2027, 3, 26, 16, 0), utc(2027, 3, 29, 7, 0)),
    ],
)
def test_next_opening_of_a_send_window(now: datetime, opens: datetime) -> None:
    assert next_opening(OSLO_OFFICE, "Europe/Oslo", now) == opens


def test_send_window_on_the_night_clocks_change() -> None:
    weekend = SendWindow(days=["sat", "sun"], start="01:00", end="04:00")
    # 25 Oct 2026 01:30 UTC is 02:30 CET, after the hour 02:00-03:00 came twice: open
    assert next_opening(weekend, "Europe/Oslo", utc(2026, 10, 25, 1, 30)) == utc(
        2026, 10, 25, 1, 30
    )
    # 28 Mar 2027 02:00 UTC is 04:00 CEST (02:00-03:00 never happened): closed until Saturday
    assert next_opening(weekend, "Europe/Oslo", utc(2027, 3, 28, 2, 0)) == utc(2027, 4, 2, 23, 0)
    # without a timezone the window is read in UTC
    assert next_opening(OSLO_OFFICE, None, utc(2026, 11, 23, 8, 30)) == utc(2026, 11, 23, 9, 0)


class Outbox:
    """An SMS sender that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    def send(self, to: str, text: str, sender: str | None) -> str:
        self.sent.append((to, text, sender))
        return f"sms-{len(self.sent)}"


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    saved, sender = runtime.sms, Outbox()
    runtime.sms = sender
    yield sender
    runtime.sms = saved


def test_a_send_step_outside_the_window_waits_for_it_to_open(world: World, outbox: Outbox) -> None:
    # Given an office-hours flow in Oslo whose first step sends an SMS
    flow = world.flow(
        [{"id": "sms", "type": "send_sms", "settings": {"text": "Hi"}}],
        timezone="Europe/Oslo",
        send_window={"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"},
        sms_sender="Example",
    )
    # When a contact enters on Saturday, then it waits on the step until Monday 09:00 local
    world.engine.clock.advance(days=5, hours=2)
    pid = world.enrol(flow, world.contact(mobile_phone="+4791234567"))
    world.engine.drain()
    p = world.participant(flow, pid)
    assert (p.status, p.step_id, p.wait_until) == ("active", "sms", "2026-11-30T08:00:00Z")
    assert outbox.sent == []
    world.check(flow)
    world.engine.advance(days=1, hours=19, minutes=59)
    assert outbox.sent == []
    # Then it is sent when the window opens
    world.engine.advance(minutes=2)
    assert outbox.sent == [("+4791234567", "Hi", "Example")]
    assert world.participant(flow, pid).status == "finished"
    # And inside the window it goes out at once
    other = world.enrol(flow, world.contact(mobile_phone="+4791234568"))
    world.engine.drain()
    assert len(outbox.sent) == 2
    assert world.participant(flow, other).status == "finished"
    world.check(flow)


# -- 10. figures --------------------------------------------------------------------------------


def test_stats_and_status_filter_after_a_mixed_run(world: World) -> None:
    # Given a flow that waits a day, then sends VIPs down a long wait and finishes the rest
    vip, won, blocked = world.selection("VIP"), world.project("Won"), world.selection("Blocked")
    flow = world.flow(
        [
            wait("w1"),
            split(
                "sp",
                "selection_member",
                [branch("vip", {"selection_id": vip}, [wait("w2", "P5D")])],
            ),
        ],
        exclusion_selection_ids=[blocked],
        success={"criteria": [{"type": "added_to_project", "project_id": won}]},
    )
    names = ("vip", "plain", "winner", "retires", "blocked", "manual", "retired")
    contacts = {name: world.contact() for name in names}
    world.add_member("selection", vip, contacts["vip"])
    world.add_member("project", won, contacts["winner"])
    assert world.http.patch(f"/v1/contacts/{contacts['retired']}", {"retired": True}).status == 200

    # When a selection of all of them is proposed, one already in the flow and one retired
    everyone = world.selection("Everyone")
    for contact in contacts.values():
        world.add_member("selection", everyone, contact)
    manual = world.enrol(flow, contacts["manual"])
    reply = world.http.post(f"/v1/flows/{flow}/participants", {"selection_id": everyone})
    assert reply.status == 202, reply.body
    world.engine.drain()
    by_contact = {p.contact_id: p for p in world.everyone(flow)}
    assert set(by_contact) == {contacts[n] for n in names if n != "retired"}
    assert by_contact[contacts["manual"]].participant_id == manual

    # And one retires and one is excluded while they wait on w1
    world.http.patch(f"/v1/contacts/{contacts['retires']}", {"retired": True})
    world.add_member("selection", blocked, contacts["blocked"])
    world.engine.advance(days=1, minutes=1)

    # Then the figures add up
    stats = world.stats(flow)
    assert stats["enrolled"] == 6
    assert stats["in_progress"] == 1
    assert stats["completed"] == 3
    assert stats["succeeded"] == 1
    assert stats["success_rate"] == round(1 / 6, 4)
    assert stats["by_status"] == {
        "queued": 0,
        "active": 1,
        "finished": 2,
        "succeeded": 1,
        "dropped_out": 2,
        "cancelled": 0,
    }
    entered = {step: figures["entered"] for step, figures in stats["steps"].items()}
    assert entered == {"w1": 6, "sp": 4, "w2": 1}
    assert stats["steps"]["w2"]["on_step"] == 1

    def listed(status: str) -> dict[str, str | None]:
        reply = world.http.get(f"/v1/flows/{flow}/participants?status={status}")
        assert reply.status == 200, reply.body
        return {item["contact_id"]: item["dropout_reason"] for item in reply.json["items"]}

    assert listed("dropped_out") == {
        contacts["retires"]: "retired",
        contacts["blocked"]: "excluded",
    }
    assert set(listed("active")) == {contacts["vip"]}
    assert set(listed("finished")) == {contacts["plain"], contacts["manual"]}
    assert set(listed("succeeded")) == {contacts["winner"]}
    assert len(world.http.get(f"/v1/flows/{flow}/participants").json["items"]) == 6
    world.check(flow)


def test_stats_count_dropout_reasons(world: World) -> None:
    flow = world.flow([wait("w1", "PT1H"), passing("sp")])
    exits = world.flow([split("sp", "contact_data", [], exit=True)])
    for _ in range(2):
        world.enrol(exits, world.contact())
    world.enrol(flow, world.contact())
    world.engine.drain()
    assert world.stats(exits)["dropout_reasons"] == {"everyone_else_exit": 2}
    assert world.stats(flow)["dropout_reasons"] == {}
    world.check(flow, exits)
