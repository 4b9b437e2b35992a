"""Remove from list: take the contact out of a static selection and/or a project (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.outcomes import Outcome, RunContext, done, skipped
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import memberships
from chalicelib.store.base import Write


class Settings(StepSettings):
    selection_id: str | None = None
    project_id: str | None = None


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not (settings.selection_id or settings.project_id):
        yield missing("selection_id", "the step names no selection and no project")
    yield from ctx.ref("selection", settings.selection_id, "settings.selection_id")
    yield from ctx.ref("project", settings.project_id, "settings.project_id")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Remove the contact from the selection and/or project; a no-op where it is not one."""
    p = ctx.participant
    writes: list[Write] = []
    changed: list[str] = []
    for list_id in filter(None, (settings.selection_id, settings.project_id)):
        if not ctx.facts.is_member(list_id):
            continue
        writes.append(memberships.remove_write(p.tenant_id, list_id, p.contact_id))
        changed.append(list_id)
    if not changed:
        return skipped("not_member")
    return done(*writes, activity={"type": "membership_removed", "list_ids": changed})


STEP = StepType("remove_from_list", Settings, check, run=run)
