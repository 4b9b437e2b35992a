"""Fan-out jobs on the control queue: resume, end, bulk enrolment, and waking a bucket.

An API call changes the flow record and posts ONE control message (O(1), never looping over
participants). A job works through participants page by page (by the status or wake index),
and after ``PAGES_PER_JOB`` pages posts its own continuation with a cursor, so no Lambda runs
out of time and each page's work is bounded.

Each job has an id (``job``), and each of its messages is known by job, phase and cursor. A
message that ran to its end is recorded, and a copy of it that comes later (SQS delivers at
least once) does nothing: without that, a duplicated message forked the job, both copies
posting their own continuations to the end, each of those forking again on the next
duplicate (the soak's 5% duplicates made enrolling 200 contacts propose each ~10 times).
Two copies running at the same moment can still both run; each item's work is idempotent, so
that costs work, not correctness.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.engine import navigation
from chalicelib.engine.dispatch import (
    WAKE,
    delete_wake_schedules,
    dispatch,
    dispatch_many,
    step_message,
)
from chalicelib.engine.enrol import EnrolmentRefusedError, propose
from chalicelib.engine.messages import handles, send, send_batch
from chalicelib.engine.runtime import PAGE_SIZE, PAGES_PER_JOB, runtime
from chalicelib.ids import new_id
from chalicelib.store import flows as flow_store
from chalicelib.store import memberships
from chalicelib.store import participants as store
from chalicelib.store.base import ConditionFailedError
from chalicelib.store.participants import Participant

log = logging.getLogger("flows.engine")

RESUME, END, ENROL_SELECTION, ERASE = "resume", "end", "enrol_selection", "erase"

Page = tuple[list[Any], str | None]
Job = Callable[[dict[str, Any]], None]


def _once(job: Job) -> Job:
    """Run a job's message once: a copy of a message that already ran to its end is dropped."""

    @functools.wraps(job)
    def run(message: dict[str, Any]) -> None:
        name = _message_name(message)
        tenant_id, flow_id = message["tenant"], message["flow"]
        if name and store.job_message_done(tenant_id, flow_id, name):
            log.info("job %s: message %s already ran; dropped", message.get("type"), name)
            return
        job(message)
        if name:
            store.mark_job_message_done(tenant_id, flow_id, name, runtime.clock())

    return run


def _message_name(message: dict[str, Any]) -> str | None:
    if not message.get("job"):
        return None  # posted before jobs had ids
    return f"{message['job']}#{message.get('phase') or ''}#{message.get('cursor') or ''}"


def job_id() -> str:
    return new_id("job")


class StoppedError(Exception):
    """A job's page stopped at an item that failed; ``after`` is the key of the last item it
    finished (None: none of this page)."""

    def __init__(self, after: str | None, error: Exception) -> None:
        super().__init__(str(error))
        self.after = after
        self.error = error


def _paged(
    message: dict[str, Any],
    fetch: Callable[[str | None], Page],
    handle: Callable[[list[Any]], None],
) -> str | None:
    """Handle up to PAGES_PER_JOB pages; post the continuation if more remain.

    A handler that works item by item raises StoppedError when one fails: the job posts its
    continuation from the last item done and ends well, so a passing fault costs one item's
    retry, not the page's (nor, past maxReceiveCount, the job). A page that cannot be read
    after others were done ends the job the same way, continuing from that page. With nothing
    done at all, the error stands and SQS brings the message back.
    """
    cursor = message.get("cursor")
    progressed = False
    for _ in range(PAGES_PER_JOB):
        page_start = cursor
        try:
            items, cursor = fetch(cursor)
        except Exception as error:
            if not progressed:
                raise
            log.warning("job %s could not read a page (%s); continues after %s",
                        message.get("type"), type(error).__name__, page_start)  # fmt: skip
            _continue(message, page_start)
            return page_start
        try:
            handle(items)
        except StoppedError as stopped:
            if stopped.after is None and not progressed:
                raise stopped.error from stopped
            resume_at = stopped.after or page_start
            log.warning("job %s stopped by %s; continues after %s",
                        message.get("type"), type(stopped.error).__name__, resume_at)  # fmt: skip
            _continue(message, resume_at)
            return resume_at
        progressed = True
        if cursor is None:
            return None
    _continue(message, cursor)
    return cursor


def _continue(message: dict[str, Any], cursor: str | None) -> None:
    send(
        "control", {k: v for k, v in message.items() if not k.startswith("_")} | {"cursor": cursor}
    )


def start_resume(tenant_id: str, flow_id: str) -> None:
    send(
        "control",
        {"type": RESUME, "tenant": tenant_id, "flow": flow_id, "phase": "active", "job": job_id()},
    )


def start_end(tenant_id: str, flow_id: str, generation: int) -> None:
    message = {"type": END, "tenant": tenant_id, "flow": flow_id, "generation": generation,
               "job": job_id()}  # fmt: skip
    send("control", message | {"phase": "queued"})


def start_erase(tenant_id: str, flow_id: str) -> None:
    send("control", {"type": ERASE, "tenant": tenant_id, "flow": flow_id, "job": job_id()})


def start_selection_enrolment(tenant_id: str, flow_id: str, selection_id: str) -> None:
    send(
        "control",
        {
            "type": ENROL_SELECTION,
            "tenant": tenant_id,
            "flow": flow_id,
            "selection": selection_id,
            "job": job_id(),
        },
    )


