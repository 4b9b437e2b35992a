"""Tenants and their API keys (stored by the SHA-256 of the key, never the key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import dumps, loads
from chalicelib.store.models import ApiKeyItem, TenantItem


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    settings: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class StoredKey:
    key_hash: str
    tenant_id: str
    key_id: str
    name: str
    role: str
    created_at: str


def _key(item: ApiKeyItem) -> StoredKey:
    return StoredKey(
        key_hash=item.key_hash,
        tenant_id=item.tenant_id,
        key_id=item.key_id,
        name=item.name,
        role=item.role,
        created_at=item.created_at,
    )


def create_tenant(tenant: Tenant) -> None:
    TenantItem(
        tenant.tenant_id,
        name=tenant.name,
        settings=dumps(tenant.settings),
        created_at=tenant.created_at,
    ).save(condition=TenantItem.tenant_id.does_not_exist())


def get_tenant(tenant_id: str) -> Tenant | None:
    try:
        item = TenantItem.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return None
    return Tenant(item.tenant_id, item.name, loads(item.settings), item.created_at)


def save_settings(tenant_id: str, settings: dict[str, Any]) -> None:
    TenantItem(tenant_id).update(
        actions=[TenantItem.settings.set(dumps(settings))],
        condition=TenantItem.tenant_id.exists(),
    )


def put_key(key: StoredKey) -> None:
    ApiKeyItem(
        key.key_hash,
        tenant_id=key.tenant_id,
        key_id=key.key_id,
        name=key.name,
        role=key.role,
        created_at=key.created_at,
    ).save(condition=ApiKeyItem.key_hash.does_not_exist())


def key_by_hash(key_hash: str) -> StoredKey | None:
    """The key stored under this hash, read consistently so a revocation counts at once."""
    try:
        return _key(ApiKeyItem.get(key_hash, consistent_read=True))
    except DoesNotExist:
        return None


def keys_of(tenant_id: str) -> list[StoredKey]:
    """Every key of a tenant (a tenant has a handful), ordered by id."""
    return [_key(item) for item in ApiKeyItem.by_tenant.query(tenant_id)]


def delete_key(key: StoredKey) -> None:
    ApiKeyItem(key.key_hash).delete()
