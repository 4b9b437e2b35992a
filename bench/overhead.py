"""The step worker's time per step against the AWS operations a step cannot do without
(issue 8, item 2).

A step needs at least: one consistent GetItem (the participant), one conditional write (its
move) and one SQS SendMessage (the next message). All sides run on the same in-process moto, in
the same run, on the same tables and the same queue, interleaved round by round in a rotating
order, and each figure is the median over the rounds:

- worker: the ``steps`` queue's Lambda handler (``app.step_worker``: powertools' batch
  processor, then ``worker.run_step``), fed synthetic SQS events of ten messages built from the
  messages the previous round dispatched, on a flow of ``split`` steps (a decision that makes no
  AWS call of its own: what remains is the engine's protocol). The API takes a flow of at most
  ~19 splits one inside another (JSON at most 64 levels deep), so a flow serves ``BLOCK``
  rounds; then the same contacts are enrolled (untimed) into the next flow of the same shape;
- minimal: a consistent GetItem of a participant item, a conditional PutItem of a participant-
  sized item into the same table (so moto maintains the same indexes), and a SendMessage of a
  step-sized body to the same queue, with the low-level boto3 client. Its round sets the
  worker's next messages aside (untimed) and drops its own afterwards, so every side sends
  into the same backlog (none at first, its own so far);
- batched (for reference): the worker's protocol with its three reads (participant, the flow's
  state projected as the worker reads it, contact) in one consistent BatchGetItem, its commit
  as a TransactWriteItems of two items, and its SendMessage, with the low-level client: the AWS
  calls worker.py makes (it reads those three in one BatchGetItem), without the product's
  Python around them.

Also: a Lambda cold start's share, the time a fresh process takes to make the DynamoDB clients
of every PynamoDB model.

Run: ``python -m bench.overhead [--participants 50 --rounds 30]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from bench import kit

TARGET_RATIO = 1.5
# Worker rounds per flow: its splits nest JSON 3 levels each, and the API takes 64 at most.
BLOCK = 15


def build_flow(api: kit.Api, length: int) -> str:
    """A running flow of ``length`` contact-data splits, each the next one's parent (a split's
    branches hold the rest of the flow); no step makes an AWS call of its own."""
    rest: list[dict[str, Any]] = []
    for n in reversed(range(length)):
        rule = {"field": "contact.first_name", "op": "eq", "value": "VIP"}
        rest = [
            {
                "id": f"s{n}",
                "type": "split",
                "settings": {"basis": "contact_data"},
                "branches": [{"name": "vip", "condition": {"rules": [rule]}, "steps": []}],
                "everyone_else": {"steps": rest},
            }
        ]
    flow = api.call("POST", "/v1/flows", {"name": "Overhead", "steps": rest}, expect=201).json
    errors = [p for p in flow["problems"] if p["severity"] == "error"]
    assert not errors, errors
    api.call("POST", f"/v1/flows/{flow['id']}/start", expect=200)
    return str(flow["id"])


def make_contacts(api: kit.Api, count: int) -> list[str]:
    return [
        str(api.call("POST", "/v1/contacts", {"first_name": f"P{n}"}, expect=201).json["id"])
        for n in range(count)
    ]


def enrol(api: kit.Api, flow_id: str, contacts: list[str]) -> None:
    for contact_id in contacts:
        api.call(
            "POST", f"/v1/flows/{flow_id}/participants", {"contact_id": contact_id}, expect=201
        )


class Walk:
    """The participants' way through flows of ``BLOCK + 1`` splits: every ``BLOCK`` worker
    rounds (untimed, outside the rounds) the messages left are dropped and the contacts are
    enrolled into the next flow, so each round moves every participant from one split to the
    next, as on one long flow."""

    def __init__(self, api: kit.Api, participants: int, rounds: int) -> None:
        self.api = api
        self.contacts = make_contacts(api, participants)
        self.flows = [build_flow(api, BLOCK + 1) for _ in range(-(-rounds // BLOCK))]
        enrol(api, self.flows[0], self.contacts)
        self.done = 0

    def round(self, handler: Any, meter: kit.Meter) -> tuple[float, int]:
        if self.done and self.done % BLOCK == 0:
            kit.take_messages("steps")  # the next split's, BLOCK deep: this flow is done
            enrol(self.api, self.flows[self.done // BLOCK], self.contacts)
        self.done += 1
        return worker_round(handler, meter)


def worker_round(handler: Any, meter: kit.Meter) -> tuple[float, int]:
    """Run every message on the steps queue once, ten per synthetic event; (seconds, steps)."""
    from chalicelib.engine.local_runtime import sqs_event

    messages = kit.take_messages("steps")
    for message in messages:
        message["Attributes"] = {"ApproximateReceiveCount": "1"}
    spent = 0.0
    with kit.metering(meter), kit.no_gc():
        for start in range(0, len(messages), 10):
            event = sqs_event("steps", messages[start : start + 10])
            started = kit.cpu()
            meter.in_handler = True
            result = handler(event, None)
            meter.in_handler = False
            spent += kit.cpu() - started
            assert not result.get("batchItemFailures"), result
    return spent, len(messages)


class Minimal:
    """The three operations a step needs, on the product's participants table and steps queue."""

    def __init__(self, tenant_id: str, flow_id: str) -> None:
        from chalicelib.aws import client, queue_url
        from chalicelib.settings import get_settings

        settings = get_settings()
        self.dynamodb, self.sqs = client("dynamodb"), client("sqs")
        self.table = settings.table("participants")
        self.journal = settings.table("journal")
        self.url = queue_url("steps")
        found = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(participant_id, :par)",
            ExpressionAttributeValues={
                ":pk": {"S": f"{tenant_id}#{flow_id}"},
                ":par": {"S": "par_"},
            },
            Limit=50,
        )["Items"]
        self.keys = [{"pk": i["pk"], "participant_id": i["participant_id"]} for i in found]
        self.template = found[0]
        contact = self.template["contact_id"]["S"]
        self.others = {
            settings.table("flows"): {
                "Keys": [{"tenant_id": {"S": tenant_id}, "flow_id": {"S": flow_id}}],
                "ConsistentRead": True,
                # The flow's state only, as the worker reads it (not the definition)
                "ProjectionExpression": "tenant_id, flow_id, #status, version, generation",
                "ExpressionAttributeNames": {"#status": "status"},
            },
            settings.table("crm"): {
                "Keys": [{"pk": {"S": f"{tenant_id}#contact"}, "sk": {"S": contact}}],
                "ConsistentRead": True,
            },
        }
        self.tenant_id = tenant_id
        self.body = json.dumps(
            {
                "type": "step",
                "tenant": tenant_id,
                "flow": flow_id,
                "participant": "par_x" * 6,
                "step": "s10",
                "seq": 10,
                "contact": contact,
            }
        )
        self.seq = 0

    def round(self, count: int) -> float:
        held = self._set_aside()
        started = kit.cpu()
        for n in range(count):
            self.dynamodb.get_item(
                TableName=self.table, Key=self.keys[n % len(self.keys)], ConsistentRead=True
            )
            self.dynamodb.put_item(
                TableName=self.table,
                Item=self.template
                | {"participant_id": {"S": f"par_minimal{n:05d}"}, "seq": {"N": str(self.seq + 1)}},
                ConditionExpression="attribute_not_exists(seq) OR seq = :seq",
                ExpressionAttributeValues={":seq": {"N": str(self.seq)}},
            )
            self.sqs.send_message(QueueUrl=self.url, MessageBody=self.body)
        spent = kit.cpu() - started
        self._steps_queue()._messages[:] = held  # this round's messages go, the worker's return
        return spent

    def batched_round(self, count: int) -> float:
        """The worker's own protocol with its three reads (participant, flow, contact) in one
        consistent BatchGetItem: a BatchGetItem, the commit's TransactWriteItems (participant
        conditioned on seq, journal item on not existing) and a SendMessage."""
        held = self._set_aside()
        started = kit.cpu()
        for n in range(count):
            participant = self.keys[n % len(self.keys)]
            self.dynamodb.batch_get_item(
                RequestItems={self.table: {"Keys": [participant], "ConsistentRead": True}}
                | self.others
            )
            moved = f"par_batched{n:05d}"
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": self.template
                            | {"participant_id": {"S": moved}, "seq": {"N": str(self.seq + 1)}},
                            "ConditionExpression": "attribute_not_exists(seq) OR seq = :seq",
                            "ExpressionAttributeValues": {":seq": {"N": str(self.seq)}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.journal,
                            "Item": {
                                "pk": {"S": f"{self.tenant_id}#{moved}"},
                                "seq": {"N": str(self.seq)},
                                "data": {"S": '{"event":"bench"}'},
                            },
                            "ConditionExpression": "attribute_not_exists(seq)",
                        }
                    },
                ]
            )
            self.sqs.send_message(QueueUrl=self.url, MessageBody=self.body)
        spent = kit.cpu() - started
        self._steps_queue()._messages[:] = held  # this round's messages go, the worker's return
        return spent

    @staticmethod
    def _steps_queue() -> Any:
        from moto.sqs.models import sqs_backends

        from chalicelib.settings import get_settings

        settings = get_settings()
        return sqs_backends[settings.account_id][settings.region].queues[
            settings.queue_name("steps")
        ]

    def _set_aside(self) -> list[Any]:
        """Take the messages the worker's next round will run off the queue (untimed), so this
        round sends into an empty queue as the worker's does (it takes its messages first):
        moto's SendMessage scans the whole queue, and 50 more queued cost ~2 ms a send."""
        queue = self._steps_queue()
        held = list(queue._messages)
        queue._messages.clear()
        return held


