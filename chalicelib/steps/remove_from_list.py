"""Remove from list: take the contact out of a static selection and/or a project (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing


class Settings(StepSettings):
    selection_id: str | None = None
    project_id: str | None = None


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not (settings.selection_id or settings.project_id):
        yield missing("selection_id", "the step names no selection and no project")
    yield from ctx.ref("selection", settings.selection_id, "settings.selection_id")
    yield from ctx.ref("project", settings.project_id, "settings.project_id")


STEP = StepType("remove_from_list", Settings, check)
