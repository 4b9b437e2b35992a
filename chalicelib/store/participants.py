"""Participants, their journal, and the guard that makes one live participation per contact.

A participant moves only by :func:`commit`: one transaction that puts the participant
conditioned on the ``seq`` the worker read, puts the journal item of that step, and adds the
step's own writes. A lost condition means someone else moved it first (a no-op, not an error).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.projection import create_projection_expression
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.store.base import (
    ConditionFailedError,
    Write,
    _connection,
    dumps,
    error_code,
    key,
    loads,
    transaction,
)
from chalicelib.store.flows import FlowRecord
from chalicelib.store.models import (
    CrmItem,
    FlowItem,
    JournalItem,
    ParticipantGuardItem,
    ParticipantItem,
)
from chalicelib.store.records import Record

STATUSES = ("queued", "active", "finished", "succeeded", "dropped_out", "cancelled")
LIVE_STATUSES = frozenset({"queued", "active"})
PARTICIPANT_PREFIX = "par_"


class AlreadyParticipatingError(Exception):
    """The contact has a queued or active participation of this flow."""


@dataclass
class Participant:
    tenant_id: str
    flow_id: str
    participant_id: str
    contact_id: str
    status: str
    step_id: str | None = None
    seq: int = 0
    generation: int = 0
    wait_until: str | None = None
    wake_bucket: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


def status_key(tenant_id: str, flow_id: str, status: str) -> str:
    return key(tenant_id, flow_id, status)


def _live_guard(tenant_id: str, flow_id: str, contact_id: str) -> ParticipantGuardItem:
    return ParticipantGuardItem(key(tenant_id, flow_id), f"#live#{contact_id}")


def _participant(item: ParticipantItem) -> Participant:
    tenant_id, flow_id = item.pk.split("#", 1)
    return Participant(
        tenant_id=tenant_id,
        flow_id=flow_id,
        participant_id=item.participant_id,
        contact_id=item.contact_id,
        status=item.status,
        step_id=item.step_id,
        seq=int(item.seq),
        generation=int(item.generation),
        wait_until=item.wait_until,
        wake_bucket=item.wake_bucket,
        data=loads(item.data),
    )


def _item(p: Participant) -> ParticipantItem:
    return ParticipantItem(
        key(p.tenant_id, p.flow_id),
        p.participant_id,
        contact_id=p.contact_id,
        status=p.status,
        status_key=status_key(p.tenant_id, p.flow_id, p.status),
        contact_key=key(p.tenant_id, p.contact_id),
        step_id=p.step_id,
        seq=p.seq,
        generation=p.generation,
        wait_until=p.wait_until,
        wake_bucket=p.wake_bucket,
        data=dumps(p.data),
    )


def get(tenant_id: str, flow_id: str, participant_id: str) -> Participant | None:
    """The participant, read consistently, or None."""
    if not participant_id.startswith(PARTICIPANT_PREFIX):
        return None
    try:
        item = ParticipantItem.get(key(tenant_id, flow_id), participant_id, consistent_read=True)
    except DoesNotExist:
        return None
    return _participant(item)


@dataclass(frozen=True)
class StepReads:
    """What a step message needs read before anything else, read together: the participant,
    its flow's state (as ``flows.state``: no definition) and the contact the message names."""

    participant: Participant | None
    flow: FlowRecord | None
    contact_id: str
    contact: Record | None


# The flow attributes a step reads (``flows.state``'s): the definition is cached per version.
_FLOW_STATE = [FlowItem.tenant_id, FlowItem.flow_id, FlowItem.status, FlowItem.version,
               FlowItem.generation]  # fmt: skip
# BatchGetItem leaves keys unprocessed when DynamoDB throttles or the answer passes 16 MB; they
# are asked again, after a short pause that doubles, this many times before the call fails.
BATCH_GET_TRIES = 6


class UnprocessedKeysError(Exception):
    """DynamoDB kept leaving keys of a BatchGetItem unprocessed (throttled throughout)."""


