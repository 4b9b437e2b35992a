"""What a step's ``run`` gets and returns (the step interface of DESIGN.md, point 4).

``run(ctx, settings) -> Outcome``. A handler only decides; the worker commits the outcome in one
transaction with the journal item and the handler's own ``writes``, then dispatches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.store.base import Write
from chalicelib.store.participants import Participant

if TYPE_CHECKING:  # the step modules import this one, and the flow definition imports them
    from chalicelib.engine.facts import Facts
    from chalicelib.flows.definition import FlowDefinition, Step

OutcomeKind = Literal["done", "skipped", "branch", "waiting", "dropped_out"]


class RetryableStepError(Exception):
    """A passing failure (throttling, a timeout): the message comes back and the step runs
    again. After the queue's last try the participant drops out with ``step_failed``."""


class PermanentStepError(Exception):
    """Bad data or a refused call: the participant drops out with ``step_failed`` at once."""


@dataclass(frozen=True)
class Outcome:
    """The result of one step: go on, skip with a reason, take a branch, wait, or drop out."""

    kind: OutcomeKind
    reason: str | None = None
    branch_id: str | None = None
    until: datetime | None = None
    writes: tuple[Write, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def done(*writes: Write, **detail: Any) -> Outcome:
    return Outcome("done", writes=writes, detail=detail)


def skipped(reason: str, **detail: Any) -> Outcome:
    return Outcome("skipped", reason=reason, detail=detail)


def take_branch(branch_id: str, **detail: Any) -> Outcome:
    return Outcome("branch", branch_id=branch_id, detail=detail)


def wait_until(until: datetime | None, **detail: Any) -> Outcome:
    """Stay on the step until ``until`` (None: until woken by an action)."""
    return Outcome("waiting", until=until, detail=detail)


def drop_out(reason: str, **detail: Any) -> Outcome:
    return Outcome("dropped_out", reason=reason, detail=detail)


@dataclass
class RunContext:
    """Everything a step may look at while it runs. ``now`` is the injected clock's time."""

    tenant_id: str
    flow_id: str
    flow: FlowDefinition
    participant: Participant
    step: Step
    now: datetime
    facts: Facts
    # Set by the worker for a step with an outside effect: claims the step's journal item.
    on_effect: Callable[[], None] | None = None

    def outside(self) -> None:
        """Call right before the outside effect (the send, the invoke). From here on a failure
        may mean it happened, so it is never simply tried again (DESIGN.md's claim)."""
        if self.on_effect is not None:
            self.on_effect()

    @property
    def waiting_since(self) -> str | None:
        """When the participant reached this step, if it is waiting on it."""
        wait = self.participant.data.get("wait") or {}
        return wait.get("since") if wait.get("step_id") == self.step.id else None
