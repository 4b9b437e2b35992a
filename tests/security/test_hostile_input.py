"""Hostile request bodies and hostile contact data: over-size and over-deep bodies on every
operation that takes one, merge tags and template syntax in contact data and in templates, HTML
in contact fields, and header breaks in what becomes a header."""

from __future__ import annotations

import email
import json

import pytest

import app  # noqa: F401  (importing the app declares every operation)
from chalicelib.api.auth import Role
from chalicelib.api.registry import api
from chalicelib.api.routing import MAX_BODY_BYTES, Operation
from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_fixtures import World
from tests.functional.helpers import assert_problem, create
from tests.functional.test_action_steps import _emails_sent, _sms_sent, sender_domain

FORM_TYPE = "application/x-www-form-urlencoded"
TAKES_A_BODY = [op for op in api.operations if op.body is not None or op.request_body is not None]


def url(op: Operation) -> str:
    return op.path.replace("{n}", "1").replace("{", "nope_").replace("}", "")


@pytest.mark.parametrize("op", TAKES_A_BODY, ids=[f"{o.method} {o.path}" for o in TAKES_A_BODY])
def test_a_body_over_1_mb_is_413_on_every_operation_that_takes_one(
    admin: Http, op: Operation
) -> None:
    if op.access is None:
        caller = admin.as_key(None)
    elif Role.OPERATOR in op.access:
        caller = admin.as_key(OPERATOR_KEY)
    else:
        caller = admin
    for content_type in op.content_types:
        if content_type == FORM_TYPE:
            body = b"email=a%40example.com&x=" + b"a" * MAX_BODY_BYTES
        else:
            body = b'{"name": "' + b"a" * MAX_BODY_BYTES + b'"}'
        reply = caller.request(op.method, url(op), raw=body, headers={"Content-Type": content_type})
        assert_problem(reply, 413)


def nested(depth: int, leaf: str = '"x"') -> str:
    return '{"a":' * depth + leaf + "}" * depth


def split_inside_split(depth: int) -> str:
    head = ('{"id":"s%d","type":"split","settings":{"basis":"contact_data"},"branches":[{'
            '"name":"b","condition":{"rules":[{"field":"contact.category","op":"eq",'
            '"value":"x"}]},"steps":[')  # fmt: skip
    tail = ']}],"everyone_else":{"exit":false,"steps":[]}}'
    return (
        '{"name":"deep","steps":[' + "".join(head % i for i in range(depth)) + tail * depth + "]}"
    )


