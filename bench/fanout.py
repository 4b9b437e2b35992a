"""Pause, resume and end at scale (issue 8, item 3): the API call's time must not grow with the
flow's participants, the fan-out's throughput, and the schedules a long wait creates.

For each size, in a fresh in-process moto: a flow ``wait_time P2D -> wait_time P1D`` is made
and started through the API (chalice's test client), one participant enrols through the API and
the engine runs it onto the first wait; the other N-1 are written directly as copies of it
(PynamoDB batch writes of the store's own items: the participant and its live guard), because
enrolling N through the engine is far too slow on moto. A tenth of them are parked (their
message came while the flow was paused), the rest wait in the wake bucket.

Then pause, resume (start) and end are called through the API ``--reps`` times each (median
taken; each call's control message is kept only from the last call), and the fan-out jobs the
last resume and the last end posted are run by feeding the control queue's Lambda handler
synthetic SQS events built from the messages taken off the queue (and the step messages the
resume re-dispatches taken off the steps queue and counted, not run): participants per second.

Finally the schedules: participants enrolled over ``--enrol-hours`` entering a 2-day wait go
through the real dispatch (``dispatch.dispatch``: one idempotent CreateSchedule per bucket
name), and the schedules in the group are counted.

Run: ``python -m bench.fanout [--sizes 100,1000,10000] [--waiting 10000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bench import kit

PARKED_SHARE = 0.1
TARGET_API_RATIO = 1.2


def seed(template: Any, count: int) -> None:
    """``count`` participants like ``template`` (each with its live guard), in batches."""
    from chalicelib.ids import new_id
    from chalicelib.store import participants as store
    from chalicelib.store.models import ParticipantGuardItem, ParticipantItem

    parked_every = round(1 / PARKED_SHARE)
    with ParticipantItem.batch_write() as items, ParticipantGuardItem.batch_write() as guards:
        for n in range(count):
            p = replace(template, participant_id=new_id("par"), contact_id=f"con_fan{n:07d}")
            if n % parked_every == 0:
                p = replace(
                    p,
                    wait_until=None,
                    wake_bucket=None,
                    data={k: v for k, v in p.data.items() if k != "wait"} | {"parked": True},
                )
            items.save(store._item(p))
            guards.save(store._live_guard(p.tenant_id, p.flow_id, p.contact_id))


def timed_call(api: kit.Api, path: str, action: str) -> float:
    with kit.no_gc():
        started = kit.cpu()
        api.call("POST", f"{path}/{action}", expect=200)
        return kit.cpu() - started


# A round trip to DynamoDB or SQS from a Lambda in the region (as in cost.py), for the
# throughput "at AWS latency": the handler's own CPU time, with each AWS call at this instead
# of moto's time.
AWS_CALL_MS = 6.0


def run_jobs(handler: Any) -> tuple[float, int, int, kit.Meter]:
    """Run the control queue's jobs (and the jobs they post) to the end; (CPU seconds, jobs,
    step messages they posted, the meter of their AWS calls)."""
    from chalicelib.engine.local_runtime import sqs_event

    spent, jobs, steps = 0.0, 0, 0
    meter = kit.Meter(capacity=False, in_handler=True)
    while messages := kit.take_messages("control"):
        for message in messages:
            message["Attributes"] = {"ApproximateReceiveCount": "1"}
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            with kit.metering(meter):
                started = kit.cpu()
                result = handler(sqs_event("control", batch), None)
                spent += kit.cpu() - started
            assert not result.get("batchItemFailures"), result
            jobs += len(batch)
            steps += len(kit.take_messages("steps"))
    return spent, jobs, steps, meter


def _at_latency(size: int, job: tuple[float, int, int, kit.Meter]) -> tuple[float, str]:
    """Participants per second at AWS latency, and the job's AWS calls per 100 participants."""
    spent, _, _, meter = job
    seconds = spent - meter.handler_aws_seconds + meter.handler_calls * AWS_CALL_MS / 1000
    calls = ", ".join(
        f"{operation} {100 * count / size:.1f}"
        for (_, operation), count in sorted(meter.calls.items(), key=lambda kv: -kv[1])
    )
    return size / seconds, calls


@dataclass
class Flow:
    size: int
    tenant_id: str
    flow_id: str
    api: kit.Api
    seeded_s: float = 0.0

    @property
    def path(self) -> str:
        return f"/v1/flows/{self.flow_id}"


