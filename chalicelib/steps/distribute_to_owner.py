"""Distribute to owner: make one of several associates the contact's owner, in turn (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing


class Settings(StepSettings):
    associate_ids: list[str] = Field(default_factory=list, description="handed out in rotation")
    group_id: str | None = Field(None, description="its active associates join the rotation")
    only_if_unassigned: bool = Field(True, description="leave contacts that have an owner alone")
    fallback_owner_id: str | None = Field(None, description="when no one in the rotation is active")


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not (settings.associate_ids or settings.group_id):
        yield missing("associate_ids", "choose associates and/or a group to distribute to")
    for index, associate_id in enumerate(settings.associate_ids):
        yield from ctx.ref("associate", associate_id, f"settings.associate_ids[{index}]")
    yield from ctx.ref("group", settings.group_id, "settings.group_id")
    yield from ctx.ref("associate", settings.fallback_owner_id, "settings.fallback_owner_id")


STEP = StepType("distribute_to_owner", Settings, check)
