"""The step worker: run ONE step of ONE participant per message (DESIGN.md, the step protocol).

1. Read the participant (consistent). Missing, terminal or ``seq`` behind: drop the message;
   exactly one behind on a redelivery: the last run committed but may not have dispatched, so
   dispatch again.
2. Read the flow. Ended (or the participant of an older generation): cancelled. Paused: parked.
3. Checks before every step: success criteria (jump to finish), retired, excluded.
4. Run the step's handler (claiming the journal first when it has an outside effect).
5. Commit the move, the journal item and the step's writes in ONE transaction, conditioned on
   ``seq``: a lost condition means another worker moved it, and this run stops.
6. Dispatch the next message.

The participant, the flow's state and the contact are read in ONE consistent BatchGetItem
when the message names the contact (every message ``dispatch.step_message`` makes); a message
without it (sent by an earlier version) is served by a GetItem each, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from pynamodb.exceptions import PynamoDBException

from chalicelib.clock import iso, iso_ms
from chalicelib.engine import health, navigation
from chalicelib.engine.dispatch import STEP, dispatch, wake_bucket_for
from chalicelib.engine.facts import Facts
from chalicelib.engine.messages import handles
from chalicelib.engine.notifications import send_notification_email
from chalicelib.engine.outcomes import (
    Outcome,
    PermanentStepError,
    RetryableStepError,
    RunContext,
    drop_out,
    skipped,
    wait_until,
)
from chalicelib.engine.runtime import MAX_TRIES, runtime
from chalicelib.engine.success import success_met
from chalicelib.engine.window import next_opening
from chalicelib.flows.definition import FlowDefinition
from chalicelib.flows.lifecycle import FlowStatus
from chalicelib.ids import new_id
from chalicelib.steps.base import StepType
from chalicelib.steps.registry import STEP_TYPES
from chalicelib.store import activities, counters, records
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.base import ConditionFailedError
from chalicelib.store.flows import FlowRecord
from chalicelib.store.participants import Participant

log = logging.getLogger("flows.engine")

FINISHED = frozenset({"finished", "succeeded"})
# A claim older than this belongs to a run that died (longer than a Lambda may run).
STALE_CLAIM = timedelta(minutes=15)


@lru_cache(maxsize=256)
def definition_of(tenant_id: str, flow_id: str, version: int) -> FlowDefinition:
    """A flow's definition at one version, parsed once per container."""
    record = flow_store.get_version(tenant_id, flow_id, version)
    assert record is not None, f"flow {flow_id} has no version {version}"
    return FlowDefinition.model_validate(record.definition, strict=False)


@handles(STEP)
def on_step_message(body: dict[str, Any]) -> None:
    run_step(body, receive_count=int(body.get("_receive_count", 1)))


def run_step(message: dict[str, Any], *, receive_count: int = 1) -> None:
    """Process one step message (see the module's docstring for the protocol)."""
    tenant_id, flow_id = message["tenant"], message["flow"]
    reads = _first_reads(message)
    p = (
        reads.participant
        if reads is not None
        else store.get(tenant_id, flow_id, message["participant"])
    )
    if p is None:
        return
    redelivered_after_commit = p.seq == message["seq"] + 1 and receive_count > 1
    if not p.live:
        if redelivered_after_commit:
            _repair_fires(p, message["seq"])
            if p.status in FINISHED:
                _repair_hand_off(p)
        return
    if p.seq != message["seq"]:
        if redelivered_after_commit:
            dispatch(p)
            _repair_fires(p, message["seq"])
        return
    flow = reads.flow if reads is not None else flow_store.state(tenant_id, flow_id)
    if flow is None or p.generation < flow.generation or flow.status == FlowStatus.NOT_RUNNING:
        _commit(p, replace(p, status="cancelled"), {"event": "cancelled"})
        return
    if flow.status == FlowStatus.PAUSED:
        if not p.data.get("parked"):
            parked = replace(p, data=p.data | {"parked": True})
            _commit(p, parked, {"event": "parked", "step_id": p.step_id})
        return
    definition = definition_of(tenant_id, flow_id, flow.version)
    if p.status == "queued":
        _move_on(p, definition, navigation.first_step(definition), Move({"event": "started"}), flow)
        return
    # The contact read with the participant is the one to use only if it is the participant's
    # (a message always names it; if it ever did not, Facts reads the participant's own).
    same_contact = reads is not None and reads.contact_id == p.contact_id
    _run(p, flow, definition, receive_count, reads if same_contact else None)