def make_flow(client: Any, engine: kit.Engine, size: int) -> Flow:
    """A running flow with ``size`` participants: one through the API and the engine, the rest
    seeded as copies of it."""
    from chalicelib.store import participants as store

    tenant_id, api = kit.new_tenant(client)
    steps = [
        {"id": "w1", "type": "wait_time", "settings": {"duration": "P2D"}},
        {"id": "w2", "type": "wait_time", "settings": {"duration": "P1D"}},
    ]
    made = api.call("POST", "/v1/flows", {"name": "Fan", "steps": steps}, expect=201).json
    flow = Flow(size, tenant_id, made["id"], api)
    api.call("POST", f"{flow.path}/start", expect=200)
    contact = api.call("POST", "/v1/contacts", {"first_name": "T"}, expect=201).json["id"]
    pid = api.call("POST", f"{flow.path}/participants", {"contact_id": contact}, expect=201).json[
        "id"
    ]
    engine.drain()
    template = store.get(tenant_id, flow.flow_id, pid)
    assert template is not None
    assert template.wake_bucket, template
    started = time.perf_counter()
    seed(template, size - 1)
    flow.seeded_s = time.perf_counter() - started
    return flow


def api_times(sizes: list[int], reps: int) -> dict[int, dict[str, float]]:
    """Every size's flow in ONE moto, its pause, start and end calls interleaved round by
    round across the sizes (so the machine's noise falls on all alike); the medians in ms."""
    from tests.functional.fault_kit import moto_at_scale

    times: dict[int, dict[str, list[float]]] = {
        size: {"pause": [], "start": [], "end": []} for size in sizes
    }
    with kit.local_aws(), moto_at_scale(), kit.app_client() as client:
        engine = kit.Engine(kit.use_clock())
        flows = [make_flow(client, engine, size) for size in sizes]
        gc.collect()
        gc.freeze()  # the seeded items stay put: later collections need not walk them
        try:
            for round_ in range(reps):
                order = flows if round_ % 2 == 0 else flows[::-1]
                for flow in order:
                    for action in ("pause", "start", "end"):
                        times[flow.size][action].append(timed_call(flow.api, flow.path, action))
                        kit.take_messages("control")  # the fan-out is measured apart
                    flow.api.call("POST", f"{flow.path}/start", expect=200)  # a restart
        finally:
            gc.unfreeze()
    return {
        size: {action: 1000 * kit.median(values) for action, values in by_action.items()}
        for size, by_action in times.items()
    }


def fan_out(size: int) -> dict[str, Any]:
    """In a fresh moto: resume the paused flow and end it, running the control jobs."""
    from app import control_worker
    from tests.functional.fault_kit import moto_at_scale

    with kit.local_aws(), moto_at_scale(), kit.app_client() as client:
        flow = make_flow(client, kit.Engine(kit.use_clock()), size)
        flow.api.call("POST", f"{flow.path}/pause", expect=200)
        flow.api.call("POST", f"{flow.path}/start", expect=200)
        resume = run_jobs(control_worker)
        flow.api.call("POST", f"{flow.path}/end", expect=200)
        end = run_jobs(control_worker)
        counts = flow.api.call("GET", f"{flow.path}/stats", expect=200).json["by_status"]
        assert counts["cancelled"] == size, counts
    return {"size": size, "seeded_s": flow.seeded_s, "resume": resume, "end": end}


def schedules(participants: int, enrol_hours: float) -> dict[str, Any]:
    """Participants enrolled evenly over ``enrol_hours`` each enter a 2-day wait: dispatch them
    as the worker's wait commit does, and count the schedules and CreateSchedule calls."""
    from chalicelib.aws import client
    from chalicelib.clock import iso
    from chalicelib.engine.dispatch import dispatch, schedule_prefix, wake_bucket_for
    from chalicelib.settings import get_settings
    from chalicelib.store.participants import Participant

    with kit.local_aws():
        clock = kit.use_clock()
        tenant_id, flow_id = "ten_bench", "flw_bench"
        gap = timedelta(hours=enrol_hours) / max(1, participants)
        meter = kit.Meter(capacity=False)
        started = time.perf_counter()
        with kit.metering(meter):
            for n in range(participants):
                until = clock.now + timedelta(days=2)
                p = Participant(
                    tenant_id=tenant_id,
                    flow_id=flow_id,
                    participant_id=f"par_w{n:07d}",
                    contact_id=f"con_w{n:07d}",
                    status="active",
                    step_id="w1",
                    seq=2,
                    wait_until=iso(until),
                    wake_bucket=wake_bucket_for(tenant_id, flow_id, until),
                    data={"wait": {"step_id": "w1", "until": iso(until)}},
                )
                dispatch(p, clock.now)
                clock.now += gap
        spent = time.perf_counter() - started
        first = wake_bucket_for(tenant_id, flow_id, kit.START + timedelta(days=2))
        last = wake_bucket_for(tenant_id, flow_id, clock.now - gap + timedelta(days=2))
        pages = client("scheduler").get_paginator("list_schedules")
        made = sum(
            len(page["Schedules"])
            for page in pages.paginate(
                GroupName=get_settings().schedule_group,
                NamePrefix=schedule_prefix(tenant_id, flow_id),
            )
        )
    return {
        "participants": participants,
        "enrol_hours": enrol_hours,
        "schedules": made,
        "minutes": _minutes_between(first, last) + 1,
        "projected": _projected(100_000, enrol_hours),
        "create_calls": meter.calls[("scheduler", "CreateSchedule")],
        "seconds": spent,
    }