def get_for_step(tenant_id: str, flow_id: str, participant_id: str, contact_id: str) -> StepReads:
    """The participant, its flow's state and the contact ``contact_id``, in ONE consistent
    BatchGetItem over the three tables (instead of three GetItems). Nothing is read for an id
    that is not a participant's (as :func:`get`)."""
    if not participant_id.startswith(PARTICIPANT_PREFIX):
        return StepReads(None, None, contact_id, None)
    placeholders: dict[str, str] = {}
    flow_projection = create_projection_expression(_FLOW_STATE, placeholders)
    found = batch_get(
        {
            ParticipantItem: {
                "Keys": [_key(ParticipantItem, key(tenant_id, flow_id), participant_id)],
                "ConsistentRead": True,
            },
            FlowItem: {
                "Keys": [_key(FlowItem, tenant_id, flow_id)],
                "ConsistentRead": True,
                "ProjectionExpression": flow_projection,
                "ExpressionAttributeNames": {v: k for k, v in placeholders.items()},
            },
            CrmItem: {
                "Keys": [_key(CrmItem, key(tenant_id, "contact"), contact_id)],
                "ConsistentRead": True,
            },
        }
    )
    participants = found[ParticipantItem]
    flows = found[FlowItem]
    contacts = found[CrmItem]
    flow = None
    if flows:
        item = FlowItem.from_raw_data(flows[0])
        flow = FlowRecord(item.flow_id, item.status, int(item.version), int(item.generation), {})
    contact = None
    if contacts:
        crm = CrmItem.from_raw_data(contacts[0])
        contact = Record(id=crm.sk, data=loads(crm.data), version=int(crm.version))
    return StepReads(
        participant=_participant(ParticipantItem.from_raw_data(participants[0]))
        if participants
        else None,
        flow=flow,
        contact_id=contact_id,
        contact=contact,
    )


def _key(model: type[Model], hash_key: str, range_key: str) -> dict[str, Any]:
    """A string key of ``model`` as DynamoDB takes it."""
    attributes: list[Attribute[Any]] = [
        model._hash_key_attribute(),  # type: ignore[no-untyped-call]
        model._range_key_attribute(),  # type: ignore[no-untyped-call]
    ]
    return {
        a.attr_name: {a.attr_type: v}
        for a, v in zip(attributes, (hash_key, range_key), strict=True)
    }


def batch_get(
    requests: dict[type[Model], dict[str, Any]], *, tries: int = BATCH_GET_TRIES
) -> dict[type[Model], list[dict[str, Any]]]:
    """One BatchGetItem over several tables (``requests``: per model, the table's request as
    DynamoDB takes it: ``Keys``, ``ConsistentRead``, a projection), through the store's
    connection; the raw items found, per model. Unprocessed keys are asked again (with their
    own request, as DynamoDB hands them back) until none is left, and UnprocessedKeysError is
    raised after ``tries`` calls that each left some."""
    tables = {model.Meta.table_name: model for model in requests}
    found: dict[type[Model], list[dict[str, Any]]] = {model: [] for model in requests}
    pending = {model.Meta.table_name: request for model, request in requests.items()}
    for attempt in range(tries):
        if attempt:
            time.sleep(0.025 * 2 ** (attempt - 1))
        answer = _connection().dispatch("BatchGetItem", {"RequestItems": pending})
        for table, items in (answer.get("Responses") or {}).items():
            found[tables[table]] += items
        pending = answer.get("UnprocessedKeys") or {}
        if not pending:
            return found
    raise UnprocessedKeysError(f"keys left unprocessed after {tries} tries: {sorted(pending)}")


