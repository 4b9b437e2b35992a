"""Add to list: add the contact to a static selection and/or a project (SPEC.md §5)."""

from __future__ import annotations

from chalicelib.engine.outcomes import Outcome, RunContext
from chalicelib.steps.base import StepType
from chalicelib.steps.lists import ListSettings, change, check


class Settings(ListSettings):
    pass


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Add the contact to the selection and/or project; a no-op where it already is one."""
    return change(ctx, settings, add=True)


STEP = StepType("add_to_list", Settings, check, run=run)