def _minutes_between(first: str, last: str) -> int:
    def minute(bucket: str) -> datetime:
        return datetime.strptime(bucket.rsplit("#", 1)[1], "%Y%m%dT%H%M")

    return int((minute(last) - minute(first)).total_seconds() // 60)


def _projected(participants: int, enrol_hours: float) -> tuple[int, int]:
    """How many wake buckets (so schedules) ``participants`` enrolled evenly over
    ``enrol_hours`` fall into, by the engine's own bucketing."""
    from chalicelib.engine.dispatch import wake_bucket_for

    gap = timedelta(hours=enrol_hours) / max(1, participants)
    start = kit.START + timedelta(days=2)
    buckets = {wake_bucket_for("t", "f", start + n * gap) for n in range(participants)}
    return participants, len(buckets)


def report(
    times: dict[int, dict[str, float]], results: list[dict[str, Any]], waits: dict[str, Any] | None
) -> list[str]:
    lines = [
        "fanout.py: pause, resume (start) and end through the API; fan-out jobs fed to the "
        "control handler as synthetic SQS events",
        f"  {'participants':>12} {'pause ms':>9} {'start ms':>9} {'end ms':>9} "
        f"{'resume/s':>10} {'end/s':>9} {'jobs':>6} {'re-sent':>8} {'seeded/s':>9}",
    ]
    for r in results:
        size, t = r["size"], times[r["size"]]
        if "resume" not in r:
            lines.append(
                f"  {size:>12} {t['pause']:>9.2f} {t['start']:>9.2f} {t['end']:>9.2f} "
                "  (fan-out not run: above --fanout-max)"
            )
            continue
        resume_s, resume_jobs, resent, _ = r["resume"]
        end_s, end_jobs, _, _ = r["end"]
        lines.append(
            f"  {size:>12} {t['pause']:>9.2f} {t['start']:>9.2f} {t['end']:>9.2f} "
            f"{size / resume_s:>10.0f} {size / end_s:>9.0f} "
            f"{resume_jobs + end_jobs:>6} {resent:>8} {size / r['seeded_s']:>9.0f}"
        )
    for r in results:
        if "resume" not in r:
            continue
        for job in ("resume", "end"):
            rate, calls = _at_latency(r["size"], r[job])
            lines.append(
                f"  {r['size']:>12} {job}: AWS calls per 100 participants: {calls}; at AWS "
                f"latency ({AWS_CALL_MS:.0f} ms a call, one job at a time): ~{rate:.0f}/s"
            )
    small, large = min(times), max(times)
    for action in ("pause", "start", "end"):
        ratio = times[large][action] / times[small][action]
        verdict = "meets" if ratio <= TARGET_API_RATIO else "MISSES"
        lines.append(
            f"  {action}: {large} vs {small} participants -> ratio {ratio:.2f} "
            f"({verdict} the target of {TARGET_API_RATIO})"
        )
    if waits:
        per_minute = waits["schedules"] / waits["minutes"]
        verdict = "meets" if per_minute <= 1 else "MISSES"
        lines.append(
            f"  schedules: {waits['participants']} participants enrolled over "
            f"{waits['enrol_hours']:g} h entering a 2-day wait -> {waits['schedules']} schedules "
            f"over {waits['minutes']} minutes of wake time ({per_minute:.2f} per flow-minute: "
            f"{verdict} the target of <= 1), {waits['create_calls']} CreateSchedule calls, "
            f"{waits['seconds']:.0f} s"
        )
        lines.append(
            f"  the same bucketing for {waits['projected'][0]} participants over "
            f"{waits['enrol_hours']:g} h: {waits['projected'][1]} schedules (computed with "
            "dispatch.wake_bucket_for, one schedule per bucket name)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated")
    parser.add_argument("--reps", type=int, default=15, help="API calls per action (median)")
    parser.add_argument("--waiting", type=int, default=10000, help="participants in the wait")
    parser.add_argument("--enrol-hours", type=float, default=24.0)
    parser.add_argument(
        "--fanout-max",
        type=int,
        default=10_000,
        help="run the fan-out jobs only up to this size (moto pages a GSI in O(table)); "
        "larger sizes get the API calls' times only",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    times = api_times(sizes, args.reps)
    results = [fan_out(size) if size <= args.fanout_max else {"size": size} for size in sizes]
    waits = schedules(args.waiting, args.enrol_hours) if args.waiting else None
    print("\n".join(report(times, results, waits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
