"""Action steps through the worker on moto: their effects in the CRM tables, once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib.engine.runtime import runtime
from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_kit import (
    Engine,
    assert_invariant,
    participants_of,
)


@pytest.fixture
def tenant(chalice_client: Any) -> tuple[str, Http]:
    created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
    return created["tenant_id"], Http(chalice_client, created["api_key"])


def sender_domain(admin: Http) -> str:
    """A sender domain of this tenant's own (a domain belongs to one tenant), verified."""
    domain = f"t{uuid.uuid4().hex[:10]}.example.com"
    reply = admin.post("/v1/sender-domains", {"domain": domain})
    assert reply.status == 201, reply.body
    assert reply.json["status"] == "verified"
    return domain


def run_flow(
    admin: Http, engine: Engine, steps: list[dict[str, Any]], contact_id: str
) -> dict[str, Any]:
    reply = admin.post("/v1/flows", {"name": "Actions", "steps": steps})
    assert reply.status == 201, reply.body
    flow = reply.json
    assert [p for p in flow["problems"] if p["severity"] == "error"] == []
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    enrolled = admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact_id})
    assert enrolled.status == 201, enrolled.body
    engine.drain()
    return flow


def test_update_contact_applies_every_kind_of_action(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    tenant_id, admin = tenant
    admin.post("/v1/extra-fields", {"name": "score", "type": "number"})
    company = admin.post("/v1/companies", {"name": "Acme"}).json["id"]
    contact = admin.post(
        "/v1/contacts",
        {
            "first_name": "Ada",
            "last_name": "Smith-Smith",
            "email": "ada@example.com",
            "company_id": company,
            "interests": ["News"],
        },
    ).json["id"]
    updates = [
        {"field": "category", "action": "select", "value": "Lead"},
        {"field": "interests", "action": "add", "value": "Pricing"},
        {"field": "interests", "action": "remove", "value": "News"},
        {"field": "consent.sms", "action": "toggle"},
        {"field": "extra.score", "action": "set", "value": 42},
        {
            "field": "last_name",
            "action": "search_replace",
            "value": {"search": "Smith", "replace": "S"},
        },
        {"field": "first_name", "action": "set", "value": "[[customer.firstname]]!"},
        {"field": "company.name", "action": "set", "value": "Acme AS"},
    ]
    flow = run_flow(
        admin,
        engine,
        [{"id": "u", "type": "update_contact", "settings": {"updates": updates}}],
        contact,
    )

    got = admin.get(f"/v1/contacts/{contact}").json
    assert got["category"] == "Lead"
    assert got["interests"] == ["Pricing"]
    assert got["consent"]["sms"] is False
    assert got["extra_fields"] == {"score": 42}
    assert got["last_name"] == "S-S"
    assert got["first_name"] == "Ada!"
    assert admin.get(f"/v1/companies/{company}").json["name"] == "Acme AS"
    activity = admin.get(f"/v1/contacts/{contact}/activity").json["items"]
    changed = [a for a in activity if a["type"] == "fields_changed"]
    assert len(changed) == 1
    assert "company.name" in changed[0]["fields"]
    [p] = participants_of(tenant_id, flow["id"])
    assert p.status == "finished"
    assert_invariant(tenant_id, flow["id"])


def test_add_and_remove_from_lists_are_idempotent(tenant: tuple[str, Http], engine: Engine) -> None:
    tenant_id, admin = tenant
    vip = admin.post("/v1/selections", {"name": "VIP"}).json["id"]
    old = admin.post("/v1/projects", {"name": "Old"}).json["id"]
    contact = admin.post("/v1/contacts", {"email": "b@example.com"}).json["id"]
    assert admin.put(f"/v1/projects/{old}/members/{contact}").status == 200
    steps = [
        {"id": "a1", "type": "add_to_list", "settings": {"selection_id": vip}},
        {"id": "a2", "type": "add_to_list", "settings": {"selection_id": vip}},
        {"id": "r1", "type": "remove_from_list", "settings": {"project_id": old}},
        {"id": "r2", "type": "remove_from_list", "settings": {"project_id": old}},
    ]
    flow = run_flow(admin, engine, steps, contact)

    members = admin.get(f"/v1/selections/{vip}/members").json["items"]
    assert [m["contact_id"] for m in members] == [contact]
    assert admin.get(f"/v1/projects/{old}/members").json["items"] == []
    [p] = participants_of(tenant_id, flow["id"])
    detail = admin.get(f"/v1/flows/{flow['id']}/participants/{p.participant_id}").json
    outcomes = [
        (h["step_id"], h["outcome"], h["reason"]) for h in detail["history"] if h["outcome"]
    ]
    assert outcomes == [
        ("a1", "done", None),
        ("a2", "skipped", "already_member"),
        ("r1", "done", None),
        ("r2", "skipped", "not_member"),
    ]
    stats = admin.get(f"/v1/flows/{flow['id']}/stats").json
    assert stats["steps"]["a2"]["skipped_by_reason"] == {"already_member": 1}
    assert_invariant(tenant_id, flow["id"])


def test_request_sale_and_follow_ups_are_created_for_the_contact(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    tenant_id, admin = tenant
    owner = admin.post("/v1/associates", {"name": "Olga", "email": "olga@example.com"}).json["id"]
    contact = admin.post(
        "/v1/contacts", {"first_name": "Ada", "email": "c@example.com", "owner_id": owner}
    ).json["id"]
    steps = [
        {
            "id": "r",
            "type": "create_request",
            "settings": {"title": "Call [[customer.firstname]]", "message": "m"},
        },
        {
            "id": "s",
            "type": "create_sale",
            "settings": {"title": "Deal", "amount": 100, "date": {"after": "P30D"}},
        },
        {"id": "t", "type": "create_follow_up", "settings": {"title": "Task", "due_in": "P3D"}},
        {"id": "m1", "type": "create_follow_up", "settings": {"title": "Meet", "type": "meeting"}},
        {
            "id": "m2",
            "type": "create_follow_up",
            "settings": {"title": "Meet again", "type": "meeting"},
        },
    ]
    flow = run_flow(admin, engine, steps, contact)

    [request] = admin.get(f"/v1/requests?contact_id={contact}").json["items"]
    assert (request["title"], request["owner_id"]) == ("Call Ada", owner)
    [sale] = admin.get(f"/v1/sales?contact_id={contact}").json["items"]
    assert (sale["owner_id"], sale["amount"], sale["date"]) == (owner, 100, "2026-12-23T10:00:00Z")
    follow_ups = admin.get(f"/v1/follow-ups?contact_id={contact}").json["items"]
    task, first, second = follow_ups
    assert (task["type"], task["start"]) == ("task", "2026-11-26T10:00:00Z")
    # Working hours 09:00-17:00 UTC (the tenant default); the clock says Monday 10:00.
    assert (first["start"], first["end"]) == ("2026-11-23T10:00:00Z", "2026-11-23T10:30:00Z")
    assert (second["start"], second["end"]) == ("2026-11-23T10:30:00Z", "2026-11-23T11:00:00Z")
    assert {f["associate_id"] for f in follow_ups} == {owner}
    kinds = [
        a["kind"]
        for a in admin.get(f"/v1/contacts/{contact}/activity").json["items"]
        if a["type"] == "activity_created"
    ]
    assert sorted(kinds) == ["follow_up", "follow_up", "follow_up", "request", "sale"]
    assert_invariant(tenant_id, flow["id"])


def _sms_sent() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return [
        (m[0], m[1]) for m in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values()
    ]


def _emails_sent() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_send_sms_respects_consent_and_mobile_and_sends_once(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    tenant_id, admin = tenant
    phone = "+4791234501"
    with_mobile = admin.post(
        "/v1/contacts", {"first_name": "Ada", "email": "s1@example.com", "mobile_phone": phone}
    ).json["id"]
    no_consent = admin.post(
        "/v1/contacts",
        {"email": "s2@example.com", "mobile_phone": "+4791234502", "consent": {"sms": False}},
    ).json["id"]
    no_mobile = admin.post("/v1/contacts", {"email": "s3@example.com"}).json["id"]
    steps = [
        {
            "id": "sms",
            "type": "send_sms",
            "settings": {"text": "Hi [[customer.firstname]] €", "exit_if_no_mobile": True},
        },
    ]
    reply = admin.post("/v1/flows", {"name": "SMS", "sms_sender": "Flows", "steps": steps})
    flow = reply.json
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    before = len(_sms_sent())
    for contact in (with_mobile, no_consent, no_mobile):
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
    engine.drain()

    sent = _sms_sent()[before:]
    assert sent == [(phone, "Hi Ada €")]
    by_contact = {p.contact_id: p for p in participants_of(tenant_id, flow["id"])}
    assert by_contact[with_mobile].status == "finished"
    assert by_contact[with_mobile].data["last_sending"]["channel"] == "sms"
    assert by_contact[no_consent].status == "finished"
    assert by_contact[no_mobile].data["dropout_reason"] == "no_mobile"
    stats = admin.get(f"/v1/flows/{flow['id']}/stats").json["steps"]["sms"]
    assert stats["skipped_by_reason"] == {"no_sms_consent": 1}
    activity = admin.get(f"/v1/contacts/{with_mobile}/activity").json["items"]
    [message] = [a for a in activity if a["type"] == "message_sent"]
    assert (message["channel"], message["text"], message["segments"]) == ("sms", "Hi Ada €", 1)
    assert_invariant(tenant_id, flow["id"])


def test_notifications_and_scripts(tenant: tuple[str, Http], engine: Engine) -> None:
    from chalicelib.aws import client

    tenant_id, admin = tenant
    client("sesv2").create_email_identity(EmailIdentity="example.com")
    owner = admin.post(
        "/v1/associates",
        {"name": "Olga", "email": "olga@example.com", "mobile_phone": "+4791234599"},
    ).json["id"]
    contact = admin.post(
        "/v1/contacts", {"first_name": "Ada", "email": "n@example.com", "owner_id": owner}
    ).json["id"]
    script = admin.post(
        "/v1/scripts",
        {"name": "hook", "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:hook"},
    ).json["id"]
    invoked: list[tuple[str, dict[str, Any]]] = []

    class Scripts:
        def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
            invoked.append((function_arn, payload))
            return "req-1"

    saved = runtime.scripts
    runtime.scripts = Scripts()
    try:
        steps = [
            {
                "id": "ne",
                "type": "notify_email",
                "settings": {
                    "to": "our_contact",
                    "subject": "New lead [[customer.firstname]]",
                    "text": "Call [[customer.email]]",
                },
            },
            {
                "id": "ns",
                "type": "notify_sms",
                "settings": {"to": "our_contact", "text": "Lead [[customer.firstname]]"},
            },
            {"id": "rs", "type": "run_script", "settings": {"script_id": script}},
        ]
        reply = admin.post(
            "/v1/flows",
            {
                "name": "Notify",
                "sms_sender": "Flows",
                "email_settings": {"from": {"type": "specified", "address": "news@example.com"}},
                "steps": steps,
            },
        )
        flow = reply.json
        assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
        emails, texts = len(_emails_sent()), len(_sms_sent())
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
        engine.drain()
    finally:
        runtime.scripts = saved

    [email] = _emails_sent()[emails:]
    raw = email.raw_data if hasattr(email, "raw_data") else str(email)
    assert "olga@example.com" in raw
    assert "New lead Ada" in raw
    assert _sms_sent()[texts:] == [("+4791234599", "Lead Ada")]
    [(arn, payload)] = invoked
    assert arn.endswith(":function:hook")
    assert payload["contact"]["id"] == contact
    [p] = participants_of(tenant_id, flow["id"])
    assert p.status == "finished"
    assert_invariant(tenant_id, flow["id"])


def test_send_email_renders_tracks_and_checks_before_sending(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    import email

    from chalicelib.aws import client
    from chalicelib.messaging import tokens
    from chalicelib.settings import get_settings
    from chalicelib.store import records

    tenant_id, admin = tenant
    domain = sender_domain(admin)
    client("s3").put_object(
        Bucket=get_settings().attachments_bucket, Key=f"{tenant_id}/price-list.pdf", Body=b"%PDF-1"
    )
    mailing = admin.post(
        "/v1/mailings",
        {
            "name": "Welcome",
            "subject": "Welcome [[customer.firstname]]",
            "html": "<html><body><p>Hi [[customer.firstname]]</p>"
            '<a href="https://example.com/pricing">Pricing</a></body></html>',
            "text": "Hi [[customer.firstname]]",
        },
    ).json["id"]

    def contact(email_address: str, **fields: Any) -> str:
        body = {"first_name": "<Ada>", "email": email_address, "subscriptions": ["news"]} | fields
        return admin.post("/v1/contacts", body).json["id"]

    ok = contact("ok@example.com")
    no_consent = contact("nc@example.com", consent={"email": False})
    unsubscribed = contact("un@example.com", subscriptions=[])
    suppressed = contact("bounced@example.com")
    records.suppress(tenant_id, "Bounced@example.com", "bounce")
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Mail",
            "email_settings": {
                "from": {"type": "specified", "address": f"news@{domain}", "name": "News"},
                "reply_to": {"type": "from"},
                "subscription": "news",
            },
            "steps": [
                {
                    "id": "mail",
                    "type": "send_email",
                    "settings": {
                        "mailing_id": mailing,
                        "attachments": [f"{tenant_id}/price-list.pdf"],
                    },
                }
            ],
        },
    ).json
    assert [p for p in flow["problems"] if p["severity"] == "error"] == [], flow["problems"]
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    before = len(_emails_sent())
    for contact_id in (ok, no_consent, unsubscribed, suppressed):
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact_id})
    engine.drain()

    [raw] = _emails_sent()[before:]
    message = email.message_from_string(raw.raw_data)
    assert message["To"] == "ok@example.com"
    assert message["Subject"] == "Welcome <Ada>"
    assert message["Reply-To"] == f"news@{domain}"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert tokens.verify("unsubscribe", unsubscribe.rsplit("/", 1)[1])["c"] == ok
    parts = {part.get_content_type(): part for part in message.walk()}
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Hi &lt;Ada&gt;" in html
    assert "https://example.com/pricing" not in html
    tracked = html.split('href="', 1)[1].split('"', 1)[0]
    assert tokens.verify("click", tracked.rsplit("/", 1)[1])["u"] == "https://example.com/pricing"
    assert "/o/" in html
    names = [part.get_filename() for part in message.walk() if part.get_filename()]
    assert names == ["price-list.pdf"]
    stats = admin.get(f"/v1/flows/{flow['id']}/stats").json["steps"]["mail"]
    assert stats["skipped_by_reason"] == {
        "no_email_consent": 1,
        "not_subscribed": 1,
        "suppressed": 1,
    }
    activity = admin.get(f"/v1/contacts/{ok}/activity").json["items"]
    [sent] = [a for a in activity if a["type"] == "message_sent"]
    assert (sent["channel"], sent["subject"]) == ("email", "Welcome <Ada>")
    assert sent["provider_message_id"]
    assert_invariant(tenant_id, flow["id"])


