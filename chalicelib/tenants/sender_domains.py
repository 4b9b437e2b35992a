"""Sender domains: a tenant adds the domain it sends email from; SES creates the identity and
answers the DKIM records to publish; a flow that sends from an unverified domain has a problem.

An SES identity belongs to the whole AWS account, so a domain belongs to one tenant at most
(the first to add it). In the local stack moto counts an identity as verified at once.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, field_validator

from chalicelib.api.models import ApiModel
from chalicelib.api.pagination import Page
from chalicelib.api.problems import ConflictError
from chalicelib.aws import client
from chalicelib.clock import iso, utc_now
from chalicelib.store import records
from chalicelib.store.base import dumps, key, loads
from chalicelib.store.records import Record

KIND = "sender_domain"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SenderDomainCreate(ApiModel):
    domain: str = Field(..., description="e.g. example.com")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        domain = value.strip().lower().rstrip(".")
        if not _DOMAIN.match(domain):
            raise ValueError("not a domain name")
        return domain


class DnsRecord(BaseModel):
    name: str
    type: str
    value: str


class SenderDomain(BaseModel):
    domain: str
    status: str = Field(description="verified or pending (publish the DKIM records)")
    dkim_records: list[DnsRecord]
    created_at: str


def _identity(domain: str) -> dict[str, object]:
    ses = client("sesv2")
    try:
        ses.create_email_identity(EmailIdentity=domain)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("AlreadyExistsException", "ConflictException"):
            raise
    return dict(ses.get_email_identity(EmailIdentity=domain))


def _out(domain: str, created_at: str) -> SenderDomain:
    identity = _identity(domain)
    tokens = (identity.get("DkimAttributes") or {}).get("Tokens") or []  # type: ignore[attr-defined]
    return SenderDomain(
        domain=domain,
        status="verified" if _is_verified(identity) else "pending",
        dkim_records=[
            DnsRecord(
                name=f"{token}._domainkey.{domain}",
                type="CNAME",
                value=f"{token}.dkim.amazonses.com",
            )
            for token in tokens
        ],
        created_at=created_at,
    )


def add(tenant_id: str, body: SenderDomainCreate) -> SenderDomain:
    """Add (idempotently) a sender domain; 409 when another tenant has it."""
    holder = records.claim_value(key("#global", KIND), body.domain, dumps({"id": tenant_id}))
    if loads(holder)["id"] != tenant_id:
        raise ConflictError(f"The domain {body.domain} belongs to another account.")
    existing = records.get(tenant_id, KIND, body.domain)
    created_at = existing.data["created_at"] if existing else iso(utc_now())
    if existing is None:
        record = Record(id=body.domain, data={"created_at": created_at}, version=1)
        records.create(tenant_id, KIND, record)
    return _out(body.domain, created_at)


def list_domains(tenant_id: str) -> Page[SenderDomain]:
    found, _ = records.list_page(tenant_id, KIND, limit=100, after=None)
    return Page[SenderDomain](items=[_out(r.id, r.data["created_at"]) for r in found])


def verified(tenant_id: str, address: str) -> bool:
    """Whether the domain of ``address`` is one of the tenant's verified sender domains."""
    domain = address.rsplit("@", 1)[-1].lower()
    if records.get(tenant_id, KIND, domain) is None:
        return False
    return _is_verified(_identity(domain))


def _is_verified(identity: dict[str, object]) -> bool:
    # SES v2 says both; moto sets only VerificationStatus.
    return bool(identity.get("VerifiedForSendingStatus")) or (
        identity.get("VerificationStatus") == "SUCCESS"
    )
