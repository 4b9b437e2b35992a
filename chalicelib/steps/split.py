"""Split: send each participant down the first branch whose condition holds (SPEC.md §5).

A split tests the state now and never waits. Its branches and ``everyone_else`` live beside its
settings in the step (``flows.definition.Step``); each branch has a ``condition`` whose keys
depend on the split's basis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
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
    form_id: str | None = None
    link_id: str | None = None
    mailing_id: str | None = Field(None, description="link_clicked: only clicks in this mailing")
    project_id: str | None = None
    selection_id: str | None = None


class Settings(StepSettings):
    basis: Basis | None = None
    mailing_step_id: str | None = Field(
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


STEP = StepType("split", Settings, check, holds_participants=True, has_branches=True)
