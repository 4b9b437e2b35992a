"""Split: send each participant down the first branch whose condition holds (SPEC.md §5).

A split tests the state now and never waits. Its branches and ``everyone_else`` live beside its
settings in the step (``flows.definition.Step``); each branch has a ``condition`` whose keys
depend on the split's basis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel, Id
from chalicelib.engine.facts import holds
from chalicelib.engine.outcomes import Outcome, RunContext, drop_out, take_branch
from chalicelib.flows.rules import Rule, check_rules
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType

Basis = Literal[
    "contact_data",
    "form_submitted",
    "form_data",
    "link_clicked",
    "project_member",
    "selection_member",
]


class Condition(ApiModel):
    """A branch's condition; which keys count depends on the split's basis."""

    rules: list[Rule] | None = None
    form_id: Id | None = None
    link_id: Id | None = None
    mailing_id: Id | None = Field(None, description="link_clicked: only clicks in this mailing")
    project_id: Id | None = None
    selection_id: Id | None = None


class Settings(StepSettings):
    basis: Basis | None = None
    mailing_step_id: Id | None = Field(
        None, description="link_clicked: count only clicks in this email step's mailing"
    )


# For each basis: the condition key that names its target, and the kind of that target.
_TARGET: dict[str, tuple[str, str]] = {
    "form_submitted": ("form_id", "form"),
    "form_data": ("form_id", "form"),
    "link_clicked": ("link_id", "link"),
    "project_member": ("project_id", "project"),
    "selection_member": ("selection_id", "selection"),
}


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if settings.basis is None:
        yield Issue("settings.basis", "the split has no basis")
        return
    branches = step.branches or []
    if settings.basis == "form_submitted" and len(branches) > 1:
        yield Issue(
            "branches", "a form-submitted split has one branch (yes) and everyone else (no)"
        )
    for index, branch in enumerate(branches):
        path = f"branches[{index}].condition"
        condition = branch.condition
        if condition is None:
            yield Issue(path, f"branch {branch.name!r} has no condition")
            continue
        if settings.basis in ("contact_data", "form_data"):
            if not condition.rules:
                yield Issue(f"{path}.rules", f"branch {branch.name!r} has no rules")
            else:
                yield from check_rules(
                    ctx,
                    condition.rules,
                    f"{path}.rules",
                    form_fields=settings.basis == "form_data",
                )
        if settings.basis in _TARGET:
            key, kind = _TARGET[settings.basis]
            target = getattr(condition, key)
            if not target:
                yield Issue(f"{path}.{key}", f"branch {branch.name!r} names no {kind}")
            yield from ctx.ref(kind, target, f"{path}.{key}")
        yield from ctx.ref("mailing", condition.mailing_id, f"{path}.mailing_id")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """The first branch whose condition holds now; else everyone else (which may exit).
    Form submissions and clicks count from the participant's enrolment on."""
    since = ctx.participant.data.get("enrolled_at")
    for branch in ctx.step.branches or []:
        if branch.condition is not None and _holds(ctx, settings, branch.condition, since):
            return take_branch(branch.id or "", branch=branch.name)
    everyone_else = ctx.step.everyone_else
    if everyone_else is not None and everyone_else.exit:
        return drop_out("everyone_else_exit")
    return take_branch("everyone_else")


def _holds(ctx: RunContext, settings: Settings, condition: Condition, since: str | None) -> bool:
    facts, basis = ctx.facts, settings.basis
    if basis == "contact_data":
        return bool(condition.rules) and facts.matches(condition.rules or [])
    if basis in ("selection_member", "project_member"):
        target = condition.selection_id if basis == "selection_member" else condition.project_id
        return bool(target) and facts.is_member(target or "")
    if basis == "form_submitted":
        return bool(condition.form_id) and bool(
            facts.engaged("submit", condition.form_id or "", since)
        )
    if basis == "form_data":
        submissions = facts.engaged("submit", condition.form_id or "", since)
        if not submissions or not condition.rules:
            return False
        fields = submissions[-1].get("fields", {})
        return all(
            holds(rule, fields.get(rule.field.removeprefix("form."))) for rule in condition.rules
        )
    if basis == "link_clicked":
        clicks = facts.engaged("click", condition.link_id or "", since) if condition.link_id else []
        mailing = condition.mailing_id or _mailing_of(ctx, settings.mailing_step_id)
        return any(not mailing or click.get("mailing_id") == mailing for click in clicks)
    return False


def _mailing_of(ctx: RunContext, step_id: str | None) -> str | None:
    from chalicelib.engine.navigation import find

    place = find(ctx.flow, step_id)
    return getattr(place.step.settings, "mailing_id", None) if place else None


STEP = StepType("split", Settings, check, holds_participants=True, has_branches=True, run=run)
