"""Remove from list: take the contact out of a static selection and/or a project (SPEC.md §5)."""

from __future__ import annotations

from chalicelib.engine.outcomes import Outcome, RunContext
from chalicelib.steps.base import StepType
from chalicelib.steps.lists import ListSettings, change, check


class Settings(ListSettings):
    pass


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Remove the contact from the selection and/or project; a no-op where it is not one."""
    return change(ctx, settings, add=False)


STEP = StepType("remove_from_list", Settings, check, run=run)
