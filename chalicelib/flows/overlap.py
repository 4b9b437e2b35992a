"""Warnings for a flow whose form or link trigger already does what one of its steps does
(SPEC.md §6): the same selection, project or interest added (or removed) twice, or added by one
and removed by the other. They are warnings: the flow may start.

An effect is ``(kind, target, sign)``: kind ``selection``, ``project`` or ``interest``; sign
``+1`` adds, ``-1`` removes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.flows.definition import FlowDefinition, walk
from chalicelib.steps.base import Issue
from chalicelib.store import records

Effect = tuple[str, str, int]


def trigger_overlaps(tenant_id: str, flow: FlowDefinition) -> Iterator[tuple[str | None, Issue]]:
    """(step id, warning) for each step that repeats or contradicts a trigger's actions."""
    for index, trigger in enumerate(flow.triggers):
        kind = {"form_submitted": "form", "link_clicked": "link"}.get(trigger.type)
        target = trigger.target
        if kind is None or not target:
            continue
        record = records.get(tenant_id, kind, target)
        if record is None:
            continue  # the trigger's own check says so
        theirs = set(_action_effects(record.data.get("actions") or {}))
        for step in walk(flow.steps):
            for effect, path in _step_effects(step):
                name, value, sign = effect
                what = f"the {kind} {target} (triggers[{index}])"
                if effect in theirs:
                    verb = "adds" if sign > 0 else "removes"
                    yield (
                        step.id,
                        Issue(
                            path,
                            f"{what} already {verb} this {name}: the step repeats it",
                            "warning",
                        ),
                    )
                elif (name, value, -sign) in theirs:
                    verb = "removes" if sign > 0 else "adds"
                    yield (
                        step.id,
                        Issue(
                            path, f"{what} {verb} this {name}: the step contradicts it", "warning"
                        ),
                    )


def _action_effects(actions: dict[str, Any]) -> Iterator[Effect]:
    for key, sign in (("add_to", 1), ("remove_from", -1)):
        for kind in ("selection", "project"):
            ref = actions.get(f"{key}_{kind}") or {}
            if ref.get(f"{kind}_id"):
                yield kind, ref[f"{kind}_id"], sign
    if actions.get("add_interest"):
        yield "interest", actions["add_interest"], 1
    if actions.get("remove_interest"):
        yield "interest", actions["remove_interest"], -1


def _step_effects(step: Any) -> Iterator[tuple[Effect, str]]:
    settings = step.settings
    if step.type in ("add_to_list", "remove_from_list"):
        sign = 1 if step.type == "add_to_list" else -1
        if settings.selection_id:
            yield ("selection", settings.selection_id, sign), "settings.selection_id"
        if settings.project_id:
            yield ("project", settings.project_id, sign), "settings.project_id"
    if step.type == "update_contact":
        for index, row in enumerate(settings.updates):
            if row.field == "interests" and row.action in ("add", "remove"):
                sign = 1 if row.action == "add" else -1
                yield ("interest", str(row.value), sign), f"settings.updates[{index}]"
