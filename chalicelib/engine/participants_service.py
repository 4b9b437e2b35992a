"""The participants API's rules: propose, list, detail with history, erase, retry, stats."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.api.pagination import Page, decode_cursor, encode_cursor
from chalicelib.api.problems import ConflictError, NotFoundError
from chalicelib.clock import iso
from chalicelib.engine.control import start_selection_enrolment
from chalicelib.engine.dispatch import dispatch
from chalicelib.engine.enrol import EnrolmentRefusedError, propose
from chalicelib.engine.runtime import runtime
from chalicelib.flows.definition import walk
from chalicelib.flows.lifecycle import LIVE, FlowStatus
from chalicelib.store import counters, records
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.participants import AlreadyParticipatingError, Participant


class ParticipantOut(BaseModel):
    id: str
    contact_id: str
    status: str
    step_id: str | None
    wait_until: str | None
    enrolled_at: str
    updated_at: str
    dropout_reason: str | None = None
    last_sending: dict[str, Any] | None = None


class HistoryEntry(BaseModel):
    seq: int
    at: str | None = None
    step_id: str | None = None
    type: str | None = None
    outcome: str | None = None
    event: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class ParticipantDetail(ParticipantOut):
    history: list[HistoryEntry]


class StepStats(BaseModel):
    entered: int = 0
    on_step: int = 0
    skipped: int = 0
    skipped_by_reason: dict[str, int] = Field(default_factory=dict)
    failed: int = 0
    # Message steps only: email steps sent, opened, clicked, unsubscribed, bounced (each
    # message once); SMS steps sent and segments.
    sent: int | None = None
    opened: int | None = None
    clicked: int | None = None
    unsubscribed: int | None = None
    bounced: int | None = None
    segments: int | None = None


def _message_figures(
    step_type: str, figures: dict[str, Any], counted: dict[str, int]
) -> dict[str, int]:
    sent = figures["outcomes"].get("done", 0)
    if step_type == "send_email":
        return {"sent": sent} | {name: counted.get(name, 0) for name in counters.FIGURES}
    if step_type == "send_sms":
        return {"sent": sent, "segments": counted.get("segments", 0)}
    return {}


class FlowStatsOut(BaseModel):
    enrolled: int
    in_progress: int
    completed: int
    succeeded: int
    success_rate: float
    by_status: dict[str, int]
    dropout_reasons: dict[str, int]
    steps: dict[str, StepStats]


def _out(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        id=p.participant_id,
        contact_id=p.contact_id,
        status=p.status,
        step_id=p.step_id,
        wait_until=p.wait_until,
        enrolled_at=p.data.get("enrolled_at", ""),
        updated_at=p.data.get("updated_at", ""),
        dropout_reason=p.data.get("dropout_reason"),
        last_sending=p.data.get("last_sending"),
    )


_ENTRY_KEYS = {"at", "step_id", "type", "outcome", "event", "reason"}


def _history_entry(seq: int, entry: dict[str, Any]) -> HistoryEntry:
    known = {k: entry[k] for k in _ENTRY_KEYS if k in entry and isinstance(entry[k], str)}
    detail = {k: v for k, v in entry.items() if k not in _ENTRY_KEYS}
    return HistoryEntry(seq=seq, detail=detail, **known)


class ParticipantService:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def _flow(self, flow_id: str) -> flow_store.FlowRecord:
        flow = flow_store.get(self.tenant_id, flow_id)
        if flow is None:
            raise NotFoundError(f"No flow {flow_id}.")
        return flow

    def _require(self, flow_id: str, participant_id: str) -> Participant:
        self._flow(flow_id)
        found = store.get(self.tenant_id, flow_id, participant_id)
        if found is None:
            raise NotFoundError(f"No participant {participant_id} in flow {flow_id}.")
        return found

    def propose_contact(self, flow_id: str, contact_id: str) -> ParticipantOut:
        flow = self._flow(flow_id)
        if FlowStatus(flow.status) not in LIVE:
            raise ConflictError("The flow is not running or paused.")
        if not records.exists(self.tenant_id, "contact", contact_id):
            raise NotFoundError(f"No contact {contact_id}.")
        try:
            return _out(propose(self.tenant_id, flow_id, contact_id, cause="manual"))
        except EnrolmentRefusedError as refused:
            raise ConflictError(f"{refused.detail} ({refused.reason})") from refused

    def propose_selection(self, flow_id: str, selection_id: str) -> dict[str, str]:
        flow = self._flow(flow_id)
        if FlowStatus(flow.status) not in LIVE:
            raise ConflictError("The flow is not running or paused.")
        if not records.exists(self.tenant_id, "selection", selection_id):
            raise NotFoundError(f"No selection {selection_id}.")
        start_selection_enrolment(self.tenant_id, flow_id, selection_id)
        return {"status": "accepted", "selection_id": selection_id}

    def list_participants(
        self, flow_id: str, *, status: str | None, limit: int, cursor: str | None
    ) -> Page[ParticipantOut]:
        self._flow(flow_id)
        after = decode_cursor(cursor)
        if status:
            found, last = store.page_by_status(
                self.tenant_id, flow_id, status, limit=limit, after=after
            )
        else:
            found, last = store.page(self.tenant_id, flow_id, limit=limit, after=after)
        return Page[ParticipantOut](items=[_out(p) for p in found], next=encode_cursor(last))

    def detail(self, flow_id: str, participant_id: str) -> ParticipantDetail:
        p = self._require(flow_id, participant_id)
        history = [
            _history_entry(seq, e) for seq, e in store.history(self.tenant_id, p.participant_id)
        ]
        return ParticipantDetail(**_out(p).model_dump(), history=history)

    def erase(self, flow_id: str, participant_id: str) -> None:
        store.erase(self._require(flow_id, participant_id))

    def retry(self, flow_id: str, participant_id: str) -> ParticipantOut:
        """A participant that dropped out because a step failed goes back onto that step."""
        p = self._require(flow_id, participant_id)
        flow = self._flow(flow_id)
        if p.status != "dropped_out" or p.data.get("dropout_reason") != "step_failed":
            raise ConflictError("Only a participant dropped out with step_failed can be retried.")
        if FlowStatus(flow.status) not in LIVE:
            raise ConflictError("The flow is not running or paused.")
        now = runtime.clock()
        data = {k: v for k, v in p.data.items() if k not in ("dropout_reason", "wait")}
        back = replace(
            p,
            status="active",
            seq=p.seq + 1,
            generation=flow.generation,
            data=data | {"updated_at": iso(now), "parked": flow.status == FlowStatus.PAUSED},
        )
        try:
            store.reactivate(
                p.seq, back, {"event": "retried", "at": iso(now), "step_id": p.step_id}
            )
        except AlreadyParticipatingError as error:
            raise ConflictError("The contact is in this flow again already.") from error
        dispatch(back, now)
        return _out(back)

    def stats(self, flow_id: str) -> FlowStatsOut:
        """Counted on the participants' status index and the journal's step indexes: exact,
        and read in proportion to the flow's participants (no counters kept yet)."""
        from chalicelib.engine.worker import definition_of

        flow = self._flow(flow_id)
        counts = store.count_by_status(self.tenant_id, flow_id)
        enrolled = sum(counts.values())
        reasons: dict[str, int] = {}
        after: str | None = None
        while True:
            found, after = store.page_by_status(
                self.tenant_id, flow_id, "dropped_out", limit=500, after=after
            )
            for p in found:
                reason = p.data.get("dropout_reason", "unknown")
                reasons[reason] = reasons.get(reason, 0) + 1
            if after is None:
                break
        on_step = store.active_by_step(self.tenant_id, flow_id)
        definition = definition_of(self.tenant_id, flow_id, flow.version)
        steps = {}
        engaged = counters.of_flow(self.tenant_id, flow_id)
        for step in walk(definition.steps):
            figures = store.step_figures(self.tenant_id, flow_id, step.id or "")
            outcomes = figures["reasons"]
            steps[step.id or ""] = StepStats(
                entered=figures["entered"],
                on_step=on_step.get(step.id or "", 0),
                skipped=figures["outcomes"].get("skipped", 0),
                skipped_by_reason={
                    k.removeprefix("skipped:"): n
                    for k, n in outcomes.items()
                    if k.startswith("skipped:")
                },
                failed=outcomes.get("dropped_out:step_failed", 0),
                **_message_figures(step.type, figures, engaged.get(step.id or "", {})),
            )
        return FlowStatsOut(
            enrolled=enrolled,
            in_progress=counts["active"] + counts["queued"],
            completed=counts["finished"] + counts["succeeded"],
            succeeded=counts["succeeded"],
            success_rate=round(counts["succeeded"] / enrolled, 4) if enrolled else 0.0,
            by_status=counts,
            dropout_reasons=reasons,
            steps=steps,
        )
