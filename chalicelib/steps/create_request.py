"""Create request: open a service request for the contact (SPEC.md §5, "Create activity")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing

OWNER_RULES = ("auto", "unassigned")


class Settings(StepSettings):
    title: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=200)
    status: str = Field("open", max_length=50)
    category: str | None = Field(None, max_length=200)
    priority: str | None = Field(None, max_length=200)
    owner: str = Field(
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


STEP = StepType("create_request", Settings, check)
