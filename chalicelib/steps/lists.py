"""What add_to_list and remove_from_list share: their settings, checks and the one rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.api.models import Id
from chalicelib.clock import iso
from chalicelib.engine.outcomes import Outcome, RunContext, done, skipped
from chalicelib.steps.base import CheckContext, Issue, StepSettings, missing
from chalicelib.store import memberships
from chalicelib.store.base import Write


class ListSettings(StepSettings):
    selection_id: Id | None = None
    project_id: Id | None = None


def check(ctx: CheckContext, settings: ListSettings, step: Any) -> Iterator[Issue]:
    if not (settings.selection_id or settings.project_id):
        yield missing("selection_id", "the step names no selection and no project")
    yield from ctx.ref("selection", settings.selection_id, "settings.selection_id")
    yield from ctx.ref("project", settings.project_id, "settings.project_id")


def change(ctx: RunContext, settings: ListSettings, *, add: bool) -> Outcome:
    """Add the contact to (or remove it from) the selection and/or project, in the step's
    transaction; a list it already is (or is not) in is left alone, and if all are, skipped."""
    p = ctx.participant
    writes: list[Write] = []
    changed: list[str] = []
    for list_id in filter(None, (settings.selection_id, settings.project_id)):
        if ctx.facts.is_member(list_id) == add:
            continue
        writes.append(
            memberships.add_write(p.tenant_id, list_id, p.contact_id, iso(ctx.now))
            if add
            else memberships.remove_write(p.tenant_id, list_id, p.contact_id)
        )
        changed.append(list_id)
    if not changed:
        return skipped("already_member" if add else "not_member")
    kind = "membership_added" if add else "membership_removed"
    fires = [
        [f"added_to_{'selection' if list_id == settings.selection_id else 'project'}", list_id]
        for list_id in changed
        if add
    ]
    return done(*writes, activity={"type": kind, "list_ids": changed}, fires=fires)