# Run with this process's environment (bench/kit.py's fake credentials and stage).
COLD_START = """
import time
from chalicelib.store.models import ALL_MODELS
started = time.process_time()
for model in ALL_MODELS:
    model._get_connection().connection.client
print(len(ALL_MODELS), 1000 * (time.process_time() - started))
"""


def cold_start_ms() -> tuple[int, float]:
    """In a fresh process: how long making the DynamoDB client of every PynamoDB model takes
    (what a Lambda's cold start pays for the models it touches; no AWS call is made)."""
    done = subprocess.run(  # noqa: S603 (this interpreter, a constant script)
        [sys.executable, "-c", COLD_START],
        cwd=kit.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    models, spent = done.stdout.strip().splitlines()[-1].split()
    return int(models), float(spent)


def run(participants: int, rounds: int, cold_starts: int = 3) -> dict[str, Any]:
    from app import step_worker

    with kit.local_aws(), kit.app_client() as client:
        kit.use_clock()
        tenant_id, api = kit.new_tenant(client)
        walk = Walk(api, participants, rounds)
        minimal = Minimal(tenant_id, walk.flows[0])
        # Both sides run under the same light meter (calls and time, no capacity snapshots),
        # so each AWS call pays the same hook cost on either side.
        meter = kit.Meter(capacity=False)
        walk.round(step_worker, kit.Meter(capacity=False))  # warm-up: caches, imports
        with kit.metering(kit.Meter(capacity=False)):
            minimal.round(participants)
            minimal.batched_round(participants)
        minimal.seq += 1
        worker_ms, minimal_ms, batched_ms, ratios, batched_ratios = [], [], [], [], []
        steps_run = 0
        for r in range(rounds - 1):
            # The three measurements in a rotating order, so drift falls on all alike.
            spent, base, batched, steps = 0.0, 0.0, 0.0, participants
            for which in (("w", "m", "b"), ("m", "b", "w"), ("b", "w", "m"))[r % 3]:
                if which == "w":
                    spent, steps = walk.round(step_worker, meter)
                    continue
                with kit.metering(kit.Meter(capacity=False)), kit.no_gc():
                    if which == "m":
                        base = minimal.round(participants)
                    else:
                        batched = minimal.batched_round(participants)
            minimal.seq += 1
            assert steps == participants, (steps, participants)
            steps_run += steps
            worker_ms.append(1000 * spent / steps)
            minimal_ms.append(1000 * base / steps)
            batched_ms.append(1000 * batched / steps)
            ratios.append(spent / base)
            batched_ratios.append(batched / base)
    return {
        "cold_start": [cold_start_ms() for _ in range(cold_starts)],
        "worker_ms": worker_ms,
        "minimal_ms": minimal_ms,
        "batched_ms": batched_ms,
        "ratios": ratios,
        "batched_ratios": batched_ratios,
        "meter": meter,
        "steps": steps_run,
        "participants": participants,
    }


def report(result: dict[str, Any]) -> list[str]:
    meter: kit.Meter = result["meter"]
    steps = result["steps"]
    worker, minimal = kit.median(result["worker_ms"]), kit.median(result["minimal_ms"])
    ratio = kit.median(result["ratios"])
    low, high = (
        sorted(result["ratios"])[len(result["ratios"]) // 4],
        sorted(result["ratios"])[(3 * len(result["ratios"])) // 4],
    )
    in_aws = 1000 * meter.handler_aws_seconds / steps
    calls = ", ".join(f"{op} {count / steps:.2f}" for (_, op), count in sorted(meter.calls.items()))
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    return [
        f"overhead.py: {len(result['ratios'])} interleaved rounds of {result['participants']} "
        "steps (synthetic SQS events of 10; splits on contact data)",
        f"  worker (step_worker handler): {worker:.3f} ms per step (median of rounds)",
        f"  minimal (GetItem consistent + conditional PutItem + SendMessage): {minimal:.3f} ms",
        f"  ratio worker / minimal: {ratio:.2f} (median; quartiles {low:.2f}-{high:.2f}) -> "
        f"{verdict} the target of {TARGET_RATIO}",
        f"  the worker's AWS calls per step: {calls}",
        f"  the worker's protocol alone, its 3 reads in one BatchGetItem (+ TransactWriteItems + "
        f"SendMessage): {kit.median(result['batched_ms']):.3f} ms, ratio "
        f"{kit.median(result['batched_ratios']):.2f} to minimal (its AWS calls without the "
        "product's Python)",
        f"  of the worker's time: {in_aws:.3f} ms a step inside AWS calls (moto), "
        f"{worker - in_aws:.3f} ms in the product's and its libraries' Python",
        f"  cold start: a fresh process makes the DynamoDB clients of all "
        f"{result['cold_start'][0][0]} PynamoDB models in "
        f"{kit.median([ms for _, ms in result['cold_start']]):.0f} ms "
        f"(median of {len(result['cold_start'])})",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=50, help="steps per round")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cold-starts", type=int, default=3, help="fresh processes timed")
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.participants, args.rounds, args.cold_starts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
