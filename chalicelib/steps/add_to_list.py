"""Add to list: add the contact to a static selection and/or a project (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.clock import iso
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
    """Add the contact to the selection and/or project; a no-op where it already is one."""
    p = ctx.participant
    writes: list[Write] = []
    changed: list[str] = []
    for list_id in filter(None, (settings.selection_id, settings.project_id)):
        if ctx.facts.is_member(list_id):
            continue
        writes.append(memberships.add_write(p.tenant_id, list_id, p.contact_id, iso(ctx.now)))
        changed.append(list_id)
    if not changed:
        return skipped("already_member")
    return done(*writes, activity={"type": "membership_added", "list_ids": changed})


STEP = StepType("add_to_list", Settings, check, run=run)
