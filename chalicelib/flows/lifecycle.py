"""The flow's life as a transition table (SPEC.md §3, STYLE.md 6).

``not_running`` -start-> ``running`` -pause-> ``paused`` -start-> ``running``; ``running`` or
``paused`` -end-> ``not_running``; edit and delete are moves that keep (or end) the status.
"""

from __future__ import annotations

from enum import StrEnum

from chalicelib.api.problems import ConflictError


class FlowStatus(StrEnum):
    NOT_RUNNING = "not_running"
    RUNNING = "running"
    PAUSED = "paused"


class FlowAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    END = "end"
    EDIT = "edit"
    DELETE = "delete"


S, A = FlowStatus, FlowAction
TRANSITIONS: dict[tuple[FlowStatus, FlowAction], FlowStatus] = {
    (S.NOT_RUNNING, A.START): S.RUNNING,
    (S.PAUSED, A.START): S.RUNNING,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.RUNNING, A.END): S.NOT_RUNNING,
    (S.PAUSED, A.END): S.NOT_RUNNING,
    (S.NOT_RUNNING, A.EDIT): S.NOT_RUNNING,
    (S.PAUSED, A.EDIT): S.PAUSED,
    (S.NOT_RUNNING, A.DELETE): S.NOT_RUNNING,
}
# Triggers enrol while the flow is running or paused (paused: as queued).
LIVE = frozenset({S.RUNNING, S.PAUSED})

_REFUSALS = {
    A.START: "only a flow that is not running or paused can be started",
    A.PAUSE: "only a running flow can be paused",
    A.END: "only a running or paused flow can be ended",
    A.EDIT: "a running flow cannot be edited; pause it first",
    A.DELETE: "only a flow that is not running can be deleted; end it first",
}


def next_status(status: FlowStatus, action: FlowAction) -> FlowStatus:
    """The status after ``action``, or a 409 naming the rule that forbids it."""
    after = TRANSITIONS.get((status, action))
    if after is None:
        raise ConflictError(f"The flow is {status.value}: {_REFUSALS[action]}.")
    return after


def allowed_from(action: FlowAction) -> frozenset[FlowStatus]:
    """The statuses from which ``action`` is allowed (for conditional writes)."""
    return frozenset(status for (status, act) in TRANSITIONS if act == action)