@pytest.mark.parametrize("depth", [65, 300, 900, 50_000])
def test_deeply_nested_json_is_400_never_500(admin: Http, anon: Http, depth: int) -> None:
    form = create(admin, "/v1/forms", {"name": "F"})
    deep = nested(depth)
    filter_ = '{"field":"contact.category","op":"eq","value":' + deep + "}"
    set_field = '{"set_field":{"field":"a","value":' + deep + "}}"
    for method, path, raw in [
        ("POST", "/v1/contacts", '{"extra_fields":{"x":' + deep + "}}"),
        ("POST", "/v1/flows", '{"name":"f","filter":[' + filter_ + "]}"),
        ("POST", "/v1/flows", split_inside_split(min(depth // 4, 2000))),
        ("POST", "/v1/contacts/import", '[{"extra_fields":{"x":' + deep + "}}]"),
        ("POST", "/v1/links", '{"url":"https://x.example","actions":' + set_field + "}"),
        ("PATCH", "/v1/settings", deep),
        ("POST", f"/f/{form['id']}", '{"email":"a@example.com","x":' + deep + "}"),
    ]:
        caller = anon if path.startswith("/f/") else admin
        body = assert_problem(caller.request(method, path, raw=raw.encode()), 400)
        assert body["detail"], (path, body)
    assert admin.get("/v1/contacts").json["items"] == []
    assert admin.get("/v1/flows").json["items"] == []


def test_fifteen_splits_one_inside_another_are_still_a_flow(admin: Http) -> None:
    reply = admin.post("/v1/flows", raw=split_inside_split(15).encode())
    assert reply.status == 201, reply.body


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_an_import_refuses_numbers_json_does_not_have(admin: Http, constant: str) -> None:
    raw = '[{"email":"a@example.com","extra_fields":{"x":' + constant + "}}]"
    assert_problem(admin.post("/v1/contacts/import", raw=raw.encode()), 400)
    assert admin.get("/v1/contacts").json["items"] == []


# -- what contacts write, in what the product sends ---------------------------------------------


HOSTILE_NAME = '<b onmouseover="x()">[[customer.email]]</b> {{7*7}} {0.__class__} ${7*7}'
HOSTILE_NOTE = '"><script>alert(1)</script>[[ourContact.email]] %s {{config}}'
TEMPLATE = "{{7*7}} {0.__class__.__mro__} ${7*7} #{7*7} <%= 7*7 %> %(x)s {{ config }}"


def test_merge_tags_and_template_syntax_stay_literal_and_html_is_escaped(
    world: World,
) -> None:
    domain = sender_domain(world.http)
    world.http.post("/v1/extra-fields", {"name": "note", "type": "text"})
    owner = create(world.http, "/v1/associates", {"name": "Olga", "email": "olga@example.com"})
    contact = world.contact(
        first_name=HOSTILE_NAME,
        email="target@example.com",
        mobile_phone="+4791234567",
        owner_id=owner["id"],
        extra_fields={"note": HOSTILE_NOTE},
    )
    mailing = create(world.http, "/v1/mailings", {
        "name": "News", "subject": "Hi [[customer.firstname]] " + TEMPLATE,
        "html": "<p>Hi [[customer.firstname]]</p><p>[[customer.extra.note]]</p><p>"
                + TEMPLATE + "</p>",
        "text": "Hi [[customer.firstname]] / [[customer.extra.note]] / " + TEMPLATE})  # fmt: skip
    steps = [
        {"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing["id"]}},
        {"id": "sms", "type": "send_sms", "settings": {
            "text": "Hi [[customer.firstname]] [[customer.extra.note]] " + TEMPLATE}},
    ]  # fmt: skip
    flow = world.flow(steps, sms_sender="Flows", email_settings={
        "from": {"type": "specified", "address": f"news@{domain}"},
        "reply_to": {"type": "from"}})  # fmt: skip
    emails, texts = len(_emails_sent()), len(_sms_sent())
    world.enrol(flow, contact)
    world.engine.drain()

    [raw] = _emails_sent()[emails:]
    message = email.message_from_string(raw.raw_data)
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk()
             if not p.is_multipart()}  # fmt: skip
    html, text = parts["text/html"], parts["text/plain"]
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    # A tag inside contact data is text, not a tag: nobody's address leaks through it.
    for rendered in (html, text, subject):
        assert "target@example.com" not in rendered
        assert "olga@example.com" not in rendered
        assert "49" not in rendered  # nothing was evaluated
        assert TEMPLATE.replace("<", "&lt;") in rendered or TEMPLATE in rendered
    assert subject == f"Hi {HOSTILE_NAME} {TEMPLATE}"
    assert "<b onmouseover" not in html
    assert "<script>" not in html
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;[[customer.email]]&lt;/b&gt;" in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;[[ourContact.email]]" in html
    assert f"Hi {HOSTILE_NAME} / {HOSTILE_NOTE} / {TEMPLATE}" in text.replace("\r\n", "\n")
    [(to, sms)] = _sms_sent()[texts:]
    assert (to, sms) == ("+4791234567", f"Hi {HOSTILE_NAME} {HOSTILE_NOTE} {TEMPLATE}")
    assert [p.status for p in world.everyone(flow)] == ["finished"]
    world.check(flow)


def test_a_line_break_in_contact_data_never_makes_a_header(world: World) -> None:
    domain = sender_domain(world.http)
    contact = world.contact(first_name="Ada\r\nBcc: spy@evil.example", email="ada@example.com")
    mailing = create(world.http, "/v1/mailings", {
        "name": "News", "subject": "Hi [[customer.firstname]]", "text": "Hello"})  # fmt: skip
    flow = world.flow(
        [{"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing["id"]}}],
        email_settings={"from": {"type": "specified", "address": f"news@{domain}"},
                        "reply_to": {"type": "from"}},
    )  # fmt: skip
    before = len(_emails_sent())
    world.enrol(flow, contact)
    world.engine.drain()

    [raw] = _emails_sent()[before:]
    message = email.message_from_string(raw.raw_data)
    assert message["Bcc"] is None
    assert "spy@evil.example" not in str(raw.destinations)
    assert message["Subject"] == "Hi Ada Bcc: spy@evil.example"
    assert [p.status for p in world.everyone(flow)] == ["finished"]
    world.check(flow)


def test_contact_data_in_the_api_is_returned_as_written(admin: Http) -> None:
    contact = create(admin, "/v1/contacts", {"first_name": HOSTILE_NAME})
    reply = admin.get(f"/v1/contacts/{contact['id']}")
    assert reply.content_type == "application/json"
    assert json.loads(reply.body)["first_name"] == HOSTILE_NAME