def _first_reads(message: dict[str, Any]) -> store.StepReads | None:
    """The participant, the flow's state and the contact, in one consistent BatchGetItem, when
    the message names the contact (``dispatch.step_message``); None for a message of an
    earlier version without it: then each is read on its own, as before."""
    contact_id = message.get("contact")
    if not isinstance(contact_id, str) or not contact_id:
        return None
    return store.get_for_step(
        message["tenant"], message["flow"], message["participant"], contact_id
    )


def _repair_fires(p: Participant, seq: int) -> None:
    """A run that committed may have died before firing the triggers its step's effect fires
    (added to a selection, a request created): fire them again; the gate refuses a contact
    that entered already."""
    entry = store.journal_entry(p.tenant_id, p.participant_id, seq) or {}
    if entry.get("fires"):
        _fire(p, entry["fires"])


def _fire(p: Participant, fires: list[list[str | None]]) -> None:
    """Fire the triggers of a step's effect, one enrolment deeper than this participant."""
    from chalicelib.triggers.fire import fire_all
    from chalicelib.triggers.kinds import fired_from

    depth = int(p.data.get("depth", 0)) + 1
    fire_all(p.tenant_id, fired_from(fires), p.contact_id, depth=depth, cause=f"flow:{p.flow_id}")


def _repair_hand_off(p: Participant) -> None:
    """A run that committed the Finish may have died before handing the contact on; hand it
    on again (the target flow's gate refuses a second enrolment)."""
    from chalicelib.engine.enrol import hand_off

    flow = flow_store.state(p.tenant_id, p.flow_id)
    if flow is not None:
        hand_off(p, flow)


def _run(
    p: Participant,
    flow: FlowRecord,
    definition: FlowDefinition,
    receive_count: int,
    reads: store.StepReads | None = None,
) -> None:
    """Run the participant's step; ``reads``: the first reads, holding the participant's own
    contact (None: Facts reads it when the step needs it)."""
    now = runtime.clock()
    facts = Facts(p.tenant_id, p.contact_id)
    if reads is not None:
        facts.contact_record = reads.contact  # read already (None: it does not exist)
    met = bool(p.data.get("success_met")) or success_met(definition.success, facts, p.data)
    newly_met = met and not p.data.get("success_met")
    if newly_met:
        p = replace(p, data=p.data | {"success_met": True, "succeeded_at": iso(now)})
    if met and definition.success.jump_to_finish:
        _finish(p, flow, Move({"event": "success", "jump_to_finish": True}))
        return
    contact = facts.contact
    if contact is None or contact.get("retired"):
        reason = "contact_deleted" if contact is None else "retired"
        _commit(p, _dropped(p, reason), {"event": "dropped_out", "reason": reason})
        return
    if any(facts.is_member(s) for s in definition.exclusion_selection_ids):
        _commit(p, _dropped(p, "excluded"), {"event": "dropped_out", "reason": "excluded"})
        return
    place = navigation.find(definition, p.step_id)
    if place is None:
        _step_gone(p, flow, definition)
        return
    step_type = STEP_TYPES[place.step.type]
    ctx = RunContext(p.tenant_id, p.flow_id, definition, p, place.step, now, facts)
    result = _outcome(ctx, step_type, receive_count, definition, now)
    if result is None:
        return
    outcome, claimed = result
    entry = {
        "step_id": place.step.id,
        "type": place.step.type,
        "outcome": outcome.kind,
        "at": iso(now),
    }
    entry |= {
        k: v for k, v in {"reason": outcome.reason, "branch_id": outcome.branch_id}.items() if v
    }
    entry |= outcome.detail
    move = Move(entry, outcome, claimed)
    if outcome.kind in ("done", "skipped"):
        _move_on(p, definition, place.next_id, move, flow)
    elif outcome.kind == "branch":
        start = navigation.branch_start(place.step, outcome.branch_id or "")
        _move_on(p, definition, start, move, flow)
    elif outcome.kind == "dropped_out":
        _commit(p, _dropped(p, outcome.reason or "dropped_out"), move)
    else:
        _wait(p, place.step.id or "", outcome.until, move, now, news=newly_met)


