"""Flows: the Chalice app. Thin entry points only; the rules live in chalicelib/."""

from __future__ import annotations

from typing import Any

from chalice.app import AuthRequest, AuthResponse, Chalice, Response, SQSEvent

import chalicelib.crm.api
import chalicelib.tenants.api
from chalicelib.api.openapi import build_openapi
from chalicelib.api.registry import api
from chalicelib.engine.messages import handle_batch
from chalicelib.settings import get_settings
from chalicelib.tenants.service import authenticate

assert chalicelib.crm.api  # declares its operations

app = Chalice(app_name="flows")
settings = get_settings()


@app.authorizer(ttl_seconds=0)
def api_key_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Resolve the bearer key; the route decides 401/403 (docs/decisions/0003-auth.md)."""
    from chalicelib.api.auth import bearer_token

    principal = authenticate(bearer_token(auth_request.token))
    if principal is None:
        return AuthResponse(routes=["*"], principal_id="anonymous", context={})
    context = {
        "tenant_id": principal.tenant_id,
        "role": principal.role.value,
        "key_id": principal.key_id,
    }
    return AuthResponse(routes=["*"], principal_id=principal.key_id, context=context)


api.mount(app, api_key_authorizer)

_openapi: dict[str, Any] = {}


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/openapi.json")
def openapi() -> Response:
    if not _openapi:
        _openapi.update(build_openapi(api, title="Flows API", version="1"))
    return Response(body=_openapi, status_code=200, headers={"Content-Type": "application/json"})


@app.on_sqs_message(queue=settings.queue_name("steps"), batch_size=10)
def step_worker(event: SQSEvent) -> dict[str, Any]:
    return handle_batch(event.to_dict(), event.context)


@app.on_sqs_message(queue=settings.queue_name("control"), batch_size=10)
def control_worker(event: SQSEvent) -> dict[str, Any]:
    return handle_batch(event.to_dict(), event.context)