def test_distribute_to_owner_rotates_strictly_and_notifies(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    from chalicelib.aws import client

    tenant_id, admin = tenant
    client("sesv2").create_email_identity(EmailIdentity="example.com")
    admin.patch("/v1/settings", {"default_sender_address": "flows@example.com"})
    group = admin.post("/v1/groups", {"name": "Sales"}).json["id"]
    anna = admin.post("/v1/associates", {"name": "Anna", "email": "anna@example.com"}).json["id"]
    bo = admin.post("/v1/associates", {"name": "Bo", "group_ids": [group]}).json["id"]
    admin.post("/v1/associates", {"name": "Idle", "group_ids": [group], "active": False})
    owned = admin.post("/v1/contacts", {"email": "owned@example.com", "owner_id": bo}).json["id"]
    contacts = [
        admin.post("/v1/contacts", {"email": f"d{n}@example.com"}).json["id"] for n in range(7)
    ]
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Distribute",
            "steps": [
                {
                    "id": "d",
                    "type": "distribute_to_owner",
                    "settings": {"associate_ids": [anna], "group_id": group},
                }
            ],
        },
    ).json
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    emails = len(_emails_sent())
    for contact in [*contacts, owned]:
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
        engine.drain()

    owners = [admin.get(f"/v1/contacts/{c}").json["owner_id"] for c in contacts]
    assert owners == [anna, bo, anna, bo, anna, bo, anna]
    assert admin.get(f"/v1/contacts/{owned}").json["owner_id"] == bo  # only_if_unassigned
    notes = admin.get(f"/v1/associates/{anna}/notifications").json["items"]
    assert len(notes) == 4
    assert {n["contact_id"] for n in notes} == {contacts[i] for i in (0, 2, 4, 6)}
    mails = _emails_sent()[emails:]
    assert len(mails) == 4  # Anna has an address; Bo has none
    assert all("anna@example.com" in m.raw_data for m in mails)
    assert_invariant(tenant_id, flow["id"])


