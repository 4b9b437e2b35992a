"""The engine under faults (DESIGN.md, the step protocol): a message delivered twice, a crash
after the commit and before the dispatch, a crash after an outside effect and before the commit,
a run that died holding a claim, two workers on one participant, a lost message the sweeper
finds, fan-out jobs that continue themselves, and pause/resume/end of 2,000 participants in
O(1) API calls. Every test ends with the engine invariant for its flow."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import QueryError

from chalicelib.aws import client
from chalicelib.clock import iso
from chalicelib.engine import control, enrol, sweeper, worker
from chalicelib.engine import dispatch as dispatch_module
from chalicelib.engine.outcomes import RetryableStepError
from chalicelib.engine.runtime import MAX_TRIES, runtime
from chalicelib.engine.sweeper import sweep
from chalicelib.settings import get_settings
from chalicelib.steps.registry import STEP_TYPES
from chalicelib.store import models
from chalicelib.store import participants as store
from chalicelib.store.base import ConditionFailedError
from chalicelib.store.participants import Participant
from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_kit import (
    Engine,
    FakeClock,
    assert_invariant,
    participants_of,
    running_engine,
    use_engine,
    wake_schedules,
)
from tests.functional.fault_kit import (
    DynamoCall,
    clone_contacts,
    clone_participants,
    delete,
    deliver,
    discard,
    dynamodb_calls,
    failing_once,
    forgetting_new_items,
    moto_at_scale,
    on_queue,
    receive,
    release,
    replaced,
)

WAIT = {"id": "w", "type": "wait_time", "settings": {"duration": "P2D"}}


def _forget_other_tests() -> None:
    """Empty the queues and remove every wake schedule, so no other test's message or wait
    runs in this test's drains (the tests share one moto)."""
    discard("steps", "control")
    scheduler = client("scheduler")
    group = get_settings().schedule_group
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
    for name in [s["Name"] for page in pages for s in page["Schedules"]]:
        scheduler.delete_schedule(GroupName=group, Name=name)


@pytest.fixture
def engine(aws: None) -> Iterator[Engine]:
    _forget_other_tests()
    with running_engine() as running:
        yield running
    _forget_other_tests()


