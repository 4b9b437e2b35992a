"""Flows: the Chalice app. Thin entry points only; the rules live in chalicelib/."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalice.app import AuthRequest, AuthResponse, Chalice, CloudWatchEvent, Rate, SQSEvent
from pydantic import BaseModel

# Importing an area's api module declares its operations.
import chalicelib.crm.api
import chalicelib.engine.api
import chalicelib.engine.control
import chalicelib.engine.worker
import chalicelib.flows.api
import chalicelib.tenants.api
import chalicelib.triggers.api  # noqa: F401
from chalicelib.api.auth import bearer_token
from chalicelib.api.gateway import chalice_errors_as_problems
from chalicelib.api.openapi import build_openapi
from chalicelib.api.registry import api
from chalicelib.api.routing import Call
from chalicelib.engine.messages import handle_batch
from chalicelib.engine.sweeper import sweep
from chalicelib.settings import get_settings
from chalicelib.tenants.service import authenticate
from chalicelib.triggers.email_events import handle_ses_events
from chalicelib.ui.routes import ui

app = Chalice(app_name="flows")
settings = get_settings()


@app.authorizer(ttl_seconds=0)
def api_key_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Resolve the bearer key; the route decides 401/403 (docs/decisions/0003-auth.md)."""
    principal = authenticate(bearer_token(auth_request.token))
    if principal is None:
        return AuthResponse(routes=["*"], principal_id="anonymous", context={})
    context = {
        "tenant_id": principal.tenant_id,
        "role": principal.role.value,
        "key_id": principal.key_id,
    }
    return AuthResponse(routes=["*"], principal_id=principal.key_id, context=context)


class Health(BaseModel):
    status: str


@api.operation("GET", "/health", summary="Liveness", tag="meta", access=None, response=Health)
def health(call: Call) -> Health:
    return Health(status="ok")


@api.operation("GET", "/openapi.json", summary="This document", tag="meta", access=None)
def openapi(call: Call) -> dict[str, Any]:
    return openapi_document()


@cache
def openapi_document() -> dict[str, Any]:
    return build_openapi(api, title="Flows API", version="1")


api.mount(app, api_key_authorizer)
app.register_blueprint(ui)
# chalice's own errors (405, 415, ...) answer problem+json like ours.
app.register_middleware(chalice_errors_as_problems, "http")


@app.schedule(Rate(5, unit=Rate.MINUTES))
def sweeper(event: CloudWatchEvent) -> None:
    sweep()


@app.on_sqs_message(queue=settings.queue_name("steps"), batch_size=10)
def step_worker(event: SQSEvent) -> dict[str, Any]:
    return handle_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=settings.queue_name("control"), batch_size=10)
def control_worker(event: SQSEvent) -> dict[str, Any]:
    return handle_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=settings.queue_name("ses_events"), batch_size=10)
def ses_events(event: SQSEvent) -> dict[str, Any]:
    """SES bounces and complaints (SNS -> SQS): suppress the addresses."""
    return handle_ses_events(event.to_dict())
