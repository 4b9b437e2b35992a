"""Create request: open a service request for the contact (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.api.models import Id
from chalicelib.engine.activities import create, tag_values
from chalicelib.engine.outcomes import Outcome, RunContext
from chalicelib.messaging.merge_tags import render
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import records
from chalicelib.tenants.service import get_settings_of

OWNER_RULES = ("auto", "unassigned")


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=200)
    status: str = Field("open", max_length=50)
    category: str | None = Field(None, max_length=200)
    priority: str | None = Field(None, max_length=200)
    owner: Id = Field(
        "auto",
        min_length=1,
        description="an associate id, auto (the category's assignment rule) or unassigned",
    )
    message: str = Field("", max_length=100_000, description="merge tags allowed")


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.title:
        yield missing("title", "the request has no title")
    if settings.owner not in OWNER_RULES:
        yield from ctx.ref("associate", settings.owner, "settings.owner")
    yield from ctx.tags(settings.title, "settings.title")
    yield from ctx.tags(settings.message, "settings.message")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Open the request. Owner ``auto``: the category's assignment rule (round robin over the
    associates the tenant's ``request_categories`` lists for it), else the contact's service
    owner, else its owner; ``unassigned`` leaves it open."""
    contact = ctx.facts.contact or {}
    if settings.owner == "auto":
        owner = (
            _by_category(ctx, settings.category)
            or contact.get("service_owner_id")
            or contact.get("owner_id")
        )
    elif settings.owner == "unassigned":
        owner = None
    else:
        owner = settings.owner
    tags = tag_values(ctx)
    fields = {
        "title": render(settings.title or "", tags) or "Request",
        "type": settings.type,
        "status": settings.status,
        "category": settings.category,
        "priority": settings.priority,
        "owner_id": owner,
        "message": render(settings.message, tags),
    }
    return create(ctx, "request", fields)


def _by_category(ctx: RunContext, category: str | None) -> str | None:
    p = ctx.participant
    members = get_settings_of(p.tenant_id).request_categories.get(category or "", [])
    if not members:
        return None
    ticket = records.take_ticket(p.tenant_id, f"category#{category}", f"{p.participant_id}#{p.seq}")
    return members[ticket % len(members)]


STEP = StepType("create_request", Settings, check, run=run)
