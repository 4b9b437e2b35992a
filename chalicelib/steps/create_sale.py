"""Create sale: open a sale for the contact (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.api.models import ApiModel, Id
from chalicelib.clock import iso
from chalicelib.engine.activities import create, owner_of, tag_values
from chalicelib.engine.outcomes import Outcome, RunContext
from chalicelib.messaging.merge_tags import render
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration, parse_duration
from chalicelib.tenants.service import get_settings_of

OWNER_RULES = ("our_contact", "our_service_contact")


class SaleDate(ApiModel):
    after: Duration | None = Field(None, description="the sale's date: this long after the step")


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=200)
    stage: str | None = Field(None, max_length=200)
    amount: float = Field(0, ge=0)
    description: str = Field("", max_length=10_000)
    project_id: Id | None = None
    date: SaleDate = Field(default_factory=SaleDate)
    owner: Id = Field(
        "our_contact",
        min_length=1,
        description="our_contact, our_service_contact, or an associate id",
    )


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.title:
        yield missing("title", "the sale has no title")
    if settings.owner not in OWNER_RULES:
        yield from ctx.ref("associate", settings.owner, "settings.owner")
    yield from ctx.ref("project", settings.project_id, "settings.project_id")
    yield from ctx.tags(settings.title, "settings.title")
    yield from ctx.tags(settings.description, "settings.description")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Open the sale for the contact, owned as ``owner`` says, dated ``date.after`` on; with
    no stage, the one the tenant's ``sale_stages`` gives its type."""
    tags = tag_values(ctx)
    after = parse_duration(settings.date.after) if settings.date.after else None
    fields = {
        "title": render(settings.title or "", tags) or "Sale",
        "type": settings.type,
        "stage": settings.stage
        or get_settings_of(ctx.participant.tenant_id).sale_stages.get(settings.type or ""),
        "status": "open",
        "amount": settings.amount,
        "owner_id": owner_of(ctx, settings.owner),
        "project_id": settings.project_id,
        "description": render(settings.description, tags),
        "date": iso(ctx.now + after) if after else None,
    }
    return create(ctx, "sale", fields)


STEP = StepType("create_sale", Settings, check, run=run)