def create(p: Participant, journal: dict[str, Any]) -> None:
    """A new participant (at ``seq`` 1; journal item 0 records the enrolment) with its live
    guard; AlreadyParticipatingError when the contact has a live participation of the flow, so
    concurrent proposals make exactly one."""
    try:
        with transaction() as tx:
            tx.save(_item(p), condition=ParticipantItem.participant_id.does_not_exist())
            tx.save(
                _live_guard(p.tenant_id, p.flow_id, p.contact_id),
                condition=ParticipantGuardItem.participant_id.does_not_exist(),
            )
            tx.save(_journal_item(p, p.seq - 1, journal))
    except ConditionFailedError as error:
        raise AlreadyParticipatingError(p.contact_id) from error


def reactivate(before_seq: int, after: Participant, journal: dict[str, Any]) -> None:
    """Put a dropped-out participant back (retry), taking the live guard again."""
    try:
        with transaction() as tx:
            tx.save(_item(after), condition=ParticipantItem.seq == before_seq)
            tx.save(
                _live_guard(after.tenant_id, after.flow_id, after.contact_id),
                condition=ParticipantGuardItem.participant_id.does_not_exist(),
            )
            tx.save(_journal_item(after, before_seq, journal))
    except ConditionFailedError as error:
        raise AlreadyParticipatingError(after.contact_id) from error


def commit(
    before_seq: int,
    after: Participant,
    journal: dict[str, Any],
    *,
    writes: Iterable[Write] = (),
    claimed: bool = False,
) -> None:
    """Move a participant read at ``before_seq`` to ``after`` in one transaction with the journal
    item of ``before_seq`` and the step's own writes. Leaving the live statuses releases the
    guard. ConditionFailedError when it moved meanwhile (or the journal item is taken)."""
    with transaction() as tx:
        _move(tx, before_seq, after, journal, claimed=claimed)
        for write in writes:
            write(tx)


def _move(
    tx: TransactWrite,
    before_seq: int,
    after: Participant,
    journal: dict[str, Any],
    *,
    claimed: bool = False,
) -> None:
    """The writes of one move: the participant (if still at ``before_seq``), its journal item,
    and the live guard's release when it leaves the live statuses."""
    tx.save(_item(after), condition=ParticipantItem.seq == before_seq)
    journal_item = _journal_item(after, before_seq, journal)
    if claimed:
        tx.save(journal_item, condition=JournalItem.seq.exists())
    else:
        tx.save(journal_item, condition=JournalItem.seq.does_not_exist())
    if not after.live:
        tx.delete(_live_guard(after.tenant_id, after.flow_id, after.contact_id))


# A move writes at most three items, and a transaction holds at most 100.
MOVES_PER_TRANSACTION = 33

Move = tuple[int, Participant, dict[str, Any]]
"""One move for :func:`commit_many`: the ``seq`` it was read at, the participant after, the
journal entry."""


def commit_many(moves: list[Move]) -> list[bool]:
    """Commit many moves, each exactly as :func:`commit` would (no step writes), in
    transactions of up to MOVES_PER_TRANSACTION participants instead of one each (a fan-out
    moves a page of participants: 3 calls instead of 100). Returns, per move, whether it was
    committed. A transaction that loses any condition (or conflicts) is cancelled as a whole,
    and its moves are then committed one by one: each wins or loses exactly as on its own."""
    done: list[bool] = []
    for start in range(0, len(moves), MOVES_PER_TRANSACTION):
        chunk = moves[start : start + MOVES_PER_TRANSACTION]
        guards = {(after.flow_id, after.contact_id) for _, after, _ in chunk}
        if len(chunk) > 1 and len(guards) == len(chunk):  # one action per item, as required
            try:
                with transaction() as tx:
                    for before_seq, after, journal in chunk:
                        _move(tx, before_seq, after, journal)
            except ConditionFailedError:
                pass
            else:
                done += [True] * len(chunk)
                continue
        for before_seq, after, journal in chunk:
            try:
                commit(before_seq, after, journal)
            except ConditionFailedError:
                done.append(False)
            else:
                done.append(True)
    return done


