"""Routes of API.md "Tenants and keys"."""

from __future__ import annotations

from typing import Any

from chalicelib.api.auth import ADMIN_ONLY, ANY_ROLE, FLOW_WRITE, OPERATOR_ONLY
from chalicelib.api.models import partial
from chalicelib.api.pagination import Page
from chalicelib.api.registry import api
from chalicelib.api.routing import Call
from chalicelib.tenants import sender_domains, service
from chalicelib.tenants.models import (
    KeyCreate,
    KeyCreated,
    KeyInfo,
    TenantCreate,
    TenantCreated,
    TenantSettings,
)
from chalicelib.tenants.sender_domains import SenderDomain, SenderDomainCreate

SettingsPatch = partial(TenantSettings, "TenantSettingsPatch")


@api.operation(
    "POST",
    "/v1/admin/tenants",
    summary="Create a tenant and its first admin key (operator key only)",
    tag="tenants",
    access=OPERATOR_ONLY,
    body=TenantCreate,
    response=TenantCreated,
    status=201,
)
def create_tenant(call: Call) -> TenantCreated:
    return service.create_tenant(call.body)


@api.operation(
    "POST",
    "/v1/keys",
    summary="Create an API key (shown once)",
    tag="keys",
    access=ADMIN_ONLY,
    body=KeyCreate,
    response=KeyCreated,
    status=201,
)
def create_key(call: Call) -> KeyCreated:
    return service.create_key(call.tenant_id, call.body)


@api.operation(
    "GET",
    "/v1/keys",
    summary="List the tenant's keys (never the secrets)",
    tag="keys",
    access=ADMIN_ONLY,
    response=Page[KeyInfo],
)
def list_keys(call: Call) -> Page[KeyInfo]:
    return Page[KeyInfo](items=service.list_keys(call.tenant_id))


@api.operation(
    "DELETE",
    "/v1/keys/{key_id}",
    summary="Revoke a key at once",
    tag="keys",
    access=ADMIN_ONLY,
    status=204,
    errors=(409,),
)
def revoke_key(call: Call) -> None:
    service.revoke_key(call.tenant_id, call.params["key_id"])


@api.operation(
    "GET",
    "/v1/settings",
    summary="The tenant's settings",
    tag="settings",
    access=ANY_ROLE,
    response=TenantSettings,
)
def get_settings(call: Call) -> TenantSettings:
    return service.get_settings_of(call.tenant_id)


@api.operation(
    "PATCH",
    "/v1/settings",
    summary="Change the tenant's settings (JSON merge patch)",
    tag="settings",
    access=ADMIN_ONLY,
    body=SettingsPatch,
    response=TenantSettings,
)
def patch_settings(call: Call) -> Any:
    return service.patch_settings(call.tenant_id, call.json)


@api.operation(
    "POST",
    "/v1/sender-domains",
    summary="Add a domain to send email from; answers the DKIM records to publish",
    tag="settings",
    access=FLOW_WRITE,
    body=SenderDomainCreate,
    response=SenderDomain,
    status=201,
    errors=(409,),
)
def add_sender_domain(call: Call) -> SenderDomain:
    return sender_domains.add(call.tenant_id, call.body)


@api.operation(
    "GET",
    "/v1/sender-domains",
    summary="The tenant's sender domains and their verification status",
    tag="settings",
    access=ANY_ROLE,
    response=Page[SenderDomain],
)
def list_sender_domains(call: Call) -> Page[SenderDomain]:
    return sender_domains.list_domains(call.tenant_id)
