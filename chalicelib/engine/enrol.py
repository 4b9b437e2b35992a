"""Enrolment: the one gate every way into a flow passes (SPEC.md §2).

In order: the flow is running or paused; the contact exists and is not retired; it matches the
filter (checked once, here); it is not in an exclusion selection; with ``start_only_once`` it
never was a participant (erased participations do not count); it has no queued or active
participation (a guard item makes concurrent proposals produce exactly one participant).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from chalicelib.clock import iso, iso_ms
from chalicelib.engine import health, navigation
from chalicelib.engine.dispatch import dispatch
from chalicelib.engine.facts import Facts
from chalicelib.engine.runtime import MAX_CHAIN_DEPTH, runtime
from chalicelib.flows.definition import FlowDefinition
from chalicelib.flows.lifecycle import LIVE, FlowStatus
from chalicelib.ids import new_id
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.base import ConditionFailedError
from chalicelib.store.flows import FlowRecord
from chalicelib.store.participants import AlreadyParticipatingError, Participant

log = logging.getLogger("flows.engine")


class EnrolmentRefusedError(Exception):
    """The gate said no; ``reason`` says which rule."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def propose(
    tenant_id: str, flow_id: str, contact_id: str, *, cause: str, depth: int = 0
) -> Participant:
    """Propose a contact to a flow; the new participant, or EnrolmentRefusedError."""
    from chalicelib.engine.worker import definition_of

    flow = flow_store.state(tenant_id, flow_id)
    if flow is None or FlowStatus(flow.status) not in LIVE:
        raise EnrolmentRefusedError("flow_not_running", "The flow is not running or paused.")
    if depth > MAX_CHAIN_DEPTH:
        log.warning("flow chain deeper than %d stopped at flow %s", MAX_CHAIN_DEPTH, flow_id)
        raise EnrolmentRefusedError("chain_too_deep", "Too many flows enrolled each other.")
    definition = definition_of(tenant_id, flow_id, flow.version)
    facts = Facts(tenant_id, contact_id)
    _gate(tenant_id, flow_id, definition, facts)
    now = runtime.clock()
    running = flow.status == FlowStatus.RUNNING
    p = Participant(
        tenant_id=tenant_id,
        flow_id=flow_id,
        participant_id=new_id("par"),
        contact_id=contact_id,
        status="active" if running else "queued",
        step_id=navigation.first_step(definition) if running else None,
        seq=1,
        generation=flow.generation,
        data={
            "enrolled_at": iso_ms(now),
            "updated_at": iso(now),
            "flow_version": flow.version,
            "cause": cause,
            "depth": depth,
        },
    )
    try:
        store.create(p, {"event": "enrolled", "cause": cause, "at": iso(now)})
    except AlreadyParticipatingError as error:
        raise EnrolmentRefusedError(
            "already_participating", "The contact is already in this flow."
        ) from error
    _remove_from_other_flows(tenant_id, contact_id, definition.remove_from_flow_ids, flow_id)
    dispatch(p, now)
    health.count(tenant_id, flow_id, "entered", now)
    return p


def _gate(tenant_id: str, flow_id: str, definition: FlowDefinition, facts: Facts) -> None:
    contact = facts.contact
    if contact is None:
        raise EnrolmentRefusedError("contact_not_found", "No such contact.")
    if contact.get("retired"):
        raise EnrolmentRefusedError("retired", "The contact is retired.")
    if not facts.matches(definition.filter):
        raise EnrolmentRefusedError("filter", "The contact does not match the flow's filter.")
    if any(facts.is_member(s) for s in definition.exclusion_selection_ids):
        raise EnrolmentRefusedError("excluded", "The contact is in an exclusion selection.")
    past = store.of_contact(tenant_id, facts.contact_id, flow_id)
    if definition.start_only_once and past:
        raise EnrolmentRefusedError(
            "start_only_once", "The contact has been in this flow before (start only once)."
        )
    if any(p.live for p in past):
        raise EnrolmentRefusedError("already_participating", "The contact is already in this flow.")


def _remove_from_other_flows(
    tenant_id: str, contact_id: str, flow_ids: list[str], this_flow: str
) -> None:
    for other in flow_ids:
        if other == this_flow:
            continue
        for p in store.of_contact(tenant_id, contact_id, other):
            if p.live:
                terminate(p, "dropped_out", reason="removed_by_flow", by=this_flow)


def terminate(p: Participant, status: str, *, reason: str | None = None, by: str = "") -> bool:
    """Move a live participant to a terminal status now (end, removal by another flow); its
    in-flight message, if any, finds it terminal and is dropped. False if it moved first."""
    now = runtime.clock()
    data = p.data | {"updated_at": iso(now)}
    if reason:
        data["dropout_reason"] = reason
    ended = replace(p, status=status, seq=p.seq + 1, wait_until=None, wake_bucket=None, data=data)
    entry = {"event": status, "at": iso(now)} | ({"reason": reason} if reason else {})
    if by:
        entry["by_flow"] = by
    try:
        store.commit(p.seq, ended, entry)
    except ConditionFailedError:
        return False
    return True


def hand_off(p: Participant, flow: FlowRecord) -> None:
    """On Finish, propose the contact to the flow named for its outcome, if any."""
    from chalicelib.engine.worker import definition_of

    finish = definition_of(p.tenant_id, p.flow_id, flow.version).finish
    target = finish.on_success_flow_id if p.status == "succeeded" else finish.otherwise_flow_id
    if not target:
        return
    try:
        propose(
            p.tenant_id,
            target,
            p.contact_id,
            cause=f"finish:{p.flow_id}",
            depth=int(p.data.get("depth", 0)) + 1,
        )
    except EnrolmentRefusedError as refused:
        log.info("hand-off to flow %s refused: %s", target, refused.reason)