# Journal entries whose move puts the participant on ``step_id``: it *entered* that step.
_ENTERING = frozenset({"done", "skipped", "branch"})
_ENTERING_EVENTS = frozenset({"enrolled", "started", "step_removed", "retried"})


def _journal_item(p: Participant, seq: int, entry: dict[str, Any]) -> JournalItem:
    item = JournalItem(key(p.tenant_id, p.participant_id), seq, data=dumps(entry))
    entering = entry.get("outcome") in _ENTERING or entry.get("event") in _ENTERING_EVENTS
    if entering and p.status == "active" and p.step_id:
        item.entered_key = key(p.tenant_id, p.flow_id, p.step_id)
    if entry.get("outcome") and entry.get("step_id") and "state" not in entry:
        item.result_key = key(p.tenant_id, p.flow_id, entry["step_id"])
        item.result = "#".join(
            [entry["outcome"], entry.get("reason") or "", p.participant_id, str(seq)]
        )
    return item


def step_figures(tenant_id: str, flow_id: str, step_id: str) -> dict[str, Any]:
    """How many participants entered a step, and its outcomes by kind and reason."""
    step_key = key(tenant_id, flow_id, step_id)
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for item in JournalItem.by_result.query(step_key):
        outcome, reason = (item.result or "").split("#")[:2]
        outcomes[outcome] += 1
        if reason:
            reasons[f"{outcome}:{reason}"] += 1
    return {
        "entered": JournalItem.by_entered.count(step_key),
        "outcomes": dict(outcomes),
        "reasons": dict(reasons),
    }


def claim(p: Participant, entry: dict[str, Any]) -> bool:
    """Claim the journal item of the participant's current ``seq`` before an outside effect.
    False when it is claimed already (another worker has it, or a run died after claiming)."""
    from pynamodb.exceptions import PutError

    try:
        _journal_item(p, p.seq, entry).save(condition=JournalItem.seq.does_not_exist())
    except PutError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release_claim(p: Participant) -> None:
    """Withdraw the claim of the participant's current seq (its effect did not happen)."""
    from pynamodb.exceptions import DeleteError

    try:
        JournalItem(key(p.tenant_id, p.participant_id), p.seq).delete(
            condition=JournalItem.seq.exists()
        )
    except DeleteError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


def journal_entry(tenant_id: str, participant_id: str, seq: int) -> dict[str, Any] | None:
    try:
        item = JournalItem.get(key(tenant_id, participant_id), seq, consistent_read=True)
    except DoesNotExist:
        return None
    return loads(item.data)


def record_journal(p: Participant, seq: int, entry: dict[str, Any]) -> None:
    """Overwrite one journal item (a claim that now knows its effect)."""
    _journal_item(p, seq, entry).save()


def history(tenant_id: str, participant_id: str) -> list[tuple[int, dict[str, Any]]]:
    """Every journal item of a participant, oldest first."""
    return [
        (int(item.seq), loads(item.data))
        for item in JournalItem.query(key(tenant_id, participant_id), consistent_read=True)
    ]


def page_by_status(
    tenant_id: str, flow_id: str, status: str, *, limit: int, after: str | None
) -> tuple[list[Participant], str | None]:
    """One page of the flow's participants in a status: their keys by the ``by_status`` index,
    then the participants themselves, read consistently; one that has left the status since the
    index saw it is left out (the cursor still goes on from the page's last key)."""
    sk = status_key(tenant_id, flow_id, status)
    start = (
        {
            "status_key": {"S": sk},
            "participant_id": {"S": after},
            "pk": {"S": key(tenant_id, flow_id)},
        }
        if after
        else None
    )
    result = ParticipantItem.by_status.query(sk, limit=limit, last_evaluated_key=start)
    keys = [(item.pk, item.participant_id) for item in result]
    last = result.last_evaluated_key
    found = [p for p in _by_keys(keys) if p.status == status]
    return found, str(last["participant_id"]["S"]) if last else None


