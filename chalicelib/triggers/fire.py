"""Firing triggers and waking waits.

``fire`` proposes a contact to every live flow the trigger index lists for a trigger type and
target; each proposal passes the engine's one gate (``engine.enrol.propose``). ``depth`` counts
the enrolments caused by one outside event: an API call, a click or a form is depth 0; a step's
effect (a flow adding the contact to a selection) fires at its participant's depth + 1, and the
gate refuses past ``MAX_CHAIN_DEPTH``, so flows cannot loop.

``wake`` sends a step message to the contact's participants that wait on a ``wait_for_action``
step for this click or submission: the worker runs the wait again, finds the engagement and
moves on. A stale wake (the participant moved meanwhile) is dropped by the step protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from chalicelib.engine import navigation
from chalicelib.engine.dispatch import step_message
from chalicelib.engine.enrol import EnrolmentRefusedError, propose
from chalicelib.engine.messages import send
from chalicelib.flows.definition import FlowDefinition
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as participant_store
from chalicelib.triggers.kinds import Fired

log = logging.getLogger("flows.triggers")


def fire(
    tenant_id: str,
    trigger: Fired,
    contact_id: str,
    *,
    depth: int = 0,
    cause: str = "",
) -> list[str]:
    """Propose the contact to each flow the trigger enrols into; the participant ids made."""
    made: list[str] = []
    for flow_id in flow_store.flows_for_trigger(tenant_id, trigger.type, trigger.target):
        try:
            p = propose(tenant_id, flow_id, contact_id, cause=cause or trigger.type, depth=depth)
        except EnrolmentRefusedError as refused:
            log.info(
                "trigger %s did not enrol contact %s into flow %s: %s",
                trigger.type,
                contact_id,
                flow_id,
                refused.reason,
            )
            continue
        made.append(p.participant_id)
    return made


def fire_all(
    tenant_id: str,
    triggers: Iterable[Fired],
    contact_id: str,
    *,
    depth: int = 0,
    cause: str = "",
) -> None:
    for trigger in triggers:
        fire(tenant_id, trigger, contact_id, depth=depth, cause=cause)


def wake(tenant_id: str, contact_id: str, action: str, target_id: str) -> int:
    """Wake the contact's participants waiting for ``action`` (``link_clicked`` or
    ``form_submitted``) on ``target_id``; how many were woken."""
    from chalicelib.engine.worker import definition_of

    woken = 0
    for p in participant_store.of_contact(tenant_id, contact_id):
        wait = p.data.get("wait") or {}
        if p.status != "active" or p.data.get("parked") or wait.get("step_id") != p.step_id:
            continue
        version = int(p.data.get("flow_version") or 0)
        if not version:
            continue
        definition = definition_of(tenant_id, p.flow_id, version)
        if _waits_for(definition, p.step_id or "", action, target_id):
            send("steps", step_message(p))
            woken += 1
    return woken


def _waits_for(definition: FlowDefinition, step_id: str, action: str, target_id: str) -> bool:
    place = navigation.find(definition, step_id)
    if place is None or place.step.type != "wait_for_action":
        return False
    key = "link_id" if action == "link_clicked" else "form_id"
    actions = getattr(place.step.settings, "actions", [])
    return any(a.type == action and getattr(a, key, None) == target_id for a in actions)