@dataclass(frozen=True)
class Move:
    """What a commit writes besides the participant: the journal entry, the step's outcome
    (its writes), and whether the journal item was claimed before an outside effect."""

    entry: dict[str, Any]
    outcome: Outcome | None = None
    claimed: bool = False


def _outcome(
    ctx: RunContext,
    step_type: StepType,
    receive_count: int,
    definition: FlowDefinition,
    now: datetime,
) -> tuple[Outcome, bool] | None:
    """The step's outcome and whether its journal item was claimed; None: leave it to the
    worker that holds the claim."""
    if step_type.run is None:
        return drop_out("step_failed", error=f"the {step_type.name} step cannot run yet"), False
    window = definition.send_window
    if step_type.sends_message and window is not None:
        opening = next_opening(window, definition.timezone, now)
        if opening > now:
            return wait_until(opening, send_window=True), False
    claim: _Claim | None = None
    if step_type.outside_effect:
        earlier = _earlier_effect(ctx, now)
        if earlier is not None:
            return earlier, True
        # The step calls ctx.outside() right before its effect; the claim is taken there, so
        # a failure in anything the step does before it is a plain retry.
        claim = ctx.on_effect = _Claim(ctx, now)
    try:
        outcome: Outcome = step_type.run(ctx, ctx.step.settings)
    except PermanentStepError as error:
        outcome = drop_out("step_failed", error=str(error))
    except Exception as error:
        # A passing fault of AWS (throttling, a 5xx, a timeout) never drops the participant:
        # the message comes back until it goes through (past the queue's maxReceiveCount, the
        # DLQ and the sweeper bring it back). Only a step's own error counts towards MAX_TRIES.
        last = receive_count >= MAX_TRIES and not transient(error)
        taken = claim is not None and claim.taken
        sent_maybe = taken and not _not_sent(error)
        if taken and not last:
            if sent_maybe:
                # It may have happened (a timeout after the call): never try it again.
                store.record_journal(
                    ctx.participant,
                    ctx.participant.seq,
                    {"state": "uncertain", "claimed_at": iso(now), "error": type(error).__name__},
                )
            else:
                _release(ctx.participant)  # it did not happen: the retry may
        if not last:
            raise
        log.exception("step failed after %d tries", receive_count)
        outcome = (
            skipped("effect_uncertain")
            if sent_maybe
            else drop_out("step_failed", error=f"{type(error).__name__}: {error}")
        )
    taken = claim is not None and claim.taken
    if taken:
        # Remember the effect before committing: a crash now must not repeat it.
        store.record_journal(
            ctx.participant,
            ctx.participant.seq,
            {"state": "effect", "claimed_at": iso(now), "effect": _freeze(outcome)},
        )
    return outcome, taken


class _Claim:
    """``ctx.outside()`` of an outside-effect step: claim the journal item of this seq once,
    right before the effect; a claim taken meanwhile by another run is a retryable error."""

    def __init__(self, ctx: RunContext, now: datetime) -> None:
        self.ctx, self.now, self.taken = ctx, now, False

    def __call__(self) -> None:
        if self.taken:
            return
        p = self.ctx.participant
        run = new_id("run")
        entry = {"state": "claimed", "claimed_at": iso(self.now), "step_id": self.ctx.step.id,
                 "run": run}  # fmt: skip
        try:
            claimed = store.claim(p, entry)
        except Exception as error:
            if not transient(error):
                raise
            # The write may have happened (a timeout after it): whose claim is there?
            claimed = _read_back(p, run)
        if not claimed:
            raise RetryableStepError("another run claimed this step's effect first")
        self.taken = True


def _read_back(p: Participant, run: str, tries: int = 3) -> bool:
    """Whether the claim of ``p``'s seq is this run's; a few tries, then the last error."""
    for attempt in range(tries):
        try:
            entry = store.journal_entry(p.tenant_id, p.participant_id, p.seq) or {}
        except Exception:
            if attempt == tries - 1:
                raise
            continue
        return entry.get("run") == run
    return False