def _by_keys(keys: list[tuple[str, str]]) -> list[Participant]:
    """The participants of these keys that still exist, in the keys' order, read consistently
    (BatchGetItem, 100 keys a call; no call for no keys)."""
    if not keys:
        return []
    found = {
        (item.pk, item.participant_id): _participant(item)
        for item in ParticipantItem.batch_get(keys, consistent_read=True)
    }
    return [found[k] for k in keys if k in found]


def page(
    tenant_id: str, flow_id: str, *, limit: int, after: str | None
) -> tuple[list[Participant], str | None]:
    """One page of all the flow's participants, oldest first."""
    pk = key(tenant_id, flow_id)
    result = ParticipantItem.query(
        pk,
        ParticipantItem.participant_id.startswith(PARTICIPANT_PREFIX),
        limit=limit,
        consistent_read=True,
        last_evaluated_key={"pk": {"S": pk}, "participant_id": {"S": after}} if after else None,
    )
    found = [_participant(item) for item in result]
    last = result.last_evaluated_key
    return found, str(last["participant_id"]["S"]) if last else None


def job_message_done(tenant_id: str, flow_id: str, step: str) -> bool:
    """Whether a fan-out job's message (``step``: its job id, phase and cursor) ran to its end."""
    try:
        ParticipantGuardItem.get(key(tenant_id, flow_id), f"#job#{step}", consistent_read=True)
    except DoesNotExist:
        return False
    return True


# How long a job's message is remembered as done: longer than any copy of it can still arrive
# (SQS keeps a message 14 days at most, and its dead-letter queue as long again).
JOB_MARKER_TTL = timedelta(days=28)


def mark_job_message_done(tenant_id: str, flow_id: str, step: str, now: datetime) -> None:
    """Record that a fan-out job's message ran to its end (an item beside the participants,
    which DynamoDB's TTL deletes after ``JOB_MARKER_TTL``)."""
    ParticipantGuardItem(
        key(tenant_id, flow_id), f"#job#{step}", expires_at=now + JOB_MARKER_TTL
    ).save()


def of_contact(tenant_id: str, contact_id: str, flow_id: str | None = None) -> list[Participant]:
    """The contact's participations: of one flow, or of every flow."""
    condition = ParticipantItem.pk == key(tenant_id, flow_id) if flow_id else None
    items = ParticipantItem.by_contact.query(key(tenant_id, contact_id), condition)
    return _by_keys([(item.pk, item.participant_id) for item in items])


def in_bucket(
    bucket: str, *, limit: int, after: str | None
) -> tuple[list[Participant], str | None]:
    """One page of the participants waiting in a wake bucket."""
    condition = ParticipantItem.participant_id > after if after else None
    result = ParticipantItem.by_wake.query(bucket, condition, limit=limit)
    found = [_participant(item) for item in result]
    last = result.last_evaluated_key
    return found, str(last["participant_id"]["S"]) if last else None


def erase(p: Participant) -> None:
    """Delete a participation and its journal ("remove from flow")."""
    with transaction() as tx:
        tx.delete(_item(p), condition=ParticipantItem.seq == p.seq)
        if p.live:
            tx.delete(_live_guard(p.tenant_id, p.flow_id, p.contact_id))
    with JournalItem.batch_write() as batch:
        for item in JournalItem.query(key(p.tenant_id, p.participant_id)):
            batch.delete(item)


def count_by_status(tenant_id: str, flow_id: str) -> dict[str, int]:
    """How many participants of the flow are in each status."""
    return {
        status: ParticipantItem.by_status.count(status_key(tenant_id, flow_id, status))
        for status in STATUSES
    }


def active_by_step(tenant_id: str, flow_id: str) -> Counter[str]:
    """How many active participants stand on each step of the flow."""
    counts: Counter[str] = Counter()
    after: str | None = None
    while True:
        found, after = page_by_status(tenant_id, flow_id, "active", limit=100, after=after)
        counts.update(p.step_id for p in found if p.step_id)
        if after is None:
            return counts
