"""Where a step stands in the flow's tree, and what comes after it.

Branches never join again: the step after the last one of a branch is Finish (None), as is the
step after the last one of the top list.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.flows.definition import FlowDefinition, Step


@dataclass(frozen=True)
class Place:
    step: Step
    siblings: list[Step]
    index: int

    @property
    def next_id(self) -> str | None:
        following = self.siblings[self.index + 1 :]
        return following[0].id if following else None


def find(definition: FlowDefinition, step_id: str | None) -> Place | None:
    """The place of a step, or None when the flow has no step of that id."""
    if step_id is None:
        return None

    def search(steps: list[Step]) -> Place | None:
        for index, step in enumerate(steps):
            if step.id == step_id:
                return Place(step, steps, index)
            for branch in step.branches or []:
                found = search(branch.steps)
                if found:
                    return found
            if step.everyone_else is not None:
                found = search(step.everyone_else.steps)
                if found:
                    return found
        return None

    return search(definition.steps)


def first_step(definition: FlowDefinition) -> str | None:
    return definition.steps[0].id if definition.steps else None


def branch_start(step: Step, branch_id: str) -> str | None:
    """The first step of a split's branch (``everyone_else`` included), or None (Finish)."""
    if branch_id == "everyone_else":
        steps = step.everyone_else.steps if step.everyone_else else []
    else:
        steps = next((b.steps for b in step.branches or [] if b.id == branch_id), [])
    return steps[0].id if steps else None


def successor_in(old: FlowDefinition, new: FlowDefinition, step_id: str) -> tuple[bool, str | None]:
    """For a step removed from ``new``: the first step after it in ``old`` that ``new`` still
    has. Returns (found, step_id) where a found None means Finish."""
    place = find(old, step_id)
    while place is not None:
        following = place.next_id
        if following is None:
            return True, None
        if find(new, following) is not None:
            return True, following
        place = find(old, following)
    return False, None
