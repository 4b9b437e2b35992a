"""Routes of API.md's participant calls and the flow's stats."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from chalicelib.api.auth import ANY_ROLE, FLOW_WRITE
from chalicelib.api.models import ApiModel, Id
from chalicelib.api.pagination import ListQuery, Page
from chalicelib.api.registry import api
from chalicelib.api.routing import Call
from chalicelib.engine.participants_service import (
    FlowStatsOut,
    ParticipantDetail,
    ParticipantOut,
    ParticipantService,
)

Status = Literal["queued", "active", "finished", "succeeded", "dropped_out", "cancelled"]


class Proposal(ApiModel):
    """One contact, or every member of a static selection (in the background)."""

    contact_id: Id | None = Field(None, min_length=1)
    selection_id: Id | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> Proposal:
        if bool(self.contact_id) == bool(self.selection_id):
            raise ValueError("give exactly one of contact_id and selection_id")
        return self


class Accepted(BaseModel):
    status: str
    selection_id: str


class ParticipantQuery(ListQuery):
    status: Status | None = Field(None, description="only participants in this status")


def _service(call: Call) -> ParticipantService:
    return ParticipantService(call.tenant_id)


@api.operation(
    "POST",
    "/v1/flows/{id}/participants",
    summary="Propose a contact (201, or 409 with the gate's reason) or a selection's members (202)",
    tag="participants",
    access=FLOW_WRITE,
    body=Proposal,
    response=ParticipantOut,
    status=201,
    errors=(409,),
    responses={
        202: {
            "description": "A selection's members are proposed in the background",
            "content": {"application/json": {"schema": Accepted.model_json_schema()}},
        }
    },
)
def propose_participant(call: Call) -> Any:
    from chalice.app import Response

    body: Proposal = call.body
    service = _service(call)
    if body.selection_id:
        accepted = service.propose_selection(call.params["id"], body.selection_id)
        return Response(
            body=Accepted(**accepted).model_dump_json(),
            status_code=202,
            headers={"Content-Type": "application/json"},
        )
    return service.propose_contact(call.params["id"], body.contact_id or "")


@api.operation(
    "GET",
    "/v1/flows/{id}/participants",
    summary="The flow's participants, optionally of one status",
    tag="participants",
    access=ANY_ROLE,
    response=Page[ParticipantOut],
    query=ParticipantQuery,
)
def list_participants(call: Call) -> Page[ParticipantOut]:
    q = call.query
    return _service(call).list_participants(
        call.params["id"], status=q.status, limit=q.limit, cursor=q.cursor
    )


@api.operation(
    "GET",
    "/v1/flows/{id}/participants/{pid}",
    summary="A participant with its history",
    tag="participants",
    access=ANY_ROLE,
    response=ParticipantDetail,
)
def get_participant(call: Call) -> ParticipantDetail:
    return _service(call).detail(call.params["id"], call.params["pid"])


@api.operation(
    "DELETE",
    "/v1/flows/{id}/participants/{pid}",
    summary="Remove from flow: erase the participation (start-only-once no longer blocks)",
    tag="participants",
    access=FLOW_WRITE,
    status=204,
)
def erase_participant(call: Call) -> None:
    _service(call).erase(call.params["id"], call.params["pid"])


@api.operation(
    "POST",
    "/v1/flows/{id}/participants/{pid}/retry",
    summary="Put a participant that dropped out with step_failed back onto that step",
    tag="participants",
    access=FLOW_WRITE,
    response=ParticipantOut,
    errors=(409,),
)
def retry_participant(call: Call) -> ParticipantOut:
    return _service(call).retry(call.params["id"], call.params["pid"])


@api.operation(
    "GET",
    "/v1/flows/{id}/stats",
    summary="The flow's figures (SPEC.md section 7)",
    tag="participants",
    access=ANY_ROLE,
    response=FlowStatsOut,
)
def flow_stats(call: Call) -> FlowStatsOut:
    return _service(call).stats(call.params["id"])
