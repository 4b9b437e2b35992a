"""Edits of a paused flow (SPEC.md §3): steps that hold active participants stay where they are;
every other edit is allowed; a duplicated email step gets its own copy of the mailing."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.ids import new_id
from chalicelib.store import records
from chalicelib.store.models import ParticipantItem
from tests.functional.conftest import OPERATOR_KEY, Http


@dataclass
class Tenant:
    http: Http
    id: str


@pytest.fixture
def tenant(chalice_client: Any) -> Tenant:
    reply = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "Paused edits"})
    assert reply.status == 201, reply.body
    return Tenant(Http(chalice_client, reply.json["api_key"]), reply.json["tenant_id"])


def seat(tenant_id: str, flow_id: str, step_id: str, count: int, status: str = "active") -> None:
    """Put ``count`` participants on a step, as the engine would."""
    for _ in range(count):
        contact_id = new_id("con")
        ParticipantItem(
            f"{tenant_id}#{flow_id}",
            new_id("par"),
            contact_id=contact_id,
            status=status,
            status_key=f"{tenant_id}#{flow_id}#{status}",
            contact_key=f"{tenant_id}#{contact_id}",
            step_id=step_id,
        ).save()


def wait(step_id: str, duration: str = "P2D") -> dict[str, Any]:
    return {"id": step_id, "type": "wait_time", "settings": {"duration": duration}}


def sms(step_id: str) -> dict[str, Any]:
    return {"id": step_id, "type": "send_sms", "settings": {"text": "Hi"}}


@dataclass
class Paused:
    """A paused flow and the tenant it belongs to."""

    tenant: Tenant
    flow: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/v1/flows/{self.flow['id']}"

    def seat(self, step_id: str, count: int, status: str = "active") -> None:
        seat(self.tenant.id, self.flow["id"], step_id, count, status)

    def put(self, steps: list[dict[str, Any]]) -> Any:
        return self.tenant.http.put(self.path, self.flow | {"steps": steps})

    def steps(self) -> list[dict[str, Any]]:
        """A copy of the saved steps, to edit."""
        return copy.deepcopy(self.flow["steps"])

    def current(self) -> dict[str, Any]:
        reply = self.tenant.http.get(self.path)
        assert reply.status == 200, reply.body
        return reply.json


def paused_flow(tenant: Tenant, steps: list[dict[str, Any]]) -> Paused:
    selection = tenant.http.post("/v1/selections", {"name": "VIP"}).json["id"]
    body = {"name": "Paused", "sms_sender": "Example", "steps": steps}
    for step in body["steps"]:
        for branch in step.get("branches", []):
            branch.setdefault("condition", {"selection_id": selection})
    reply = tenant.http.post("/v1/flows", body)
    assert reply.status == 201, reply.body
    assert reply.json["problems"] == [], reply.json["problems"]
    flow_id = reply.json["id"]
    assert tenant.http.post(f"/v1/flows/{flow_id}/start").status == 200
    paused = tenant.http.post(f"/v1/flows/{flow_id}/pause")
    assert paused.status == 200, paused.body
    return Paused(tenant, paused.json)


def refused(paused: Paused, reply: Any, *named: str) -> None:
    """A 409 naming the step (or branch) and the count, and nothing saved."""
    assert reply.status == 409, reply.body
    assert reply.content_type == "application/problem+json"
    for word in named:
        assert word in reply.json["detail"], reply.json["detail"]
    current = paused.current()
    assert current | {"stats": None} == paused.flow | {"stats": None}
    assert current["status"] == "paused"


def accepted(paused: Paused, reply: Any) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    saved = reply.json
    assert saved["version"] == paused.flow["version"] + 1
    assert saved["status"] == "paused"
    assert paused.current() == saved
    return saved


# -- the wait step with participants on it ---------------------------------------------------------


@pytest.fixture
def three_waiting(tenant: Tenant) -> Paused:
    """A paused flow: sms, wait (3 active participants on it), wait2, then a split whose
    branch and everyone-else each hold a wait."""
    paused = paused_flow(
        tenant,
        [
            sms("hello"),
            wait("wait"),
            wait("wait2", "P1D"),
            {
                "id": "split",
                "type": "split",
                "settings": {"basis": "selection_member"},
                "branches": [{"id": "vip", "name": "VIP", "steps": [wait("vip-wait")]}],
                "everyone_else": {"steps": [wait("else-wait")]},
            },
        ],
    )
    paused.seat("wait", 3)
    return paused


def without(steps: list[dict[str, Any]], step_id: str) -> list[dict[str, Any]]:
    return [s for s in steps if s["id"] != step_id]


def test_removing_an_occupied_wait_is_refused_naming_step_and_count(three_waiting: Paused) -> None:
    reply = three_waiting.put(without(three_waiting.steps(), "wait"))

    refused(three_waiting, reply, "wait", "3")


def test_changing_the_type_of_an_occupied_wait_is_refused(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    steps[1] = {"id": "wait", "type": "send_sms", "settings": {"text": "Hi"}}

    refused(three_waiting, three_waiting.put(steps), "wait", "3")


def test_moving_an_occupied_wait_into_a_branch_is_refused(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    occupied = steps.pop(1)
    steps[2]["branches"][0]["steps"].insert(0, occupied)

    refused(three_waiting, three_waiting.put(steps), "wait", "3")


def test_moving_an_occupied_wait_into_everyone_else_is_refused(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    occupied = steps.pop(1)
    steps[2]["everyone_else"]["steps"].append(occupied)

    refused(three_waiting, three_waiting.put(steps), "wait", "3")


def test_swapping_an_occupied_wait_with_a_sibling_is_refused(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    steps[1], steps[2] = steps[2], steps[1]

    refused(three_waiting, three_waiting.put(steps), "wait", "3")


def test_moving_a_sibling_before_the_occupied_wait_is_refused(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    steps.insert(0, steps.pop(2))

    refused(three_waiting, three_waiting.put(steps), "wait", "3")


def test_inserting_a_new_step_before_the_occupied_wait_is_allowed(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    steps.insert(1, sms("new"))

    saved = accepted(three_waiting, three_waiting.put(steps))

    assert [s["id"] for s in saved["steps"]] == ["hello", "new", "wait", "wait2", "split"]


def test_editing_the_occupied_waits_settings_is_allowed(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    steps[1]["settings"] = {"duration": "PT6H"}

    saved = accepted(three_waiting, three_waiting.put(steps))

    assert saved["steps"][1]["settings"]["duration"] == "PT6H"


def test_removing_steps_around_the_occupied_wait_is_allowed(three_waiting: Paused) -> None:
    steps = without(without(three_waiting.steps(), "hello"), "wait2")

    saved = accepted(three_waiting, three_waiting.put(steps))

    assert [s["id"] for s in saved["steps"]] == ["wait", "split"]


def test_participants_that_are_not_active_do_not_hold_a_step(tenant: Tenant) -> None:
    paused = paused_flow(tenant, [wait("wait"), wait("other")])
    for status in ("finished", "succeeded", "dropped_out", "cancelled", "queued"):
        paused.seat("wait", 2, status)

    accepted(paused, paused.put([wait("other")]))


def test_participants_of_another_flow_do_not_hold_a_step(tenant: Tenant) -> None:
    paused = paused_flow(tenant, [wait("wait"), wait("other")])
    elsewhere = paused_flow(tenant, [wait("wait")])
    elsewhere.seat("wait", 3)

    accepted(paused, paused.put([wait("other")]))
    assert elsewhere.current()["status"] == "paused"


def test_a_not_running_flow_ignores_participants(tenant: Tenant) -> None:
    paused = paused_flow(tenant, [wait("wait"), wait("other")])
    paused.seat("wait", 3)
    assert tenant.http.post(f"{paused.path}/end").status == 200

    reply = paused.put([wait("other")])

    assert reply.status == 200, reply.body
    assert reply.json["status"] == "not_running"


# -- other steps that hold participants ------------------------------------------------------------


def test_an_occupied_wait_for_action_cannot_be_removed(tenant: Tenant) -> None:
    form = new_id("for")
    records.create(tenant.id, "form", records.Record(id=form, data={"name": "Form"}, version=1))
    waiting = {
        "id": "await",
        "type": "wait_for_action",
        "settings": {"actions": [{"type": "form_submitted", "form_id": form}]},
    }
    paused = paused_flow(tenant, [waiting, wait("other")])
    paused.seat("await", 2)

    refused(paused, paused.put([wait("other")]), "await", "2")


def test_an_occupied_split_cannot_be_removed(three_waiting: Paused) -> None:
    three_waiting.seat("split", 1)

    refused(three_waiting, three_waiting.put(three_waiting.steps()[:3]), "split", "1")


def test_a_step_that_never_holds_anyone_may_be_removed(three_waiting: Paused) -> None:
    three_waiting.seat("hello", 2)

    saved = accepted(three_waiting, three_waiting.put(without(three_waiting.steps(), "hello")))

    assert [s["id"] for s in saved["steps"]] == ["wait", "wait2", "split"]


def test_removing_an_unoccupied_wait_is_allowed(three_waiting: Paused) -> None:
    saved = accepted(three_waiting, three_waiting.put(without(three_waiting.steps(), "wait2")))

    assert [s["id"] for s in saved["steps"]] == ["hello", "wait", "split"]


# -- branches ------------------------------------------------------------------------------------


def test_removing_a_branch_with_participants_on_its_wait_is_refused(three_waiting: Paused) -> None:
    three_waiting.seat("vip-wait", 2)
    steps = three_waiting.steps()
    steps[3]["branches"] = []

    refused(three_waiting, three_waiting.put(steps), "vip-wait", "2")


def test_removing_a_branch_with_participants_on_any_of_its_steps_is_refused(
    tenant: Tenant,
) -> None:
    # Participants wait on a send step for the send window: the step itself may go, the
    # branch they stand in may not.
    branch = {"id": "vip", "name": "VIP", "steps": [sms("vip-sms")]}
    paused = paused_flow(
        tenant,
        [
            {
                "id": "split",
                "type": "split",
                "settings": {"basis": "selection_member"},
                "branches": [branch],
            }
        ],
    )
    paused.seat("vip-sms", 2)
    steps = paused.steps()
    steps[0]["branches"] = []

    refused(paused, paused.put(steps), "VIP", "2")


def test_an_occupied_wait_in_a_branch_cannot_leave_it(three_waiting: Paused) -> None:
    three_waiting.seat("vip-wait", 2)
    steps = three_waiting.steps()
    steps[3]["branches"][0]["steps"] = []
    steps[3]["everyone_else"]["steps"].append(wait("vip-wait"))

    refused(three_waiting, three_waiting.put(steps), "vip-wait", "2")


def test_an_occupied_wait_in_everyone_else_cannot_be_removed(three_waiting: Paused) -> None:
    three_waiting.seat("else-wait", 4)
    steps = three_waiting.steps()
    steps[3]["everyone_else"]["steps"] = []

    refused(three_waiting, three_waiting.put(steps), "else-wait", "4")


def test_removing_an_empty_branch_and_adding_one_is_allowed(three_waiting: Paused) -> None:
    steps = three_waiting.steps()
    condition = steps[3]["branches"][0]["condition"]
    steps[3]["branches"] = [{"name": "New", "condition": condition, "steps": [wait("new-wait")]}]

    saved = accepted(three_waiting, three_waiting.put(steps))

    assert [b["name"] for b in saved["steps"][3]["branches"]] == ["New"]


def test_renaming_an_occupied_branch_is_allowed(three_waiting: Paused) -> None:
    three_waiting.seat("vip-wait", 2)
    steps = three_waiting.steps()
    steps[3]["branches"][0]["name"] = "Very important"

    saved = accepted(three_waiting, three_waiting.put(steps))

    assert saved["steps"][3]["branches"][0]["id"] == "vip"


# -- duplicated email steps ----------------------------------------------------------------------

MAILING = {"name": "News", "subject": "Hello [[customer.firstname]]", "html": "<p>News</p>"}


@pytest.fixture
def with_email(tenant: Tenant) -> tuple[Paused, str]:
    mailing = tenant.http.post("/v1/mailings", MAILING)
    assert mailing.status == 201, mailing.body
    email = {"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing.json["id"]}}
    domain = f"t{uuid.uuid4().hex[:10]}.example.com"  # a domain belongs to one tenant
    assert tenant.http.post("/v1/sender-domains", {"domain": domain}).status == 201
    reply = tenant.http.post(
        "/v1/flows",
        {
            "name": "Mailer",
            "email_settings": {
                "from": {"type": "specified", "address": f"news@{domain}"},
                "reply_to": {"type": "from"},
            },
            "steps": [email, wait("wait")],
        },
    )
    assert reply.status == 201, reply.body
    flow_id = reply.json["id"]
    for action in ("start", "pause"):
        assert tenant.http.post(f"/v1/flows/{flow_id}/{action}").status == 200
    return Paused(tenant, tenant.http.get(f"/v1/flows/{flow_id}").json), mailing.json["id"]


def test_a_duplicated_email_step_gets_its_own_copy_of_the_mailing(
    with_email: tuple[Paused, str],
) -> None:
    paused, original = with_email
    steps = paused.steps()
    steps.append({"id": "again", "type": "send_email", "settings": {"mailing_id": original}})

    saved = accepted(paused, paused.put(steps))

    assert saved["steps"][0]["settings"]["mailing_id"] == original
    copied = saved["steps"][2]["settings"]["mailing_id"]
    assert copied != original
    copy_reply = paused.tenant.http.get(f"/v1/mailings/{copied}")
    assert copy_reply.status == 200, copy_reply.body
    assert copy_reply.json["subject"] == MAILING["subject"]
    assert copy_reply.json["html"] == MAILING["html"]
    assert saved["problems"] == []


def test_a_new_email_step_without_a_step_id_is_copied_too(with_email: tuple[Paused, str]) -> None:
    paused, original = with_email
    steps = paused.steps()
    steps.insert(1, {"type": "send_email", "settings": {"mailing_id": original}})

    saved = accepted(paused, paused.put(steps))

    assert saved["steps"][1]["settings"]["mailing_id"] not in (original, None)


def test_an_edit_that_adds_no_email_step_copies_nothing(with_email: tuple[Paused, str]) -> None:
    paused, original = with_email
    mailings_before = paused.tenant.http.get("/v1/mailings").json["items"]
    steps = paused.steps()
    steps[1]["settings"] = {"duration": "PT1H"}
    steps.append(wait("later"))

    saved = accepted(paused, paused.put(steps))

    assert saved["steps"][0]["settings"]["mailing_id"] == original
    assert paused.tenant.http.get("/v1/mailings").json["items"] == mailings_before


def test_a_new_email_step_with_a_mailing_of_its_own_is_not_copied(
    with_email: tuple[Paused, str],
) -> None:
    paused, _ = with_email
    other = paused.tenant.http.post("/v1/mailings", MAILING | {"name": "Other"}).json["id"]
    steps = paused.steps()
    steps.append({"id": "other", "type": "send_email", "settings": {"mailing_id": other}})

    saved = accepted(paused, paused.put(steps))

    assert saved["steps"][2]["settings"]["mailing_id"] == other
    assert len(paused.tenant.http.get("/v1/mailings").json["items"]) == 2