def _earlier_effect(ctx: RunContext, now: datetime) -> Outcome | None:
    """What an earlier run of this seq left: its effect (commit that), an uncertain one or a
    claim of a run that died (skip: never repeat it), a fresh claim (another run is at it:
    retry later), or nothing (None: run the step)."""
    p = ctx.participant
    entry = store.journal_entry(p.tenant_id, p.participant_id, p.seq)
    if entry is None:
        return None
    if entry.get("state") == "effect":
        return _thaw(entry["effect"])
    if entry.get("state") == "uncertain":
        return skipped("effect_uncertain")
    claimed_at = datetime.fromisoformat(entry.get("claimed_at") or iso(now))
    if now - claimed_at < STALE_CLAIM:
        # Another worker is at it; if it died, this message comes back until the claim is old.
        raise RetryableStepError("another worker holds this step's claim")
    # The run that claimed died without saying whether the effect happened: never repeat it.
    return skipped("effect_uncertain")


def _release(p: Participant, tries: int = 3) -> None:
    """Withdraw a claim whose effect did not happen, trying a few times: a claim left behind
    turns into "effect uncertain", and the message would then never be sent."""
    for attempt in range(tries):
        try:
            store.release_claim(p)
            return
        except Exception:
            if attempt == tries - 1:
                raise


# Errors that say the call was refused before it did anything: the effect did not happen.
_REFUSED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


# Server-side failures: the call may or may not have taken effect, and a later try may pass.
_SERVER_CODES = frozenset(
    {"InternalServerError", "InternalFailure", "InternalError", "ServiceUnavailable"}
)


def _cause(error: Exception) -> Exception:
    """The botocore error under a PynamoDB one (PynamoDB wraps what botocore raises)."""
    cause = getattr(error, "cause", None) if isinstance(error, PynamoDBException) else None
    return cause if isinstance(cause, Exception) else error


def transient(error: Exception) -> bool:
    """A fault of the AWS call, not of the step: a refusal, a 5xx, a lost connection."""
    error = _cause(error)
    return _not_sent(error) or isinstance(error, ReadTimeoutError | ConnectionClosedError)


