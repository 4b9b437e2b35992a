"""Flows: create, read, replace, delete, versions, and the lifecycle (SPEC.md §1, §3).

Every write is conditioned on the version and status it read (STYLE.md 5), so two concurrent
edits or an edit racing a start cannot both win: the loser gets a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.api.pagination import Page, decode_cursor, encode_cursor
from chalicelib.api.problems import (
    ApiError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
    invalid,
)
from chalicelib.clock import Clock, iso, utc_now
from chalicelib.crm.models import MailingFields
from chalicelib.crm.resources import MAILING
from chalicelib.crm.service import CrmService
from chalicelib.engine.control import start_end, start_erase, start_resume
from chalicelib.flows.definition import FlowDefinition, SmsSegments, Step, positions, walk
from chalicelib.flows.lifecycle import LIVE, FlowAction, FlowStatus, next_status
from chalicelib.flows.models import Flow, FlowStats, FlowVersionInfo, FlowVersionOut
from chalicelib.flows.validation import FlowProblem, TenantContext, find_problems, s3_object_size
from chalicelib.ids import new_id
from chalicelib.messaging.segments import sms_segments
from chalicelib.steps.registry import STEP_TYPES
from chalicelib.store import flows as store
from chalicelib.store import participants
from chalicelib.store.base import ConditionFailedError
from chalicelib.store.flows import FlowRecord

SMS_STEPS = ("send_sms", "notify_sms")
MAX_VERSION_DIGITS = 18


class FlowService:
    """The flows of one tenant."""

    def __init__(
        self,
        tenant_id: str,
        *,
        clock: Clock = utc_now,
        attachment_size: Callable[[str], int | None] = s3_object_size,
    ) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.attachment_size = attachment_size

    # -- reading ---------------------------------------------------------------------------

    def get(self, flow_id: str) -> Flow:
        return self._out(self._require(flow_id))

    def list_flows(
        self, *, limit: int, cursor: str | None, status: FlowStatus | None
    ) -> Page[Flow]:
        found, last = store.list_page(
            self.tenant_id, limit=limit, after=decode_cursor(cursor), status=status
        )
        return Page[Flow](items=[self._out(r) for r in found], next=encode_cursor(last))

    def versions(self, flow_id: str, *, limit: int, cursor: str | None) -> Page[FlowVersionInfo]:
        self._require(flow_id)
        raw = decode_cursor(cursor)
        after = _version_number(raw) if raw is not None else None
        if raw is not None and after is None:
            raise invalid("cursor", "not a cursor this service issued")
        found, last = store.versions_page(self.tenant_id, flow_id, limit=limit, after=after)
        items = [
            FlowVersionInfo(version=v.version, saved_at=v.saved_at, name=v.definition["name"])
            for v in found
        ]
        return Page[FlowVersionInfo](
            items=items, next=encode_cursor(str(last) if last is not None else None)
        )

    def version(self, flow_id: str, number: str) -> FlowVersionOut:
        self._require(flow_id)
        wanted = _version_number(number)
        found = store.get_version(self.tenant_id, flow_id, wanted) if wanted is not None else None
        if found is None:
            raise NotFoundError(f"Flow {flow_id} has no version {number}.")
        return FlowVersionOut(
            version=found.version,
            saved_at=found.saved_at,
            definition=FlowDefinition.model_validate(found.definition, strict=False),
        )

    # -- writing ---------------------------------------------------------------------------

    def create(self, definition: FlowDefinition) -> Flow:
        definition.assign_ids()
        now = iso(self.clock())
        record = FlowRecord(
            flow_id=new_id("flw"),
            status=FlowStatus.NOT_RUNNING,
            version=1,
            generation=0,
            data=self._data(definition, created_at=now, updated_at=now),
        )
        store.create(self.tenant_id, record, saved_at=now)
        return self._out(record)

    def replace(self, flow_id: str, definition: FlowDefinition) -> Flow:
        """PUT: allowed while not running or paused; while paused, steps participants stand on
        may not be removed or moved (409 naming the step and the count)."""
        current = self._require(flow_id)
        status = FlowStatus(current.status)
        next_status(status, FlowAction.EDIT)
        previous = self._definition(current)
        definition.assign_ids()
        if status is FlowStatus.PAUSED:
            self._refuse_moving_occupied_steps(flow_id, previous, definition)
        self._copy_duplicated_mailings(previous, definition)
        now = iso(self.clock())
        record = FlowRecord(
            flow_id=flow_id,
            status=current.status,
            version=current.version + 1,
            generation=current.generation,
            data=self._data(definition, created_at=current.data["created_at"], updated_at=now),
        )
        live = status in LIVE
        self._save(
            current,
            record,
            now,
            before=self._trigger_keys(previous) if live else set(),
            after=self._trigger_keys(definition) if live else set(),
        )
        return self._out(record)

    def delete(self, flow_id: str) -> None:
        current = self._require(flow_id)
        next_status(FlowStatus(current.status), FlowAction.DELETE)
        try:
            store.delete(self.tenant_id, current, expected_status=current.status)
        except ConditionFailedError as error:
            raise _raced() from error
        start_erase(self.tenant_id, flow_id)

    # -- the lifecycle -------------------------------------------------------------------------

    def start(self, flow_id: str) -> Flow:
        """Start (or resume): refused with 422 while the flow has problems of severity error."""
        current = self._require(flow_id)
        after = next_status(FlowStatus(current.status), FlowAction.START)
        definition = self._definition(current)
        problems = self._problems(definition)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise UnprocessableError(
                f"The flow has {len(errors)} problem(s) to fix before it can start.",
                problems=[p.model_dump() for p in errors],
            )
        resumed = FlowStatus(current.status) in LIVE
        record = self._moved(current, after, problems=problems)
        # Failures before a (re)start do not count towards pausing it again (engine/health.py).
        record.data.pop("paused_reason", None)
        record.data["health_since"] = iso(self.clock())
        self._save(
            current,
            record,
            iso(self.clock()),
            before=self._trigger_keys(definition) if resumed else set(),
            after=self._trigger_keys(definition),
            new_version=False,
        )
        if resumed:
            start_resume(self.tenant_id, flow_id)
        return self._out(record, with_stats=False)

    def pause(self, flow_id: str) -> Flow:
        current = self._require(flow_id)
        record = self._moved(current, next_status(FlowStatus(current.status), FlowAction.PAUSE))
        keys = self._trigger_keys(self._definition(current))
        self._save(current, record, iso(self.clock()), before=keys, after=keys, new_version=False)
        return self._out(record, with_stats=False)

    def auto_pause(self, flow_id: str, reason: dict[str, Any]) -> bool:
        """Pause a running flow by itself (engine/health.py), saying why; False when it is
        not running any more (paused or ended meanwhile)."""
        current = self._require(flow_id)
        if current.status != FlowStatus.RUNNING:
            return False
        record = self._moved(current, FlowStatus.PAUSED)
        record.data["paused_reason"] = reason
        keys = self._trigger_keys(self._definition(current))
        try:
            self._save(
                current, record, iso(self.clock()), before=keys, after=keys, new_version=False
            )
        except ApiError:
            return False  # it moved meanwhile
        return True

    def end(self, flow_id: str) -> Flow:
        """End: triggers stop at once; the generation moves on, so every participant of the
        ended run is cancelled and a restart only takes new ones."""
        current = self._require(flow_id)
        record = self._moved(current, next_status(FlowStatus(current.status), FlowAction.END))
        record.generation = current.generation + 1
        keys = self._trigger_keys(self._definition(current))
        self._save(current, record, iso(self.clock()), before=keys, after=set(), new_version=False)
        start_end(self.tenant_id, flow_id, record.generation)
        return self._out(record, with_stats=False)

    # -- rules -------------------------------------------------------------------------------------

    def _require(self, flow_id: str) -> FlowRecord:
        record = store.get(self.tenant_id, flow_id)
        if record is None:
            raise NotFoundError(f"No flow {flow_id}.")
        return record

    def _definition(self, record: FlowRecord) -> FlowDefinition:
        return FlowDefinition.model_validate(record.data["definition"], strict=False)

    def _problems(self, definition: FlowDefinition) -> list[FlowProblem]:
        ctx = TenantContext(self.tenant_id, definition, attachment_size=self.attachment_size)
        return find_problems(ctx)

    def _data(
        self, definition: FlowDefinition, *, created_at: str, updated_at: str
    ) -> dict[str, Any]:
        for step in walk(definition.steps):
            _set_segments(step)
        return {
            "definition": definition.dump(),
            "problems": [p.model_dump() for p in self._problems(definition)],
            "created_at": created_at,
            "updated_at": updated_at,
        }

    def _moved(
        self, current: FlowRecord, status: FlowStatus, *, problems: list[FlowProblem] | None = None
    ) -> FlowRecord:
        data = dict(current.data) | {"updated_at": iso(self.clock())}
        if problems is not None:
            data["problems"] = [p.model_dump() for p in problems]
        return FlowRecord(
            flow_id=current.flow_id,
            status=status,
            version=current.version,
            generation=current.generation,
            data=data,
        )

    def _save(
        self,
        current: FlowRecord,
        record: FlowRecord,
        now: str,
        *,
        before: set[str],
        after: set[str],
        new_version: bool = True,
    ) -> None:
        try:
            store.save(
                self.tenant_id,
                record,
                saved_at=now,
                expected_version=current.version,
                expected_status=current.status,
                trigger_keys_before=before,
                trigger_keys_after=after,
                new_version=new_version,
            )
        except ConditionFailedError as error:
            raise _raced() from error

    def _trigger_keys(self, definition: FlowDefinition) -> set[str]:
        return {
            store.trigger_key(self.tenant_id, trigger.type, trigger.target)
            for trigger in definition.triggers
        }

    def _refuse_moving_occupied_steps(
        self, flow_id: str, before: FlowDefinition, after: FlowDefinition
    ) -> None:
        on_step = participants.active_by_step(self.tenant_id, flow_id)
        if not on_step:
            return
        old = {step.id: (step, parent) for step, parent, _ in positions(before.steps)}
        new = {step.id: (step, parent) for step, parent, _ in positions(after.steps)}
        for step_id, (step, parent) in old.items():
            count = on_step.get(step_id or "", 0)
            if step_id is None or not count or not STEP_TYPES[step.type].holds_participants:
                continue
            moved = step_id not in new or new[step_id][0].type != step.type
            moved = moved or new[step_id][1] != parent
            moved = moved or _order_among_common(before, after, step_id, parent)
            if moved:
                raise ConflictError(
                    f"Step {step_id} ({step.type}) has {count} participant(s) on it: "
                    "it cannot be removed or moved while the flow is paused."
                )
        for split in walk(before.steps):
            kept = {b.id for s in walk(after.steps) if s.id == split.id for b in s.branches or []}
            for branch in split.branches or []:
                if branch.id in kept:
                    continue
                count = sum(on_step.get(s.id or "", 0) for s in walk(branch.steps))
                if count:
                    raise ConflictError(
                        f"Branch {branch.name or branch.id} of split {split.id} has {count} "
                        "participant(s) on it: it cannot be removed while the flow is paused."
                    )

    def _copy_duplicated_mailings(self, before: FlowDefinition, after: FlowDefinition) -> None:
        """A new email step that points at a mailing another step uses gets its own copy, so the
        two can be edited apart (SPEC.md §3)."""
        old_ids = {step.id for step in walk(before.steps)}
        emails = [s for s in walk(after.steps) if s.type == "send_email"]
        crm = CrmService(self.tenant_id, self.clock)
        for step in emails:
            mailing_id = getattr(step.settings, "mailing_id", None)
            if step.id in old_ids or not mailing_id:
                continue
            shared = any(
                other is not step and getattr(other.settings, "mailing_id", None) == mailing_id
                for other in emails
            )
            if not shared:
                continue
            try:
                original = crm.get(MAILING, mailing_id)
            except NotFoundError:
                continue  # a dangling reference stays a problem, not an error
            fields = original.model_dump(include=set(MailingFields.model_fields))
            fields["name"] = f"{fields['name']} (copy)"[:200]
            copy = crm.create(MAILING, MailingFields.model_validate(fields, strict=False))
            step.settings.mailing_id = copy.id  # type: ignore[attr-defined]

    def _out(self, record: FlowRecord, *, with_stats: bool = True) -> Flow:
        """The API's view. Stats are counted on the status index: read calls include them;
        the lifecycle calls do not, so they never touch the participants."""
        counts = (
            participants.count_by_status(self.tenant_id, record.flow_id)
            if with_stats
            else dict.fromkeys(participants.STATUSES, 0)
        )
        enrolled = sum(counts.values())
        completed = counts["finished"] + counts["succeeded"]
        stats = FlowStats(
            enrolled=enrolled,
            in_progress=counts["active"] + counts["queued"],
            completed=completed,
            succeeded=counts["succeeded"],
            success_rate=round(counts["succeeded"] / enrolled, 4) if enrolled else 0.0,
            by_status=counts,
        )
        return Flow.model_validate(
            record.data["definition"]
            | {
                "id": record.flow_id,
                "status": record.status,
                "version": record.version,
                "created_at": record.data["created_at"],
                "updated_at": record.data["updated_at"],
                "problems": record.data["problems"],
                "stats": stats if with_stats else None,
                "paused_reason": record.data.get("paused_reason")
                if record.status == FlowStatus.PAUSED
                else None,
            },
            strict=False,
        )


def _set_segments(step: Step) -> None:
    text = getattr(step.settings, "text", None)
    if step.type in SMS_STEPS and text:
        counted = sms_segments(text)
        step.segments = SmsSegments(encoding=counted.encoding, count=counted.count)
    else:
        step.segments = None


def _order_among_common(
    before: FlowDefinition, after: FlowDefinition, step_id: str, parent: str
) -> bool:
    """Whether the step's place among the siblings both versions share has changed."""

    def siblings(definition: FlowDefinition) -> list[str]:
        return [s.id or "" for s, p, _ in positions(definition.steps) if p == parent]

    old, new = siblings(before), siblings(after)
    common = set(old) & set(new)
    old_order = [s for s in old if s in common]
    new_order = [s for s in new if s in common]
    return old_order.index(step_id) != new_order.index(step_id)


def _version_number(text: str) -> int | None:
    """A version number as a path or cursor writes it: ASCII digits only (``str.isdigit`` also
    takes "²", which ``int`` refuses) and short enough to be a DynamoDB number."""
    if text.isascii() and text.isdigit() and len(text) <= MAX_VERSION_DIGITS:
        return int(text)
    return None


def _raced() -> ConflictError:
    return ConflictError("The flow changed while this request ran; read it and try again.")
