"""Tenants, keys and settings: the rules behind API.md "Tenants and keys"."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.api.auth import Principal, Role, hash_key, is_operator_key, new_key
from chalicelib.api.models import merge_patch
from chalicelib.api.problems import ConflictError, NotFoundError, from_validation_error
from chalicelib.clock import Clock, iso, utc_now
from chalicelib.ids import new_id
from chalicelib.settings import get_settings
from chalicelib.store import tenants as store
from chalicelib.tenants.models import (
    KeyCreate,
    KeyCreated,
    KeyInfo,
    TenantCreate,
    TenantCreated,
    TenantSettings,
)

OPERATOR_PRINCIPAL = Principal(tenant_id="", role=Role.OPERATOR, key_id="operator")


def authenticate(token: str | None) -> Principal | None:
    """The principal an API key stands for, or None for a missing, unknown or revoked key."""
    if not token:
        return None
    if is_operator_key(token, get_settings().operator_key):
        return OPERATOR_PRINCIPAL
    stored = store.key_by_hash(hash_key(token))
    if stored is None:
        return None
    return Principal(tenant_id=stored.tenant_id, role=Role(stored.role), key_id=stored.key_id)


def create_tenant(
    body: TenantCreate, *, api_key: str | None = None, clock: Clock = utc_now
) -> TenantCreated:
    """A new tenant with its first admin key (``api_key`` lets the local stack choose it)."""
    tenant_id = new_id("ten")
    now = iso(clock())
    store.create_tenant(
        store.Tenant(tenant_id, body.name, body.settings.model_dump(mode="json"), now)
    )
    created = _create_key(tenant_id, "first admin key", Role.ADMIN, now, api_key)
    return TenantCreated(tenant_id=tenant_id, api_key=created.api_key, key_id=created.id)


def create_key(tenant_id: str, body: KeyCreate, *, clock: Clock = utc_now) -> KeyCreated:
    return _create_key(tenant_id, body.name, Role(body.role), iso(clock()), None)


def _create_key(tenant_id: str, name: str, role: Role, now: str, api_key: str | None) -> KeyCreated:
    secret = api_key or new_key()
    key_id = new_id("key")
    store.put_key(
        store.StoredKey(
            key_hash=hash_key(secret),
            tenant_id=tenant_id,
            key_id=key_id,
            name=name,
            role=role.value,
            created_at=now,
        )
    )
    return KeyCreated(id=key_id, name=name, role=role.value, created_at=now, api_key=secret)


def list_keys(tenant_id: str) -> list[KeyInfo]:
    return [
        KeyInfo(id=k.key_id, name=k.name, role=k.role, created_at=k.created_at)
        for k in store.keys_of(tenant_id)
    ]


def revoke_key(tenant_id: str, key_id: str) -> None:
    """Delete a key; it stops working on the next request. The last admin key stays."""
    keys = store.keys_of(tenant_id)
    target = next((k for k in keys if k.key_id == key_id), None)
    if target is None:
        raise NotFoundError(f"No key {key_id}.")
    admins = [k for k in keys if k.role == Role.ADMIN]
    if target.role == Role.ADMIN and len(admins) == 1:
        raise ConflictError("This is the tenant's last admin key; create another admin key first.")
    store.delete_key(target)


def get_settings_of(tenant_id: str) -> TenantSettings:
    tenant = store.get_tenant(tenant_id)
    if tenant is None:
        raise NotFoundError("No such tenant.")
    return TenantSettings.model_validate(tenant.settings, strict=False)


def patch_settings(tenant_id: str, patch: dict[str, Any]) -> TenantSettings:
    """Merge a patch into the settings (RFC 7396) and store the result if it is valid."""
    current = get_settings_of(tenant_id).model_dump(mode="json")
    try:
        updated = TenantSettings.model_validate(merge_patch(current, patch))
    except ValidationError as error:
        raise from_validation_error(error) from error
    store.save_settings(tenant_id, updated.model_dump(mode="json"))
    return updated