def _server_error(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code in _SERVER_CODES or status >= 500


def _not_sent(error: Exception) -> bool:
    """Whether the failed call surely did not take effect: a refusal (throttling), a lost
    connection before the request, or a 5xx. A 5xx is counted here as botocore counts it: it
    retries 5xx answers itself, so retrying one adds no kind of duplicate it does not already
    risk. Only a timeout after the request went out leaves the effect uncertain."""
    error = _cause(error)
    if isinstance(error, ClientError) and _server_error(error):
        return True
    if isinstance(error, RetryableStepError | EndpointConnectionError | ConnectTimeoutError):
        return True
    return isinstance(error, ClientError) and error.response["Error"]["Code"] in _REFUSED_CODES


def _freeze(outcome: Outcome) -> dict[str, Any]:
    return {"kind": outcome.kind, "reason": outcome.reason, "detail": outcome.detail}


def _thaw(frozen: dict[str, Any]) -> Outcome:
    return Outcome(frozen["kind"], reason=frozen.get("reason"), detail=frozen.get("detail") or {})


def _wait(
    p: Participant,
    step_id: str,
    until: datetime | None,
    move: Move,
    now: datetime,
    *,
    news: bool = False,
) -> None:
    """Wait on the step. Already waiting for exactly this: nothing to do, unless there is
    ``news`` to save (success met) or the participant is still marked parked from a pause
    (a parked participant gets no message, so its wake would pass it by)."""
    wait = p.data.get("wait") or {}
    same = wait.get("step_id") == step_id and wait.get("until") == (until and iso(until))
    if same and not news and not p.data.get("parked"):
        return  # its timer (or the action) is live
    since = wait.get("since") if wait.get("step_id") == step_id else iso_ms(now)
    long_wait = until is not None and (until - now).total_seconds() > runtime.delay_limit_s
    waiting = replace(
        p,
        wait_until=iso(until) if until else None,
        wake_bucket=wake_bucket_for(p.tenant_id, p.flow_id, until) if long_wait and until else None,
        data=p.data
        | {
            "wait": {
                "step_id": step_id,
                "since": since,
                "until": iso(until) if until else None,
                "forever": until is None,
            }
        },
    )
    _commit(p, waiting, move)


def _move_on(
    p: Participant,
    definition: FlowDefinition,
    next_id: str | None,
    move: Move,
    flow: FlowRecord,
) -> None:
    if next_id is None:
        _finish(p, flow, move)
        return
    moved = replace(
        p,
        status="active",
        step_id=next_id,
        wait_until=None,
        wake_bucket=None,
        data={k: v for k, v in p.data.items() if k != "wait"} | {"flow_version": flow.version},
    )
    _commit(p, moved, move)


def _finish(p: Participant, flow: FlowRecord, move: Move) -> None:
    """Finish: succeeded when the success criteria were met on the way, else finished."""
    status = "succeeded" if p.data.get("success_met") else "finished"
    ended = replace(p, status=status, wait_until=None, wake_bucket=None)
    if _commit(p, ended, replace(move, entry=move.entry | {"finish": status})):
        from chalicelib.engine.enrol import hand_off

        hand_off(ended, flow)


def _step_gone(p: Participant, flow: FlowRecord, definition: FlowDefinition) -> None:
    """The participant's step was removed while the flow was paused: go on at the first step
    after it (in the version the participant walked) that the flow still has, else Finish."""
    version = int(p.data.get("flow_version") or flow.version)
    old = definition_of(p.tenant_id, p.flow_id, version) if version != flow.version else None
    found, next_id = (
        navigation.successor_in(old, definition, p.step_id or "") if old else (False, None)
    )
    entry = {"event": "step_removed", "step_id": p.step_id}
    _move_on(p, definition, next_id if found else None, Move(entry), flow)


def _dropped(p: Participant, reason: str) -> Participant:
    return replace(
        p,
        status="dropped_out",
        wait_until=None,
        wake_bucket=None,
        data=p.data | {"dropout_reason": reason},
    )


def _commit(before: Participant, after: Participant, move: Move | dict[str, Any]) -> bool:
    """Commit one move and dispatch the next message; False when someone else moved first."""
    if isinstance(move, dict):
        move = Move(move)
    now = runtime.clock()
    parked = move.entry.get("event") == "parked"
    moved = replace(
        after, seq=before.seq + 1, data=after.data | {"updated_at": iso(now), "parked": parked}
    )
    entry = {"at": iso(now)} | move.entry
    writes = list(move.outcome.writes) if move.outcome else []
    detail = move.outcome.detail if move.outcome else {}
    if detail.get("activity"):
        # Derived from the outcome's detail, so a commit of a remembered outside effect
        # (whose writes are not kept) records it as well; the id makes it once only.
        activity = detail["activity"] | {
            "at": iso(now),
            "flow_id": before.flow_id,
            "step_id": move.entry.get("step_id"),
        }
        activity_id = f"act_{before.participant_id}_{before.seq:06d}"
        writes.append(
            activities.append_write(before.tenant_id, before.contact_id, activity_id, activity)
        )
    if detail.get("segments"):
        step_id = str(move.entry.get("step_id"))
        writes.append(
            counters.add_write(
                before.tenant_id, before.flow_id, step_id, "segments", int(detail["segments"])
            )
        )
    notify = detail.get("notify")
    notification_id = f"ntf_{before.participant_id}_{before.seq:06d}"
    if notify:
        note = {
            "at": iso(now),
            "text": notify["text"],
            "contact_id": before.contact_id,
            "flow_id": before.flow_id,
            "step_id": move.entry.get("step_id"),
        }
        writes.append(
            records.notification_write(
                before.tenant_id, notify["associate_id"], notification_id, note
            )
        )
    if detail.get("last_sending"):
        moved = replace(moved, data=moved.data | {"last_sending": detail["last_sending"]})
    try:
        store.commit(before.seq, moved, entry, writes=writes, claimed=move.claimed)
    except ConditionFailedError as error:
        current = store.get(before.tenant_id, before.flow_id, before.participant_id)
        if current is not None and current.seq == before.seq and writes:
            # The participant did not move: one of the step's own writes lost a race (the
            # contact changed meanwhile). Run the step again on fresh data.
            raise RetryableStepError("a write of the step lost a race; retrying") from error
        log.info("lost the race for participant %s at seq %d", before.participant_id, before.seq)
        return False
    dispatch(moved, now)
    if moved.status == "dropped_out" and moved.data.get("dropout_reason") == "step_failed":
        health.count(before.tenant_id, before.flow_id, "failed", now)
        try:
            health.check(before.tenant_id, before.flow_id)
        except Exception as error:  # the next failure checks again
            log.warning("flow %s: health not checked (%s)", before.flow_id, type(error).__name__)
    if detail.get("fires"):
        _fire(before, detail["fires"])
    if notify:
        # The email to the associate is an outside effect of its own: a control job sends it
        # at most once (it claims the notification first).
        send_notification_email(before.tenant_id, notify["associate_id"], notification_id)
    return True
