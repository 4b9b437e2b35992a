"""What a participant-step costs on AWS, against Step Functions Standard (issue 8, item 1).

N participants walk a representative flow on in-process moto, through the real API and the
real queue handlers:

    send_email -> wait_time P2D -> split link_clicked
        clicked:        update_contact -> add_to_list -> create_follow_up -> notify_email
        everyone else:  update_contact

Every AWS request is counted by botocore event hooks on every client the process makes (bench/
kit.py), DynamoDB capacity is computed from the items moto holds, and the whole is priced with
bench/prices.py. Run: ``python -m bench.cost [--participants 2000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench import kit
from bench.prices import PRICES_AS_OF, sources, usd

TARGET_USD_PER_MILLION_STEPS = 1.50
DRAIN_EVERY = 20
# Milliseconds one AWS call takes from a Lambda in the same region (a round trip to DynamoDB or
# SQS): used only for the "at AWS latency" estimate beside the measured duration.
AWS_CALL_MS = 6.0

# Step Functions Standard, the same flow as a state machine: each state entered is one
# transition. Clicked: SendEmail, Wait, CheckClick (a Task that queries the clicks), Choice,
# UpdateContact, AddToList, CreateFollowUp, NotifyEmail (End) = 8. Everyone else: SendEmail,
# Wait, CheckClick, Choice, UpdateContact (End) = 5.
SFN_TRANSITIONS = {"clicked": 8, "other": 5}
STEPS_WALKED = {"clicked": 7, "other": 4}


FUNCTIONS = {"steps": "step_worker", "control": "control_worker", "api": "api_handler"}


def lambda_memory() -> tuple[dict[str, int], str]:
    """Each function's memory (MB) from .chalice/config.json (``lambda_functions``, the prod
    stage's winning), else 512 MB assumed."""
    config = json.loads((kit.ROOT / ".chalice" / "config.json").read_text())
    found: dict[str, int] = {}
    for scope in (config, config.get("stages", {}).get("prod", {})):
        for key, name in FUNCTIONS.items():
            size = scope.get("lambda_functions", {}).get(name, {}).get("lambda_memory_size")
            size = size or scope.get("lambda_memory_size")
            if size:
                found[key] = int(size)
    if len(found) == len(FUNCTIONS):
        return found, "from .chalice/config.json"
    return {k: found.get(k, 512) for k in FUNCTIONS}, (
        "512 MB ASSUMED where .chalice/config.json sets none"
    )


