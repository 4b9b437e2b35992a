"""Routes of API.md "Flows": CRUD, versions and the lifecycle."""

from __future__ import annotations

from chalicelib.api.auth import ANY_ROLE, FLOW_WRITE
from chalicelib.api.pagination import ListQuery, Page
from chalicelib.api.registry import api
from chalicelib.api.routing import Call
from chalicelib.engine.runtime import runtime
from chalicelib.flows.definition import FlowDefinition
from chalicelib.flows.models import Flow, FlowListQuery, FlowVersionInfo, FlowVersionOut
from chalicelib.flows.service import FlowService


def _flows(call: Call) -> FlowService:
    # The engine's clock (the same as the workers'): a resume's health_since is compared with
    # the failures they record.
    return FlowService(call.tenant_id, clock=runtime.clock)


@api.operation(
    "POST",
    "/v1/flows",
    summary="Create a flow (status not_running); problems are listed, never refused",
    tag="flows",
    access=FLOW_WRITE,
    body=FlowDefinition,
    response=Flow,
    status=201,
)
def create_flow(call: Call) -> Flow:
    return _flows(call).create(call.body)


@api.operation(
    "GET",
    "/v1/flows",
    summary="List flows",
    tag="flows",
    access=ANY_ROLE,
    response=Page[Flow],
    query=FlowListQuery,
)
def list_flows(call: Call) -> Page[Flow]:
    q = call.query
    return _flows(call).list_flows(limit=q.limit, cursor=q.cursor, status=q.status)


@api.operation(
    "GET", "/v1/flows/{id}", summary="Get a flow", tag="flows", access=ANY_ROLE, response=Flow
)
def get_flow(call: Call) -> Flow:
    return _flows(call).get(call.params["id"])


@api.operation(
    "PUT",
    "/v1/flows/{id}",
    summary="Replace a flow's definition (not while running; while paused, occupied waits and "
    "splits stay)",
    tag="flows",
    access=FLOW_WRITE,
    body=FlowDefinition,
    response=Flow,
    errors=(409,),
)
def replace_flow(call: Call) -> Flow:
    return _flows(call).replace(call.params["id"], call.body)


@api.operation(
    "DELETE",
    "/v1/flows/{id}",
    summary="Delete a flow that is not running",
    tag="flows",
    access=FLOW_WRITE,
    status=204,
    errors=(409,),
)
def delete_flow(call: Call) -> None:
    _flows(call).delete(call.params["id"])


@api.operation(
    "POST",
    "/v1/flows/{id}/start",
    summary="Start or resume a flow (422 with the problems that forbid it)",
    tag="flows",
    access=FLOW_WRITE,
    response=Flow,
    errors=(409, 422),
)
def start_flow(call: Call) -> Flow:
    return _flows(call).start(call.params["id"])


@api.operation(
    "POST",
    "/v1/flows/{id}/pause",
    summary="Pause a running flow",
    tag="flows",
    access=FLOW_WRITE,
    response=Flow,
    errors=(409,),
)
def pause_flow(call: Call) -> Flow:
    return _flows(call).pause(call.params["id"])


@api.operation(
    "POST",
    "/v1/flows/{id}/end",
    summary="End a running or paused flow; its queued and active participants are cancelled",
    tag="flows",
    access=FLOW_WRITE,
    response=Flow,
    errors=(409,),
)
def end_flow(call: Call) -> Flow:
    return _flows(call).end(call.params["id"])


@api.operation(
    "GET",
    "/v1/flows/{id}/versions",
    summary="The flow's saved versions, oldest first",
    tag="flows",
    access=ANY_ROLE,
    response=Page[FlowVersionInfo],
    query=ListQuery,
)
def list_flow_versions(call: Call) -> Page[FlowVersionInfo]:
    q = call.query
    return _flows(call).versions(call.params["id"], limit=q.limit, cursor=q.cursor)


@api.operation(
    "GET",
    "/v1/flows/{id}/versions/{n}",
    summary="One saved version of a flow",
    tag="flows",
    access=ANY_ROLE,
    response=FlowVersionOut,
)
def get_flow_version(call: Call) -> FlowVersionOut:
    return _flows(call).version(call.params["id"], call.params["n"])
