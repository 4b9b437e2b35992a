"""Issue 5's proof: a mixed flow for 500 participants sends no message twice, double-books no
meeting slot, shares owners evenly, and a second delivery of every message changes nothing."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest

from chalicelib.clock import iso_ms
from chalicelib.engine import worker
from chalicelib.engine.runtime import runtime
from chalicelib.store import engagement, records
from chalicelib.store.records import Record
from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_kit import (
    Engine,
    assert_invariant,
    participants_of,
)

# make test runs 100; the figure is FLOWS_MIXED_PARTICIPANTS=500 (about 4 minutes here).
PARTICIPANTS = int(os.environ.get("FLOWS_MIXED_PARTICIPANTS", "100"))


class Scripts:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        self.calls.append(payload["participant"]["id"])
        return "req"


def _sent_counts() -> tuple[int, int]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    emails = len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)
    texts = len(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages)
    return emails, texts


@pytest.mark.slow
def test_mixed_flow_for_500_participants(chalice_client: Any, engine: Engine) -> None:
    created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
    tenant_id, admin = created["tenant_id"], Http(chalice_client, created["api_key"])
    assert admin.post("/v1/sender-domains", {"domain": "mixed.example.com"}).status == 201
    admin.patch("/v1/settings", {"default_sender_address": "flows@mixed.example.com"})
    owners = [
        admin.post("/v1/associates", {"name": f"A{n}", "mobile_phone": f"+479123450{n}"}).json["id"]
        for n in range(3)
    ]
    link = "lnk_pricing"
    records.create(
        tenant_id, "link", Record(id=link, data={"url": "https://example.com"}, version=1)
    )
    script = admin.post(
        "/v1/scripts",
        {"name": "s", "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:s"},
    ).json["id"]
    mailing = admin.post(
        "/v1/mailings",
        {
            "name": "m",
            "subject": "Hi [[customer.firstname]]",
            "html": '<a href="https://example.com/p">p</a>',
        },
    ).json["id"]
    steps = [
        {"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing}},
        {"id": "hook", "type": "run_script", "settings": {"script_id": script}},
        {"id": "wait", "type": "wait_time", "settings": {"duration": "P1D"}},
        {
            "id": "clicked",
            "type": "split",
            "settings": {"basis": "link_clicked"},
            "branches": [
                {
                    "name": "clicked",
                    "condition": {"link_id": link},
                    "steps": [
                        {
                            "id": "own",
                            "type": "distribute_to_owner",
                            "settings": {"associate_ids": owners},
                        },
                        {
                            "id": "meet",
                            "type": "create_follow_up",
                            "settings": {"title": "Meet", "type": "meeting"},
                        },
                        {
                            "id": "sale",
                            "type": "create_sale",
                            "settings": {"title": "Deal", "owner": "our_contact"},
                        },
                        {
                            "id": "tell",
                            "type": "notify_sms",
                            "settings": {
                                "to": "our_contact",
                                "text": "Call [[customer.firstname]]",
                            },
                        },
                    ],
                }
            ],
            "everyone_else": {
                "steps": [
                    {
                        "id": "tag",
                        "type": "update_contact",
                        "settings": {
                            "updates": [{"field": "category", "action": "select", "value": "Cold"}]
                        },
                    },
                    {
                        "id": "req",
                        "type": "create_request",
                        "settings": {"title": "Check", "owner": "unassigned"},
                    },
                ]
            },
        },
    ]
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Mixed",
            "sms_sender": "Flows",
            "email_settings": {
                "from": {"type": "specified", "address": "news@mixed.example.com"},
                "reply_to": {"type": "from"},
            },
            "steps": steps,
        },
    ).json
    assert [p for p in flow["problems"] if p["severity"] == "error"] == [], flow["problems"]
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    scripts = Scripts()
    runtime.scripts = scripts
    delivered: list[dict[str, Any]] = []
    original = worker.run_step

    def recording(message: dict[str, Any], *, receive_count: int = 1) -> None:
        delivered.append(dict(message))
        original(message, receive_count=receive_count)

    worker.run_step = recording  # type: ignore[assignment]
    try:
        emails0, texts0 = _sent_counts()
        contacts = []
        for n in range(PARTICIPANTS):
            contact = records.Record(id=f"con_mix{n:04d}", data=_contact(n), version=1)
            records.create(tenant_id, "contact", contact, unique={"email": f"p{n}@example.com"})
            contacts.append(contact.id)
            reply = admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact.id})
            assert reply.status == 201, reply.body
            if n % 50 == 49:
                engine.drain()
        engine.drain()
        # Every other contact clicks the pricing link during the wait.
        for contact_id in contacts[::2]:
            engagement.record(tenant_id, contact_id, "click", link, iso_ms(engine.clock.now), {})
        engine.advance(days=1, minutes=1)
        emails1, texts1 = _sent_counts()
        assert emails1 - emails0 == PARTICIPANTS
        assert texts1 - texts0 == PARTICIPANTS // 2
        assert len(scripts.calls) == PARTICIPANTS
        everyone = participants_of(tenant_id, flow["id"])
        assert Counter(p.status for p in everyone) == {"finished": PARTICIPANTS}
        assert_invariant(tenant_id, flow["id"])

        # Owners: strict rotation over the clicked half, each its share +-1.
        shares = Counter(
            records.get(tenant_id, "contact", c).data["owner_id"] for c in contacts[::2]
        )  # type: ignore[union-attr]
        assert max(shares.values()) - min(shares.values()) <= 1
        # Meetings: no two overlap for one associate.
        meetings = [
            r.data
            for c in contacts[::2]
            for r in records.list_for_contact(tenant_id, "follow_up", c, limit=10, after=None)[0]
        ]
        slots = Counter((m["associate_id"], m["start"]) for m in meetings)
        assert len(meetings) == PARTICIPANTS // 2
        assert max(slots.values()) == 1

        # Every message delivered a second time, as a duplicate and as a redelivery.
        before = (_sent_counts(), len(scripts.calls), _journal_size(tenant_id, everyone))
        for message in delivered:
            original(json.loads(json.dumps(message)), receive_count=1)
            original(json.loads(json.dumps(message)), receive_count=2)
        engine.drain()
        after = (_sent_counts(), len(scripts.calls), _journal_size(tenant_id, everyone))
        assert after == before
        assert_invariant(tenant_id, flow["id"])
    finally:
        worker.run_step = original  # type: ignore[assignment]


def _contact(n: int) -> dict[str, Any]:
    return {
        "first_name": f"P{n}",
        "email": f"p{n}@example.com",
        "consent": {"email": True, "sms": True},
        "subscriptions": [],
        "interests": [],
        "extra_fields": {},
        "created_at": "",
        "updated_at": "",
    }


def _journal_size(tenant_id: str, everyone: list[Any]) -> int:
    from chalicelib.store import participants as store

    return sum(len(store.history(tenant_id, p.participant_id)) for p in everyone)
