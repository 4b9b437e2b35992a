"""Signed tokens for the public links in emails: tracked clicks (``/l/``), opens (``/o/``) and
unsubscribes (``/u/``).

A token is ``base64url(json payload) + "." + base64url(HMAC-SHA256(key, kind + payload))``.
It names the tenant, the contact and what it is about (a url, a mailing, a step); the signature
makes it unforgeable and binds it to its kind, so an open token is no unsubscribe token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.settings import get_settings

KINDS = ("click", "open", "unsubscribe")


class BadTokenError(Exception):
    """Forged, truncated, of another kind, or unsigned."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kind: str, body: bytes) -> bytes:
    key = get_settings().signing_key
    if not key:
        raise BadTokenError("no signing key is configured (FLOWS_SIGNING_KEY)")
    return hmac.new(key.encode(), kind.encode() + b"." + body, hashlib.sha256).digest()


def sign(kind: str, payload: dict[str, Any]) -> str:
    assert kind in KINDS
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(kind, body))}"


def verify(kind: str, token: str) -> dict[str, Any]:
    """The payload of a token of ``kind`` this deployment signed; BadTokenError otherwise."""
    try:
        body_text, mac_text = token.split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError as error:
        raise BadTokenError("malformed token") from error
    if not hmac.compare_digest(mac, _mac(kind, body)):
        raise BadTokenError("bad signature")
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise BadTokenError("malformed payload")
    return payload


def url(kind: str, payload: dict[str, Any]) -> str:
    """The absolute public url of a token."""
    path = {"click": "l", "open": "o", "unsubscribe": "u"}[kind]
    return f"{get_settings().public_base_url.rstrip('/')}/{path}/{sign(kind, payload)}"


def is_ours(url: str) -> bool:
    """Whether ``url`` is one of this deployment's tracked-link urls already."""
    return url.startswith(f"{get_settings().public_base_url.rstrip('/')}/l/")
