"""A tenant to play scenarios in: CRM objects, flows and participants through the API, plus the
few things the API cannot make yet (forms and links as bare CRM records, engagement)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.aws import client
from chalicelib.clock import iso_ms
from chalicelib.ids import new_id
from chalicelib.settings import get_settings
from chalicelib.store import engagement, records
from chalicelib.store import participants as store
from chalicelib.store.participants import Participant
from chalicelib.store.records import Record
from tests.functional.conftest import OPERATOR_KEY, Http, Reply
from tests.functional.engine_kit import Engine, assert_invariant, participants_of


def delete_all_schedules() -> None:
    """Forget every wake schedule, so one test's waits never fire in another's drain."""
    scheduler = client("scheduler")
    group = get_settings().schedule_group
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
    for name in [s["Name"] for page in pages for s in page["Schedules"]]:
        scheduler.delete_schedule(GroupName=group, Name=name)


@dataclass
class World:
    """One fresh tenant, its admin key and the engine that runs its flows."""

    tenant_id: str
    http: Http
    engine: Engine

    @classmethod
    def new(cls, chalice_client: Any, engine: Engine) -> World:
        created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
        return cls(created["tenant_id"], Http(chalice_client, created["api_key"]), engine)

    # -- the CRM ---------------------------------------------------------------------------

    def contact(self, **fields: Any) -> str:
        reply = self.http.post("/v1/contacts", {"first_name": "Kari"} | fields)
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def selection(self, name: str = "Selection") -> str:
        return str(self.http.post("/v1/selections", {"name": name}).json["id"])

    def project(self, name: str = "Project") -> str:
        return str(self.http.post("/v1/projects", {"name": name}).json["id"])

    def add_member(self, kind: str, list_id: str, contact_id: str) -> None:
        reply = self.http.put(f"/v1/{kind}s/{list_id}/members/{contact_id}")
        assert reply.status == 200, reply.body

    def bare_record(self, kind: str, **data: Any) -> str:
        """A form or link as a bare CRM record (no API makes them yet), so references pass."""
        object_id = new_id(kind[:3])
        records.create(self.tenant_id, kind, Record(id=object_id, data=data, version=1))
        return object_id

    def engage(self, contact_id: str, kind: str, target_id: str, **data: Any) -> None:
        """A click or submission by the contact, now on the engine's clock."""
        at = iso_ms(self.engine.clock.now)
        engagement.record(self.tenant_id, contact_id, kind, target_id, at, data)

    # -- flows -----------------------------------------------------------------------------

    def flow(self, steps: list[dict[str, Any]], *, start: bool = True, **settings: Any) -> str:
        """A flow without problems, started unless told otherwise."""
        reply = self.http.post("/v1/flows", {"name": "Flow", "steps": steps} | settings)
        assert reply.status == 201, reply.body
        assert reply.json["problems"] == [], reply.json["problems"]
        flow_id = str(reply.json["id"])
        if start:
            self.lifecycle(flow_id, "start")
        return flow_id

    def lifecycle(self, flow_id: str, action: str) -> dict[str, Any]:
        reply = self.http.post(f"/v1/flows/{flow_id}/{action}")
        assert reply.status == 200, reply.body
        return dict(reply.json)

    def propose(self, flow_id: str, contact_id: str) -> Reply:
        return self.http.post(f"/v1/flows/{flow_id}/participants", {"contact_id": contact_id})

    def enrol(self, flow_id: str, contact_id: str) -> str:
        """Propose a contact that the gate lets in; the participant's id."""
        reply = self.propose(flow_id, contact_id)
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def refused(self, flow_id: str, contact_id: str, reason: str) -> None:
        reply = self.propose(flow_id, contact_id)
        assert reply.status == 409, reply.body
        assert reason in reply.json["detail"], reply.json

    def participant(self, flow_id: str, participant_id: str) -> Participant:
        found = store.get(self.tenant_id, flow_id, participant_id)
        assert found is not None
        return found

    def state(self, flow_id: str, participant_id: str) -> tuple[str, str | None]:
        p = self.participant(flow_id, participant_id)
        return p.status, p.step_id

    def detail(self, flow_id: str, participant_id: str) -> dict[str, Any]:
        reply = self.http.get(f"/v1/flows/{flow_id}/participants/{participant_id}")
        assert reply.status == 200, reply.body
        return dict(reply.json)

    def walked(self, flow_id: str, participant_id: str) -> list[tuple[str | None, str | None]]:
        """The history as (step, outcome or event) pairs."""
        return [
            (h.get("step_id"), h.get("outcome") or h.get("event"))
            for h in self.detail(flow_id, participant_id)["history"]
        ]

    def stats(self, flow_id: str) -> dict[str, Any]:
        reply = self.http.get(f"/v1/flows/{flow_id}/stats")
        assert reply.status == 200, reply.body
        return dict(reply.json)

    def everyone(self, flow_id: str) -> list[Participant]:
        return participants_of(self.tenant_id, flow_id)

    def check(self, *flow_ids: str) -> None:
        """The engine invariant (DESIGN.md) for each flow."""
        for flow_id in flow_ids:
            assert_invariant(self.tenant_id, flow_id)