def test_request_owner_auto_rotates_over_the_category_and_sale_type_gives_the_stage(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    tenant_id, admin = tenant
    first = admin.post("/v1/associates", {"name": "First"}).json["id"]
    second = admin.post("/v1/associates", {"name": "Second"}).json["id"]
    settings = {
        "request_categories": {"Support": [first, second]},
        "sale_stages": {"Upsell": "Qualify"},
    }
    assert admin.patch("/v1/settings", settings).status == 200
    steps = [
        {"id": "r", "type": "create_request", "settings": {"title": "Help", "category": "Support"}},
        {"id": "s", "type": "create_sale", "settings": {"title": "More", "type": "Upsell"}},
    ]
    contacts = [
        admin.post("/v1/contacts", {"email": f"r{n}@example.com"}).json["id"] for n in range(3)
    ]
    flow = run_flow(admin, engine, steps, contacts[0])
    for contact in contacts[1:]:
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
        engine.drain()

    owners = [
        admin.get(f"/v1/requests?contact_id={c}").json["items"][0]["owner_id"] for c in contacts
    ]
    assert owners == [first, second, first]
    [sale] = admin.get(f"/v1/sales?contact_id={contacts[0]}").json["items"]
    assert sale["stage"] == "Qualify"
    assert_invariant(tenant_id, flow["id"])


def test_concurrent_workers_never_book_overlapping_meetings(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    """Two workers book a meeting for the same associate at the same moment: both read the same
    free slot, one transaction wins, the other step runs again and takes the next slot."""
    import threading

    from chalicelib.aws import client, queue_url
    from chalicelib.engine import worker

    tenant_id, admin = tenant
    owner = admin.post("/v1/associates", {"name": "Olga"}).json["id"]
    contacts = [
        admin.post("/v1/contacts", {"email": f"m{n}@example.com", "owner_id": owner}).json["id"]
        for n in range(2)
    ]
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Meet",
            "steps": [
                {
                    "id": "meet",
                    "type": "create_follow_up",
                    "settings": {"title": "Meet", "type": "meeting"},
                }
            ],
        },
    ).json
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    for contact in contacts:
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
    sqs = client("sqs")
    received = sqs.receive_message(QueueUrl=queue_url("steps"), MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 2
    both_read = threading.Barrier(2)
    from chalicelib.steps import create_follow_up

    real_first_free = create_follow_up.first_free

    def first_free_then_wait(*args: Any, **kwargs: Any) -> Any:
        slot = real_first_free(*args, **kwargs)
        both_read.wait(timeout=10)  # both workers have chosen before either commits
        return slot

    create_follow_up.first_free = first_free_then_wait  # type: ignore[assignment]
    errors: list[BaseException] = []

    def work(message: dict[str, Any]) -> None:
        try:
            worker.run_step(json.loads(message["Body"]), receive_count=1)
        except BaseException as error:  # the loser's retryable error
            errors.append(error)

    try:
        threads = [threading.Thread(target=work, args=(m,)) for m in received]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        create_follow_up.first_free = real_first_free  # type: ignore[assignment]
    assert len(errors) == 1  # exactly one lost the race, and its message comes back
    for message in received:
        sqs.change_message_visibility(
            QueueUrl=queue_url("steps"), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    engine.drain()

    meetings = [admin.get(f"/v1/follow-ups?contact_id={c}").json["items"][0] for c in contacts]
    assert sorted((m["start"], m["end"]) for m in meetings) == [
        ("2026-11-23T10:00:00Z", "2026-11-23T10:30:00Z"),
        ("2026-11-23T10:30:00Z", "2026-11-23T11:00:00Z"),
    ]
    assert_invariant(tenant_id, flow["id"])


def test_a_meeting_after_working_days_skips_the_weekend(
    tenant: tuple[str, Http], engine: Engine
) -> None:
    tenant_id, admin = tenant
    owner = admin.post("/v1/associates", {"name": "Olga"}).json["id"]
    contact = admin.post("/v1/contacts", {"email": "w@example.com", "owner_id": owner}).json["id"]
    engine.clock.advance(days=4)  # Friday 10:00
    meeting = {"duration": "PT1H", "first_available_after_working_days": 2}
    steps = [
        {
            "id": "m",
            "type": "create_follow_up",
            "settings": {"title": "M", "type": "meeting", "meeting": meeting},
        }
    ]
    flow = run_flow(admin, engine, steps, contact)
    [booked] = admin.get(f"/v1/follow-ups?contact_id={contact}").json["items"]
    assert (booked["start"], booked["end"]) == ("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z")
    assert_invariant(tenant_id, flow["id"])