@dataclass
class Scripts:
    """Stands in for the Lambda invoke of run_script (the step's outside effect): records each
    start and returns a request id. ``before`` runs first (a test's hook)."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    before: Callable[[], None] = lambda: None

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        self.before()
        self.effects.append(payload["participant"])
        return f"req-{len(self.effects)}"


@pytest.fixture
def scripts(engine: Engine) -> Scripts:
    runtime.scripts = fake = Scripts()  # the engine fixture puts the real one back
    return fake


@dataclass
class Tenant:
    tenant_id: str
    http: Http

    @classmethod
    def new(cls, chalice_client: Any) -> Tenant:
        created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
        return cls(created["tenant_id"], Http(chalice_client, created["api_key"]))

    def contact(self) -> str:
        reply = self.http.post("/v1/contacts", {"first_name": "Kari"})
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def script(self) -> str:
        arn = "arn:aws:lambda:us-east-1:123456789012:function:hook"
        reply = self.http.post("/v1/scripts", {"name": "hook", "function_arn": arn})
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def flow(self, steps: list[dict[str, Any]]) -> str:
        reply = self.http.post("/v1/flows", {"name": "Faults", "steps": steps})
        assert reply.status == 201, reply.body
        assert reply.json["problems"] == [], reply.json["problems"]
        self.lifecycle(reply.json["id"], "start")
        return str(reply.json["id"])

    def lifecycle(self, flow_id: str, action: str) -> None:
        reply = self.http.post(f"/v1/flows/{flow_id}/{action}")
        assert reply.status == 200, reply.body

    def enrol(self, flow_id: str, contact_id: str | None = None) -> str:
        body = {"contact_id": contact_id or self.contact()}
        reply = self.http.post(f"/v1/flows/{flow_id}/participants", body)
        assert reply.status == 201, reply.body
        return str(reply.json["id"])

    def participant(self, flow_id: str, participant_id: str) -> Participant:
        found = store.get(self.tenant_id, flow_id, participant_id)
        assert found is not None
        return found

    def journal(self, participant_id: str) -> dict[int, dict[str, Any]]:
        entries = store.history(self.tenant_id, participant_id)
        seqs = [seq for seq, _ in entries]
        assert len(seqs) == len(set(seqs)), f"two journal items of one seq: {seqs}"
        return dict(entries)

    def stats(self, flow_id: str) -> dict[str, Any]:
        reply = self.http.get(f"/v1/flows/{flow_id}/stats")
        assert reply.status == 200, reply.body
        return dict(reply.json)


def _effect_then_wait(t: Tenant) -> str:
    """A running flow: run a script (an outside effect), then wait two days."""
    script = {"id": "x", "type": "run_script", "settings": {"script_id": t.script()}}
    return t.flow([script, WAIT])


def _next_step_message() -> dict[str, Any]:
    [message] = receive("steps")
    return message


def _again(message: dict[str, Any]) -> dict[str, Any]:
    """Redeliver a message that was taken: release it, take it again (the other messages
    taken with it go back)."""
    release("steps", message)
    found = receive("steps")
    for other in found:
        if other["MessageId"] != message["MessageId"]:
            release("steps", other)
    [again] = [m for m in found if m["MessageId"] == message["MessageId"]]
    return again


# -- 1. the same message twice -------------------------------------------------------------------


def test_a_message_delivered_twice_moves_the_participant_once(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    message = _next_step_message()
    assert json.loads(message["Body"])["seq"] == 1

    # When: SQS hands the same message out twice (at-least-once delivery), both first tries
    assert deliver("steps", [message]) == set()
    assert deliver("steps", [message]) == set()

    # Then: one move, one effect, one journal item for seq 1, and one message for the next step
    p = t.participant(flow_id, pid)
    assert (p.seq, p.step_id) == (2, "w")
    assert scripts.effects == [{"id": pid, "step_id": "x", "seq": 1}]
    journal = t.journal(pid)
    assert sorted(journal) == [0, 1]
    assert (journal[1]["outcome"], journal[1]["request_id"]) == ("done", "req-1")
    # The delivered message (in flight until deleted) and the one for step w, nothing more
    assert on_queue("steps", flow_id) == 2
    delete("steps", message)

    engine.drain()
    p = t.participant(flow_id, pid)
    assert (p.status, p.step_id, p.seq, p.wake_bucket is not None) == ("active", "w", 3, True)
    assert sorted(t.journal(pid)) == [0, 1, 2]
    assert on_queue("steps", flow_id) == 0
    assert len(scripts.effects) == 1
    assert_invariant(t.tenant_id, flow_id)


def test_a_redelivery_after_the_commit_only_dispatches_again(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    first = _next_step_message()
    assert deliver("steps", [first]) == set()

    # When: the message comes back after its visibility timeout (receive count 2), as if the
    # run had committed and died before the delete
    again = _again(first)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert deliver("steps", [again]) == set()
    delete("steps", again)

    # Then: it does not run the step again; it sends the next step's message once more
    assert t.participant(flow_id, pid).seq == 2
    assert len(scripts.effects) == 1
    assert on_queue("steps", flow_id) == 2  # two copies of the seq-2 message: harmless, see below

    engine.drain()  # the first copy moves it; the second finds it one ahead and is dropped
    p = t.participant(flow_id, pid)
    assert (p.step_id, p.seq, p.data["wait"]["step_id"]) == ("w", 3, "w")
    assert sorted(t.journal(pid)) == [0, 1, 2]
    assert on_queue("steps", flow_id) == 0
    assert len(scripts.effects) == 1
    assert_invariant(t.tenant_id, flow_id)


# -- 2. a crash after the commit, before the dispatch -------------------------------------------


@pytest.mark.parametrize(
    ("crash_seq", "next_is"),
    [(2, "an SQS message"), (3, "a wake schedule")],
    ids=["after_the_script_step", "after_the_wait_step"],
)
def test_a_crash_between_commit_and_dispatch_is_repaired_by_the_redelivery(
    chalice_client: Any, engine: Engine, scripts: Scripts, crash_seq: int, next_is: str
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)

    # When: the worker commits the move to ``crash_seq`` and dies before it dispatches
    with failing_once(worker, "dispatch", when=lambda p, *_: p.seq == crash_seq) as crashed:
        while not crashed:
            message = _next_step_message()
            failed = deliver("steps", [message])
            if not crashed:
                assert failed == set()
                delete("steps", message)
    assert failed == {message["MessageId"]}  # reported failed: SQS keeps the message

    # Then: the move is committed, but nothing was dispatched for it
    p = t.participant(flow_id, pid)
    assert p.seq == crash_seq
    assert on_queue("steps", flow_id) == 1, f"{next_is} must not exist yet"
    assert wake_schedules(t.tenant_id, flow_id) == set()

    # When: SQS redelivers it (receive count 2): one behind on a redelivery -> dispatch again
    release("steps", message)
    engine.drain()

    # Then: it goes on as if nothing happened
    p = t.participant(flow_id, pid)
    assert (p.status, p.step_id, p.seq) == ("active", "w", 3)
    assert len(wake_schedules(t.tenant_id, flow_id)) == 1
    assert_invariant(t.tenant_id, flow_id)
    engine.advance(days=2, minutes=1)
    assert t.participant(flow_id, pid).status == "finished"
    assert len(scripts.effects) == 1
    assert sorted(t.journal(pid)) == [0, 1, 2, 3]
    assert_invariant(t.tenant_id, flow_id)


def test_a_crash_between_the_finish_and_the_hand_off_is_repaired(
    chalice_client: Any, engine: Engine
) -> None:
    t = Tenant.new(chalice_client)
    follow_up = t.flow([WAIT])
    reply = t.http.post(
        "/v1/flows",
        {
            "name": "Short",
            "steps": [{"id": "s", "type": "wait_time", "settings": {"duration": "PT1M"}}],
            "finish": {"otherwise_flow_id": follow_up},
        },
    )
    assert reply.status == 201, reply.body
    flow_id = reply.json["id"]
    t.lifecycle(flow_id, "start")
    pid = t.enrol(flow_id)
    engine.drain()

    # When: the worker commits the Finish and dies before it hands the contact on
    with failing_once(enrol, "hand_off") as crashed:
        engine.advance(minutes=2)  # the failed message comes back at once (local runtime)
    assert crashed
    assert t.participant(flow_id, pid).status == "finished"

    # Then: the contact is in the follow-up flow
    assert len(participants_of(t.tenant_id, follow_up)) == 1
    assert_invariant(t.tenant_id, flow_id)
    assert_invariant(t.tenant_id, follow_up)


# -- 3. a crash after an outside effect, before the commit --------------------------------------


def test_a_crash_after_the_effect_and_before_the_commit_never_repeats_the_effect(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)

    # When: the script starts, and the worker dies in the commit that follows
    with failing_once(store, "commit", when=lambda *_, **__: bool(scripts.effects)) as crashed:
        pid = t.enrol(flow_id)
        message = _next_step_message()
        assert deliver("steps", [message]) == {message["MessageId"]}
    assert crashed
    assert len(scripts.effects) == 1
    assert t.participant(flow_id, pid).seq == 1  # it did not move
    remembered = store.journal_entry(t.tenant_id, pid, 1)
    assert remembered is not None
    assert remembered["state"] == "effect", remembered

    # When: SQS redelivers the message
    release("steps", message)
    engine.drain()

    # Then: the effect happened exactly once, its journal item says so, and the walk goes on
    assert len(scripts.effects) == 1
    entry = t.journal(pid)[1]
    assert (entry["step_id"], entry["outcome"], entry["request_id"]) == ("x", "done", "req-1")
    assert "state" not in entry
    p = t.participant(flow_id, pid)
    assert (p.status, p.step_id, p.seq) == ("active", "w", 3)
    assert_invariant(t.tenant_id, flow_id)


def test_a_claim_of_a_run_that_died_before_the_effect(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    message = _next_step_message()
    body = json.loads(message["Body"])

    # Given: a run claimed seq 1 and died before it started the script
    claim = {"state": "claimed", "claimed_at": iso(engine.clock.now), "step_id": "x"}
    assert store.claim(t.participant(flow_id, pid), claim)

    # When: the message is delivered while that claim is fresh
    assert deliver("steps", [message]) == {message["MessageId"]}
    delete("steps", message)

    # Then: the worker leaves it to the claim's holder: no effect, no move, no new message;
    # the delivery fails, so SQS hands the message out again later (deleted here, to stand
    # for the later delivery below)
    assert scripts.effects == []
    assert t.participant(flow_id, pid).seq == 1
    assert store.journal_entry(t.tenant_id, pid, 1) == claim
    assert on_queue("steps", flow_id) == 0

    # When: a message for it comes again (the sweeper's, or a duplicate) once the claim is
    # older than a run can last
    engine.clock.advance(seconds=worker.STALE_CLAIM.total_seconds() + 1)
    worker.run_step(body, receive_count=2)

    # Then: it commits "effect uncertain" and goes on, never starting the script
    assert scripts.effects == []
    entry = t.journal(pid)[1]
    assert (entry["outcome"], entry["reason"]) == ("skipped", "effect_uncertain")
    engine.drain()
    p = t.participant(flow_id, pid)
    assert (p.status, p.step_id, p.seq) == ("active", "w", 3)
    assert_invariant(t.tenant_id, flow_id)


def _fail_first_try(scripts: Scripts, error: Exception) -> list[Exception]:
    """Make the script's first invoke raise ``error``; the list empties once it has."""
    pending = [error]

    def fail_once() -> None:
        if pending:
            raise pending.pop()

    scripts.before = fail_once
    return pending


