"""Who is calling: API keys, roles, and the principal the authorizer hands to the routes.

Keys are 32 random bytes shown once; only their SHA-256 is stored. The authorizer resolves a
key to a principal; the routes decide, from the operation's access rule, whether that principal
may make the call (401 without one, 403 with the wrong role). See
docs/decisions/0003-auth.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "flw_"


class Role(StrEnum):
    ADMIN = "admin"
    FLOW_ADMIN = "flow_admin"
    CONTENT_EDITOR = "content_editor"
    OPERATOR = "operator"


# SPEC.md section 8: who may do what. The operator only creates tenants.
ANY_ROLE = frozenset({Role.ADMIN, Role.FLOW_ADMIN, Role.CONTENT_EDITOR})
CONTENT = ANY_ROLE
FLOW_WRITE = frozenset({Role.ADMIN, Role.FLOW_ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})
OPERATOR_ONLY = frozenset({Role.OPERATOR})


@dataclass(frozen=True)
class Principal:
    """The caller of one request, as the authorizer found it."""

    tenant_id: str
    role: Role
    key_id: str


def new_key() -> str:
    """A fresh API key: the prefix and 32 random bytes, url-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def is_operator_key(key: str, operator_key: str) -> bool:
    """Constant-time comparison with the deployment's operator key (unset: never)."""
    return bool(operator_key) and hmac.compare_digest(key.encode(), operator_key.encode())


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