def build_flow(api: kit.Api) -> tuple[str, str, str]:
    """The flow, its tracked link and the owner every contact has; started."""
    api.call("POST", "/v1/sender-domains", {"domain": "bench.example.com"}, expect=201)
    api.call("PATCH", "/v1/settings", {"default_sender_address": "flows@bench.example.com"})
    owner = api.call(
        "POST", "/v1/associates", {"name": "Owner", "email": "owner@bench.example.com"}, expect=201
    ).json["id"]
    vip = api.call("POST", "/v1/selections", {"name": "VIP"}, expect=201).json["id"]
    mailing = api.call(
        "POST",
        "/v1/mailings",
        {
            "name": "Offer",
            "subject": "Hi [[customer.firstname]]",
            "html": '<p>Our offer</p><a href="https://bench.example.com/offer">see it</a>',
        },
        expect=201,
    ).json["id"]
    from chalicelib.ids import new_id
    from chalicelib.store import records
    from chalicelib.store.records import Record

    link = new_id("lnk")
    records.create(
        tenant_of(api),
        "link",
        Record(id=link, data={"url": "https://bench.example.com/offer"}, version=1),
    )

    def tag(value: str) -> dict[str, Any]:
        return {
            "id": f"tag_{value.lower()}",
            "type": "update_contact",
            "settings": {"updates": [{"field": "interests", "action": "add", "value": value}]},
        }

    steps = [
        {"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing}},
        {"id": "wait", "type": "wait_time", "settings": {"duration": "P2D"}},
        {
            "id": "clicked",
            "type": "split",
            "settings": {"basis": "link_clicked"},
            "branches": [
                {
                    "name": "clicked",
                    "condition": {"link_id": link},
                    "steps": [
                        tag("Hot"),
                        {"id": "vip", "type": "add_to_list", "settings": {"selection_id": vip}},
                        {
                            "id": "call",
                            "type": "create_follow_up",
                            "settings": {"title": "Call [[customer.firstname]]", "due_in": "P1D"},
                        },
                        {
                            "id": "tell",
                            "type": "notify_email",
                            "settings": {
                                "to": "our_contact",
                                "subject": "Hot lead",
                                "text": "[[customer.firstname]] clicked the offer",
                            },
                        },
                    ],
                }
            ],
            "everyone_else": {"steps": [tag("Cold")]},
        },
    ]
    flow = api.call(
        "POST",
        "/v1/flows",
        {
            "name": "Representative",
            "email_settings": {
                "from": {"type": "specified", "address": "news@bench.example.com"},
                "reply_to": {"type": "from"},
            },
            "steps": steps,
        },
        expect=201,
    ).json
    errors = [p for p in flow["problems"] if p["severity"] == "error"]
    assert not errors, errors
    api.call("POST", f"/v1/flows/{flow['id']}/start", expect=200)
    return str(flow["id"]), link, str(owner)


_tenants: dict[str, str] = {}


def tenant_of(api: kit.Api) -> str:
    return _tenants[api.key]


def make_contacts(tenant_id: str, owner: str, count: int) -> list[str]:
    """Contacts written in batches by the store's own item builder (set-up, not metered)."""
    from chalicelib.store import records
    from chalicelib.store.models import CrmItem
    from chalicelib.store.records import Record

    made = [f"con_bench{n:06d}" for n in range(count)]
    with CrmItem.batch_write() as batch:
        for n, contact_id in enumerate(made):
            data = {
                "first_name": f"P{n}",
                "email": f"p{n}@example.org",
                "owner_id": owner,
                "consent": {"email": True, "sms": True},
                "subscriptions": [],
                "interests": [],
                "extra_fields": {},
                "created_at": "",
                "updated_at": "",
            }
            batch.save(
                records._item(
                    tenant_id, "contact", Record(id=contact_id, data=data, version=1), None
                )
            )
    return made


def run(participants: int, click_share: float, enrol_minutes: float) -> dict[str, Any]:
    import time

    from chalicelib.clock import iso_ms
    from chalicelib.store import engagement

    with kit.local_aws(), kit.app_client() as client:
        clock = kit.use_clock()
        engine = kit.Engine(clock)
        tenant_id, api = kit.new_tenant(client)
        _tenants[api.key] = tenant_id
        flow_id, link, owner = build_flow(api)
        contacts = make_contacts(tenant_id, owner, participants)
        clickers = set(contacts[:: round(1 / click_share)] if click_share else [])
        meter = kit.Meter()
        started = time.perf_counter()
        with kit.metering(meter):
            gap = enrol_minutes * 60 / max(1, participants)
            for n, contact_id in enumerate(contacts):
                t0 = kit.cpu()
                api.call(
                    "POST",
                    f"/v1/flows/{flow_id}/participants",
                    {"contact_id": contact_id},
                    expect=201,
                )
                # The authorizer (ttl 0) is a second Lambda invocation per request; the test
                # client runs it inside this call, so its time is in the API's.
                meter.invocations["api"] += 1
                meter.invocations["authorizer"] += 1
                spent = kit.cpu() - t0
                meter.handler_seconds["api"] = meter.handler_seconds.get("api", 0.0) + spent
                clock.advance(seconds=gap)
                if n % DRAIN_EVERY == DRAIN_EVERY - 1:
                    engine.drain()
            engine.drain()
        # The clicks come in through the tracked-link endpoint (bench/latency.py's subject),
        # not through the flow: recorded here without being metered.
        for contact_id in clickers:
            engagement.record(tenant_id, contact_id, "click", link, iso_ms(clock.now), {})
        with kit.metering(meter):
            # Wake minute by minute, draining as we go (moto's SQS slows with a backlog).
            clock.advance(days=2, seconds=-enrol_minutes * 60)
            for _ in range(int(enrol_minutes) + 3):
                clock.advance(minutes=1)
                engine.drain()
        elapsed = time.perf_counter() - started
        stats = api.call("GET", f"/v1/flows/{flow_id}/stats", expect=200).json
    return {
        "meter": meter,
        "stats": stats,
        "participants": participants,
        "clicked": len(clickers),
        "elapsed": elapsed,
    }


def report(result: dict[str, Any]) -> list[str]:
    meter: kit.Meter = result["meter"]
    stats, n, clicked = result["stats"], result["participants"], result["clicked"]
    # Every step a participant entered, it ran (everyone has finished).
    steps = sum(step["entered"] for step in stats["steps"].values())
    expected = clicked * STEPS_WALKED["clicked"] + (n - clicked) * STEPS_WALKED["other"]
    assert stats["by_status"]["finished"] == n, stats["by_status"]
    assert steps == expected, (steps, expected)
    per_step = 1e6 / steps
    memory, memory_source = lambda_memory()
    lambda_calls = sum(meter.invocations.values())
    handler_s = sum(meter.handler_seconds.values())
    gb_s = sum(seconds * memory[f] / 1024 for f, seconds in meter.handler_seconds.items())
    write_units, read_units = sum(meter.write_units.values()), sum(meter.read_units.values())
    table_writes = sum(v for k, v in meter.write_units.items() if "/" not in k)
    costs = {
        "DynamoDB writes": usd("dynamodb_write_unit", write_units),
        "DynamoDB reads": usd("dynamodb_read_unit", read_units),
        "SQS requests": usd("sqs_request", meter.sqs_requests),
        "Lambda requests": usd("lambda_request", lambda_calls),
        "Lambda duration": usd("lambda_arm_gb_second", gb_s),
        "Scheduler invocations": usd("scheduler_invocation", meter.schedules_fired),
    }
    total = sum(costs.values())
    sfn = clicked * SFN_TRANSITIONS["clicked"] + (n - clicked) * SFN_TRANSITIONS["other"]
    lines = [
        f"cost.py: {n} participants ({clicked} click the link) through the representative flow",
        "  send_email -> wait_time P2D -> split link_clicked -> clicked: update_contact,"
        " add_to_list, create_follow_up, notify_email | else: update_contact",
        f"  participant-steps run: {steps} ({steps / n:.2f} per participant); step messages "
        f"{meter.messages['steps']} ({meter.messages['steps'] / steps:.2f} per step), control "
        f"messages {meter.messages['control']}; wall time {result['elapsed']:.0f} s",
        "",
        "AWS requests per participant-step (by service and operation):",
    ]
    for (service, operation), count in sorted(meter.calls.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {service:9} {operation:22} {count / steps:7.3f}   ({count})")
    lines.append(f"  {'all':32} {meter.requests / steps:7.3f}   ({meter.requests})")
    if meter.emulated:
        emulated = ", ".join(f"{s} {o} {c}" for (s, o), c in sorted(meter.emulated.items()))
        lines.append(f"  not counted (the local runtime firing schedules, AWS does it): {emulated}")
    lines += [
        "",
        "DynamoDB capacity per participant-step (computed from item sizes):",
        f"  write units {write_units / steps:.3f} (tables {table_writes / steps:.3f}, indexes "
        f"{(write_units - table_writes) / steps:.3f}); read units {read_units / steps:.3f}"
        f" ({meter.estimated_read_units:.0f} of {read_units:.0f} estimated)",
    ]
    for name, units in sorted(meter.write_units.items(), key=lambda kv: -kv[1]):
        lines.append(f"    write {name:40} {units / steps:7.3f}")
    for table, read in sorted(meter.read_units.items(), key=lambda kv: -kv[1]):
        lines.append(f"    read  {table:40} {read / steps:7.3f}")
    in_handler_ms = 1000 * meter.handler_seconds["steps"] / max(1, meter.messages["steps"])
    in_queues_s = meter.handler_seconds["steps"] + meter.handler_seconds.get("control", 0.0)
    lines += [
        "",
        f"SQS billed requests (64 KB chunks): {meter.sqs_requests / steps:.3f} per step",
        f"Scheduler: {meter.calls[('scheduler', 'CreateSchedule')]} CreateSchedule calls, "
        f"{meter.schedules_fired} schedules fired (invocations)",
        f"Lambda: {lambda_calls} invocations ({dict(meter.invocations)}), handler time "
        f"{1000 * handler_s:.0f} ms in all; step worker {in_handler_ms:.2f} ms per message",
        f"  memory (MB) {memory} ({memory_source}), arm64: {gb_s:.2f} GB-s",
        "",
        f"Dollars per million participant-steps (prices: {PRICES_AS_OF}):",
    ]
    for name, value in costs.items():
        lines.append(f"  {name:24} ${value * per_step:8.4f}")
    verdict = "meets" if total * per_step <= TARGET_USD_PER_MILLION_STEPS else "MISSES"
    lines.append(
        f"  {'total':24} ${total * per_step:8.4f}   ({verdict} the target of "
        f"${TARGET_USD_PER_MILLION_STEPS:.2f})"
    )
    # The queue workers' time at AWS latency: their own Python, plus each AWS call at
    # AWS_CALL_MS instead of moto's in-process time (the API's time is kept as measured).
    at_latency_s = (
        in_queues_s - meter.handler_aws_seconds + meter.handler_calls * AWS_CALL_MS / 1000
    )
    api_gb_s = meter.handler_seconds.get("api", 0.0) * memory["api"] / 1024
    at_latency = (
        usd("lambda_arm_gb_second", at_latency_s * memory["steps"] / 1024 + api_gb_s) * per_step
    )
    lines += [
        f"  Lambda duration at AWS latency instead of moto's ({AWS_CALL_MS:.0f} ms a call, "
        f"{meter.handler_calls / steps:.2f} calls per step): ${at_latency:.4f}; total "
        f"${(total - costs['Lambda duration']) * per_step + at_latency:.4f}",
        "",
        f"AWS Step Functions Standard, the same flow: {sfn / n:.2f} state transitions per "
        f"participant = {sfn / steps:.3f} per step -> "
        f"${usd('step_functions_transition', sfn) * per_step:.2f} per million steps "
        "(transitions alone; its Task Lambdas and DynamoDB come on top)",
        "",
        "Apart (provider fees and the API's front door, per million participant-steps):",
        f"  SES: {meter.emails} emails -> ${usd('ses_email', meter.emails) * per_step:.2f}; "
        f"SMS: {meter.texts} texts -> ${usd('sms_us', meter.texts) * per_step:.2f}",
        f"  API Gateway: {meter.invocations['api']} enrolment requests -> "
        f"${usd('api_gateway_rest_request', meter.invocations['api']) * per_step:.4f}",
        "",
        "Prices and sources:",
        *sources(),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--click-share", type=float, default=0.5)
    parser.add_argument(
        "--enrol-minutes", type=float, default=60, help="enrolments spread over this long"
    )
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.participants, args.click_share, args.enrol_minutes))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