@handles(RESUME)
@_once
def resume(message: dict[str, Any]) -> None:
    """Re-dispatch parked participants, then move queued ones to the first step."""
    tenant_id, flow_id, phase = message["tenant"], message["flow"], message["phase"]
    flow = flow_store.get(tenant_id, flow_id)
    if flow is None or flow.status != "running":
        return  # paused or ended again meanwhile: a later resume does the work

    def fetch(cursor: str | None) -> Page:
        return store.page_by_status(tenant_id, flow_id, phase, limit=PAGE_SIZE, after=cursor)

    def unpark(found: list[Participant]) -> None:
        # Parked: its message came while the flow was paused, so that message is owed again
        # now (``dispatch`` would skip it: it stays marked parked until the worker moves it).
        send_batch("steps", [step_message(p) for p in found if p.data.get("parked")])

    def start_queued(found: list[Participant]) -> None:
        from chalicelib.engine.worker import definition_of

        first = navigation.first_step(definition_of(tenant_id, flow_id, flow.version))
        now = runtime.clock()
        for p in found:
            moved = replace(
                p,
                status="active",
                step_id=first,
                seq=p.seq + 1,
                data=p.data
                | {"updated_at": iso(now), "flow_version": flow.version, "parked": False},
            )
            try:
                store.commit(p.seq, moved, {"event": "started", "at": iso(now)})
            except ConditionFailedError:
                continue
            dispatch(moved, now)

    finished = _paged(message, fetch, unpark if phase == "active" else start_queued) is None
    if finished and phase == "active":
        base = {k: v for k, v in message.items() if k in ("type", "tenant", "flow", "job")}
        send("control", base | {"phase": "queued"})


@handles(END)
@_once
def end(message: dict[str, Any]) -> None:
    """Cancel every queued and active participant of the ended generation, and remove the
    flow's wake schedules."""
    tenant_id, flow_id, phase = message["tenant"], message["flow"], message["phase"]
    generation = int(message["generation"])

    def fetch(cursor: str | None) -> Page:
        return store.page_by_status(tenant_id, flow_id, phase, limit=PAGE_SIZE, after=cursor)

    def cancel(found: list[Participant]) -> None:
        # Each participant moves as ``terminate(p, "cancelled")`` would move it, a page in a
        # few transactions instead of one each (a lost race skips that one, as before).
        now = runtime.clock()
        store.commit_many([_cancelled(p, now) for p in found if p.generation < generation])

    if message.get("cursor") is None and phase == "queued":
        delete_wake_schedules(tenant_id, flow_id)
    if _paged(message, fetch, cancel) is None and phase == "queued":
        base = {k: v for k, v in message.items()
                if k in ("type", "tenant", "flow", "generation", "job")}  # fmt: skip
        send("control", base | {"phase": "active"})


def _cancelled(p: Participant, now: datetime) -> store.Move:
    """The move of ``enrol.terminate(p, "cancelled")``: terminal now, its message or wake
    (if any) finds it so and is dropped."""
    data = p.data | {"updated_at": iso(now)}
    ended = replace(
        p, status="cancelled", seq=p.seq + 1, wait_until=None, wake_bucket=None, data=data
    )
    return p.seq, ended, {"event": "cancelled", "at": iso(now)}


@handles(ENROL_SELECTION)
@_once
def enrol_selection(message: dict[str, Any]) -> None:
    """Propose every member of a static selection (each through the gate)."""
    tenant_id, flow_id, selection_id = message["tenant"], message["flow"], message["selection"]

    def fetch(cursor: str | None) -> Page:
        return memberships.members_page(tenant_id, selection_id, limit=PAGE_SIZE, after=cursor)

    def enrol(found: list[Any]) -> None:
        done: str | None = None
        for member in found:
            try:
                propose(tenant_id, flow_id, member.contact_id, cause=f"selection:{selection_id}")
            except EnrolmentRefusedError as refused:
                log.info("member %s not enrolled: %s", member.contact_id, refused.reason)
            except Exception as error:
                raise StoppedError(done, error) from error
            done = member.contact_id

    _paged(message, fetch, enrol)


@handles(WAKE)
@_once
def wake(message: dict[str, Any]) -> None:
    """A wake bucket's schedule fired: dispatch everyone waiting in it."""
    bucket = message["bucket"]

    def fetch(cursor: str | None) -> Page:
        return store.in_bucket(bucket, limit=PAGE_SIZE, after=cursor)

    def due(found: list[Participant]) -> None:
        now = runtime.clock()
        # In the bucket and due: send now (the bucket is cleared when they move on).
        dispatch_many([replace(p, wake_bucket=None, wait_until=iso(now)) for p in found if p.live])

    _paged(message, fetch, due)


@handles(ERASE)
@_once
def erase(message: dict[str, Any]) -> None:
    """A deleted flow's participants and their journals go too (the flow was not running, so
    every one of them is terminal)."""
    tenant_id, flow_id = message["tenant"], message["flow"]
    if flow_store.get(tenant_id, flow_id) is not None:
        return  # a flow of this id exists again: nothing of the deleted one is left to erase

    def fetch(cursor: str | None) -> Page:
        # Always the first page: the handled ones are gone.
        return store.page(tenant_id, flow_id, limit=PAGE_SIZE, after=None)

    def wipe(found: list[Participant]) -> None:
        for p in found:
            store.erase(p)

    _paged(message, fetch, wipe)