def test_an_outside_effect_that_failed_before_it_happened_is_retried(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    throttled = _fail_first_try(scripts, RetryableStepError("Lambda throttled the invoke"))
    pid = t.enrol(flow_id)

    # When: the first try fails before the script starts; SQS hands the message out again
    engine.drain()

    # Then: the second try starts the script and the participant goes on
    assert not throttled
    assert len(scripts.effects) == 1
    assert t.participant(flow_id, pid).step_id == "w"
    assert_invariant(t.tenant_id, flow_id)


def test_an_outside_effect_that_may_have_happened_is_never_tried_again(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    timed_out = _fail_first_try(scripts, TimeoutError("no answer after the call was made"))
    pid = t.enrol(flow_id)

    # When: the first try fails in a way that does not say whether the script started
    engine.drain()

    # Then: the redelivery does not start it again: it commits "effect uncertain" and goes on
    assert not timed_out
    assert scripts.effects == []
    entry = t.journal(pid)[1]
    assert (entry["outcome"], entry["reason"]) == ("skipped", "effect_uncertain")
    assert t.participant(flow_id, pid).step_id == "w"
    assert_invariant(t.tenant_id, flow_id)


# -- 4. two workers on one participant at once --------------------------------------------------


def _run_or_lose(body: dict[str, Any], lost: list[RetryableStepError]) -> None:
    try:
        worker.run_step(body)
    except RetryableStepError as error:
        lost.append(error)


def _in_two_threads(run: Callable[[], None]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run), pool.submit(run)]:
            future.result()


def _atomic(lock: threading.Lock) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """DynamoDB applies each (conditional or transactional) write atomically; in-process moto
    checks and writes in separate Python steps (a cancelled transaction even puts back a
    snapshot of the whole table), so two threads could interleave inside one call. One lock
    around each write call gives the atomicity back without ordering the threads otherwise."""

    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def atomic(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return real(*args, **kwargs)

        return atomic

    return wrap


def test_two_workers_on_one_participant_move_it_once(chalice_client: Any, engine: Engine) -> None:
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    pid = t.enrol(flow_id)
    message = _next_step_message()
    body = json.loads(message["Body"])
    both_ran = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    commits: list[str] = []

    def commit_after_both_ran(real: Callable[..., Any]) -> Callable[..., Any]:
        atomic = _atomic(lock)(real)

        def commit(*args: Any, **kwargs: Any) -> Any:
            both_ran.wait()  # both read seq 1 and ran the step; now both commit
            try:
                atomic(*args, **kwargs)
            except ConditionFailedError:
                commits.append("lost")
                raise
            commits.append("won")

        return commit

    # When: two workers run the same message at once
    with replaced(store, "commit", commit_after_both_ran):
        _in_two_threads(lambda: worker.run_step(body))

    # Then: one commit won; the loser's ConditionFailedError was a no-op
    assert sorted(commits) == ["lost", "won"]
    p = t.participant(flow_id, pid)
    assert (p.step_id, p.seq) == ("w", 2)
    assert sorted(t.journal(pid)) == [0, 1]
    assert len(wake_schedules(t.tenant_id, flow_id)) == 1
    assert on_queue("steps", flow_id) == 1  # only the message both ran (nothing new: a wake bucket)
    delete("steps", message)
    assert_invariant(t.tenant_id, flow_id)


def test_two_workers_on_one_outside_effect_start_it_once(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    message = _next_step_message()
    body = json.loads(message["Body"])
    both_read = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    claims: list[bool] = []
    lost: list[RetryableStepError] = []

    def claim_after_both_read(real: Callable[..., Any]) -> Callable[..., Any]:
        atomic = _atomic(lock)(real)

        def claim(*args: Any, **kwargs: Any) -> Any:
            both_read.wait()  # both read seq 1; now both try to claim it
            claims.append(atomic(*args, **kwargs))
            return claims[-1]

        return claim

    # When: two workers run the same message at once
    with (
        replaced(store, "claim", claim_after_both_read),
        replaced(store, "commit", _atomic(lock)),
        replaced(store, "record_journal", _atomic(lock)),
    ):
        _in_two_threads(lambda: _run_or_lose(body, lost))

    # Then: one claimed, the script started once, the participant moved once. The other saw
    # a fresh claim and failed its delivery (SQS brings it back; it is then one behind) or,
    # when the winner had recorded the effect by then, committed that and lost the race.
    assert sorted(claims) == [False, True]
    assert len(lost) <= 1
    assert len(scripts.effects) == 1
    p = t.participant(flow_id, pid)
    assert (p.step_id, p.seq) == ("w", 2)
    assert t.journal(pid)[1]["request_id"] == "req-1"
    assert on_queue("steps", flow_id) == 2  # the message both ran, and one for step w
    delete("steps", message)
    engine.drain()
    assert t.participant(flow_id, pid).seq == 3
    assert len(scripts.effects) == 1
    assert_invariant(t.tenant_id, flow_id)


# -- 6. the sweeper -----------------------------------------------------------------------------


def test_the_sweeper_finds_a_lost_message_and_leaves_the_healthy_alone(
    chalice_client: Any, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # The sweeper looks at every running flow of every tenant. On a clock years before every
    # other test's, nothing of theirs has been still long enough to look stranded.
    clock = FakeClock(datetime(2001, 1, 1, 10, 0, tzinfo=UTC))
    engine = use_engine(clock)
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    healthy = t.enrol(flow_id)
    engine.drain()
    lost = t.enrol(flow_id)
    delete("steps", _next_step_message())  # the message is lost before anyone runs it

    clock.advance(minutes=10)
    assert sweep(clock.now) == 0  # not still long enough yet

    clock.advance(minutes=6)
    with caplog.at_level(logging.WARNING, logger="flows.engine"):
        assert sweep(clock.now) == 1
    assert lost in caplog.text
    assert healthy not in caplog.text
    assert on_queue("steps", flow_id) == 1

    engine.drain()
    assert t.participant(flow_id, lost).data["wait"]["step_id"] == "w"
    assert sweep(clock.now) == 0  # both wait with a live wake schedule now
    assert_invariant(t.tenant_id, flow_id)
    engine.advance(days=2, minutes=1)
    assert {p.status for p in participants_of(t.tenant_id, flow_id)} == {"finished"}
    assert_invariant(t.tenant_id, flow_id)


Read = tuple[str, str | None]  # a page read: the flow, and the cursor it goes on from


def _refusing_reads(
    monkeypatch: pytest.MonkeyPatch, refuse: Callable[[Read, list[Read]], bool]
) -> list[Read]:
    """Make every read of a page of participants by status that ``refuse(read, reads before
    it)`` picks fail as a throttled Query; returns the reads, in order."""
    reads: list[Read] = []
    read_page = store.page_by_status

    def refusing(*args: Any, **kwargs: Any) -> Any:
        read = (args[1], kwargs["after"])
        refused = refuse(read, list(reads))
        reads.append(read)
        if refused:
            raise QueryError("query failed", cause=_throttled())
        return read_page(*args, **kwargs)

    monkeypatch.setattr(store, "page_by_status", refusing)
    return reads


def test_a_sweep_goes_on_past_failed_calls_to_the_last_page(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a flow of four pages (two a page) with two lost messages, and a store whose
    # first read of every page is refused, and a queue that refuses the first dispatch.
    # Before, the first refusal ended the sweep: with 5% of calls failing, a flow of 100
    # pages was never swept to its end (the 10,000-participant soak stalled on it).
    clock = FakeClock(datetime(2001, 1, 1, 10, 0, tzinfo=UTC))  # see the test above
    engine = use_engine(clock)
    monkeypatch.setattr(sweeper, "PAGE_SIZE", 2)
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    for _ in range(5):
        t.enrol(flow_id)
    engine.drain()
    lost = []
    for _ in range(2):
        lost.append(t.enrol(flow_id))
        delete("steps", _next_step_message())  # lost before anyone runs it
    clock.advance(minutes=16)

    dispatch = dispatch_module.dispatch
    refused_dispatch: list[str] = []

    def refusing_first_dispatch(p: Participant, now: datetime) -> None:
        if not refused_dispatch:
            refused_dispatch.append(p.participant_id)
            raise _throttled()
        dispatch(p, now)

    _refusing_reads(monkeypatch, lambda read, before: read not in before)  # each page once
    monkeypatch.setattr(sweeper, "dispatch", refusing_first_dispatch)
    # When: a sweep runs, its messages run; then another sweep
    first = sweep(clock.now)
    engine.drain()
    second = sweep(clock.now)
    # Then: the first read every page and dispatched the lost one whose dispatch was not
    # refused; the second dispatched the other; and nothing is left stranded
    assert (refused_dispatch != [], first, second) == (True, 1, 1)
    assert on_queue("steps", flow_id) == 1
    engine.drain()
    assert sweep(clock.now) == 0
    assert {t.participant(flow_id, pid).data["wait"]["step_id"] for pid in lost} == {"w"}
    assert_invariant(t.tenant_id, flow_id)


def test_a_sweep_does_not_hide_a_fault_of_the_code(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a running flow, and a read that fails for a reason no retry mends
    t = Tenant.new(chalice_client)
    t.flow([WAIT])

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("status_key")

    monkeypatch.setattr(store, "page_by_status", broken)
    # When / Then: the sweep fails (and its Lambda's error alarm says so)
    with pytest.raises(KeyError):
        sweep()


# -- 7. fan-out jobs continue themselves ---------------------------------------------------------


def _recording_sends(sent: list[dict[str, Any]]) -> Callable[[Callable[..., Any]], Any]:
    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def send(queue: str, message: dict[str, Any], **kwargs: Any) -> None:
            sent.append(message)
            real(queue, message, **kwargs)

        return send

    return wrap


def test_resume_and_end_continue_page_by_page_and_reach_everyone(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control, "PAGE_SIZE", 2)
    monkeypatch.setattr(control, "PAGES_PER_JOB", 2)
    t = Tenant.new(chalice_client)
    flow_id = t.flow([{"id": "first", "type": "wait_time", "settings": {"duration": "PT1H"}}, WAIT])
    waiting = [t.enrol(flow_id) for _ in range(5)]
    engine.drain()
    engine.advance(hours=1, minutes=1)  # on the second wait, each in the same bucket
    arriving = [t.enrol(flow_id) for _ in range(3)]  # their messages wait in the queue

    # Given: paused; the three messages arrive and park them; three more enrol queued
    t.lifecycle(flow_id, "pause")
    engine.drain()
    queued = [t.enrol(flow_id) for _ in range(3)]
    engine.drain()
    by_id = {p.participant_id: p for p in participants_of(t.tenant_id, flow_id)}
    assert all(by_id[pid].data.get("parked") for pid in arriving)
    assert {by_id[pid].status for pid in queued} == {"queued"}
    assert_invariant(t.tenant_id, flow_id)

    # When: resumed, with two participants a page and two pages a job
    sent: list[dict[str, Any]] = []
    with replaced(control, "send", _recording_sends(sent)):
        t.lifecycle(flow_id, "start")
        engine.drain()

    # Then: the jobs went on by themselves, and every parked and queued one moved again
    resumes = [m for m in sent if m["type"] == "resume"]
    assert [m["phase"] for m in resumes if m.get("cursor")] == ["active"], resumes
    everyone = participants_of(t.tenant_id, flow_id)
    assert len(everyone) == 11
    for p in everyone:
        assert (p.status, p.data.get("parked")) == ("active", False), p
    on = {p.participant_id: p.step_id for p in everyone}
    assert {on[pid] for pid in waiting} == {"w"}
    assert {on[pid] for pid in arriving + queued} == {"first"}
    assert_invariant(t.tenant_id, flow_id)

    # When: ended
    sent.clear()
    with replaced(control, "send", _recording_sends(sent)):
        t.lifecycle(flow_id, "end")
        engine.drain()

    # Then: the end job continued twice (11 active, 4 per job) and cancelled everyone
    ends = [m for m in sent if m["type"] == "end"]
    assert [m["phase"] for m in ends if m.get("cursor")] == ["active", "active"], ends
    assert {p.status for p in participants_of(t.tenant_id, flow_id)} == {"cancelled"}
    assert t.stats(flow_id)["by_status"]["cancelled"] == 11
    assert wake_schedules(t.tenant_id, flow_id) == set()
    assert_invariant(t.tenant_id, flow_id)


def test_a_job_whose_later_page_cannot_be_read_goes_on_from_that_page(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a paused flow of five active participants, two a page and three pages a job,
    # and a store that refuses the first read of the second page
    monkeypatch.setattr(control, "PAGE_SIZE", 2)
    monkeypatch.setattr(control, "PAGES_PER_JOB", 3)
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    for _ in range(5):
        t.enrol(flow_id)
    engine.drain()
    t.lifecycle(flow_id, "pause")
    reads = _refusing_reads(
        monkeypatch, lambda read, before: read[1] is not None and all(r[1] is None for r in before)
    )
    # When: resumed
    sent: list[dict[str, Any]] = []
    with replaced(control, "send", _recording_sends(sent)):
        t.lifecycle(flow_id, "start")
        engine.drain()

    # Then: the job ended well and posted its continuation from the second page, so the
    # first page was read once (before, the whole job failed and began again)
    second = next(after for _, after in reads if after)
    continued = [m.get("cursor") for m in sent if m["type"] == "resume" and m["phase"] == "active"]
    assert continued == [None, second], sent
    assert [after for _, after in reads].count(None) == 2  # the active phase, the queued phase
    assert {p.status for p in participants_of(t.tenant_id, flow_id)} == {"active"}
    assert_invariant(t.tenant_id, flow_id)


# -- 5. pause, resume and end of 2,000 participants ----------------------------------------------


def _lifecycle(t: Tenant, engine: Engine, size: int) -> dict[str, list[DynamoCall]]:
    """Pause, resume and end a flow of ``size`` participants; the DynamoDB calls each of the
    three API requests made. Most participants wait two days in one wake bucket; two are
    parked while the flow is paused and two enrol queued."""
    flow_id = t.flow([{"id": "w1", "type": "wait_time", "settings": {"duration": "P2D"}}, WAIT])
    template = t.enrol(flow_id)
    engine.drain()
    arriving = [t.enrol(flow_id) for _ in range(2)]  # their first message is not run yet
    contacts = clone_contacts(t.tenant_id, t.participant(flow_id, template).contact_id, size - 5)
    clone_participants(t.participant(flow_id, template), contacts)
    calls: dict[str, list[DynamoCall]] = {}

    with dynamodb_calls() as calls["pause"]:
        t.lifecycle(flow_id, "pause")
    engine.drain()  # the two arriving messages park their participants
    queued = [t.enrol(flow_id) for _ in range(2)]

    with dynamodb_calls() as calls["resume"]:
        t.lifecycle(flow_id, "start")
    engine.drain()
    moved = [t.participant(flow_id, pid) for pid in arriving + queued]
    assert {(p.status, p.step_id, p.data["parked"]) for p in moved} == {("active", "w1", False)}
    # The invariant, counted rather than walked (a walk costs as much as the rest of the
    # test): everyone waits in the one wake bucket, and the bucket has its schedule.
    [bucket] = {p.wake_bucket for p in moved}
    assert models.ParticipantItem.by_wake.count(bucket) == size
    assert len(wake_schedules(t.tenant_id, flow_id)) == 1

    with dynamodb_calls() as calls["end"]:
        t.lifecycle(flow_id, "end")
    engine.drain()
    assert t.stats(flow_id)["by_status"]["cancelled"] == size
    assert wake_schedules(t.tenant_id, flow_id) == set()
    assert_invariant(t.tenant_id, flow_id)
    return calls


def test_pause_resume_and_end_of_2000_participants_are_o1_api_calls(
    chalice_client: Any, engine: Engine
) -> None:
    with moto_at_scale(), forgetting_new_items():
        small = _lifecycle(Tenant.new(chalice_client), engine, 10)
        large = _lifecycle(Tenant.new(chalice_client), engine, 2000)

    settings = get_settings()
    for action, calls in large.items():
        touched = {table for call in calls for table in call.tables}
        assert settings.table("flows") in touched, (action, calls)  # the hook saw the calls
        assert settings.table("participants") not in touched, (action, calls)
        assert settings.table("journal") not in touched, (action, calls)
        # The same calls as with 10 participants: today 3 (the key, the flow, one transaction
        # on the flow record).
        assert calls == small[action], action
        assert len(calls) <= 5, (action, calls)


def test_moto_at_scale_still_rolls_back_a_cancelled_transaction(
    chalice_client: Any, engine: Engine
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    contact_id = t.contact()
    with moto_at_scale():
        pid = t.enrol(flow_id, contact_id)
        reply = t.http.post(f"/v1/flows/{flow_id}/participants", {"contact_id": contact_id})
    # The second enrolment's transaction wrote its participant item, then lost on the guard:
    # nothing of it stays.
    assert reply.status == 409, reply.body
    assert [p.participant_id for p in participants_of(t.tenant_id, flow_id)] == [pid]
    engine.drain()
    assert_invariant(t.tenant_id, flow_id)


def _throttled() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
         "ResponseMetadata": {"HTTPStatusCode": 400}},
        "Invoke",
    )  # fmt: skip


def test_a_passing_aws_fault_never_drops_the_participant(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    """Throttling on every try, past MAX_TRIES: the message keeps failing (SQS brings it back,
    the DLQ and the sweeper after that); the participant stays on the step, unclaimed, and goes
    on once AWS answers."""
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    body = json.loads(_next_step_message()["Body"])

    def throttle() -> None:
        raise _throttled()

    scripts.before = throttle
    for receive_count in range(1, MAX_TRIES + 3):
        with pytest.raises(ClientError):
            worker.run_step(body, receive_count=receive_count)
        p = t.participant(flow_id, pid)
        assert (p.status, p.step_id, p.seq) == ("active", "x", 1)
        assert store.journal_entry(t.tenant_id, pid, 1) is None  # the claim was released
    scripts.before = lambda: None
    worker.run_step(body, receive_count=MAX_TRIES + 3)
    assert len(scripts.effects) == 1
    assert t.participant(flow_id, pid).step_id == "w"
    discard("steps")


def test_a_step_s_own_error_drops_the_participant_after_max_tries(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = Tenant.new(chalice_client)
    update = {"id": "u", "type": "update_contact",
              "settings": {"updates": [{"field": "category", "action": "clear"}]}}  # fmt: skip
    flow_id = t.flow([update, WAIT])
    pid = t.enrol(flow_id)
    body = json.loads(_next_step_message()["Body"])

    def broken(ctx: Any, settings: Any) -> Any:
        raise KeyError("a bug in the step")

    monkeypatch.setitem(
        STEP_TYPES, "update_contact", replace(STEP_TYPES["update_contact"], run=broken)
    )
    for receive_count in range(1, MAX_TRIES):
        with pytest.raises(KeyError, match="a bug"):
            worker.run_step(body, receive_count=receive_count)
    worker.run_step(body, receive_count=MAX_TRIES)
    p = t.participant(flow_id, pid)
    assert (p.status, p.data["dropout_reason"]) == ("dropped_out", "step_failed")
    discard("steps")
    assert_invariant(t.tenant_id, flow_id)


def _bulk(chalice_client: Any) -> tuple[Tenant, str, str, list[str]]:
    """A tenant with a one-wait flow and a selection of 5 contacts (sorted ids)."""
    t = Tenant.new(chalice_client)
    flow_id = t.flow([WAIT])
    selection = t.http.post("/v1/selections", {"name": "Bulk"}).json["id"]
    members = sorted(t.contact() for _ in range(5))
    for contact_id in members:
        assert t.http.put(f"/v1/selections/{selection}/members/{contact_id}").status == 200
    return t, flow_id, selection, members


def _counting_into(proposed: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A wrapper for ``propose`` that notes each contact proposed."""

    def counting(real: Callable[..., Any]) -> Callable[..., Any]:
        def propose(tenant_id: str, flow: str, contact_id: str, **kw: Any) -> Any:
            proposed.append(contact_id)
            return real(tenant_id, flow, contact_id, **kw)

        return propose

    return counting


def test_a_bulk_enrolment_that_fails_midway_goes_on_from_where_it_stopped(
    chalice_client: Any, engine: Engine
) -> None:
    t, flow_id, selection, members = _bulk(chalice_client)
    proposed: list[str] = []
    counting = _counting_into(proposed)

    # When: the third member's enrolment fails once (a passing fault), mid-page
    with (
        replaced(control, "propose", counting),
        failing_once(control, "propose", when=lambda *args, **_: args[2] == members[2]),
    ):
        reply = t.http.post(f"/v1/flows/{flow_id}/participants", {"selection_id": selection})
        assert reply.status == 202
        engine.drain()

    # Then: the job went on from the third member; no one was proposed twice, all are in
    assert sorted(p.contact_id for p in participants_of(t.tenant_id, flow_id)) == members
    assert proposed == members
    assert_invariant(t.tenant_id, flow_id)


def test_a_job_message_delivered_twice_does_not_fork_the_job(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQS delivers at least once: a copy of a job message that already ran is dropped, so it
    neither redoes its page nor posts a second continuation (each of which would run to the
    end of the selection, and fork again on its own next copy)."""
    from app import control_worker, step_worker
    from chalicelib.engine.local_runtime import drain

    # Given: a selection of 5, enrolled two members a page, one page a job message
    monkeypatch.setattr(control, "PAGE_SIZE", 2)
    monkeypatch.setattr(control, "PAGES_PER_JOB", 1)
    t, flow_id, selection, members = _bulk(chalice_client)
    proposed: list[str] = []
    counting = _counting_into(proposed)

    def twice(event: dict[str, Any], context: Any) -> Any:
        control_worker(event, context)
        return control_worker(event, context)  # the same messages again, after the first ran

    # When: every control message is delivered twice
    with replaced(control, "propose", counting):
        reply = t.http.post(f"/v1/flows/{flow_id}/participants", {"selection_id": selection})
        assert reply.status == 202
        for _ in range(20):
            if not drain("control", twice) + drain("steps", step_worker):
                break

    # Then: each member was proposed once, and all are in
    assert proposed == members
    assert sorted(p.contact_id for p in participants_of(t.tenant_id, flow_id)) == members
    assert_invariant(t.tenant_id, flow_id)


def test_a_jobs_done_markers_expire_after_any_copy_could_arrive(
    chalice_client: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The markers that drop a job message's late copies are not kept for ever: DynamoDB's TTL
    deletes them 28 days on (SQS keeps a message 14 days at most, its DLQ as long again)."""
    from app import control_worker, step_worker
    from chalicelib.engine.local_runtime import drain

    monkeypatch.setattr(control, "PAGE_SIZE", 2)
    monkeypatch.setattr(control, "PAGES_PER_JOB", 1)
    t, flow_id, selection, _ = _bulk(chalice_client)
    reply = t.http.post(f"/v1/flows/{flow_id}/participants", {"selection_id": selection})
    assert reply.status == 202
    while drain("control", control_worker) + drain("steps", step_worker):
        pass

    markers = [
        item
        for item in models.ParticipantGuardItem.query(f"{t.tenant_id}#{flow_id}")
        if item.participant_id.startswith("#job#")
    ]
    assert len(markers) >= 3  # five members, two a page
    expected = engine.clock.now + store.JOB_MARKER_TTL
    assert {item.expires_at for item in markers} == {expected}
    table = get_settings().table("participants")
    ttl = client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
