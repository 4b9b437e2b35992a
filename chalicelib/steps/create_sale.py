"""Create sale: open a sale for the contact (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.steps.durations import Duration

OWNER_RULES = ("our_contact", "our_service_contact")


class SaleDate(ApiModel):
    after: Duration | None = Field(None, description="the sale's date: this long after the step")


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=200)
    stage: str | None = Field(None, max_length=200)
    amount: float = Field(0, ge=0)
    description: str = Field("", max_length=10_000)
    project_id: str | None = None
    date: SaleDate = Field(default_factory=SaleDate)
    owner: str = Field(
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


STEP = StepType("create_sale", Settings, check)
