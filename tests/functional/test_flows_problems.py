"""A flow's problems (SPEC.md §3, §5): found on every save, each with its step, path and severity;
references to objects of the tenant; and the SMS segment count shown on saved steps."""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib.ids import new_id
from chalicelib.settings import get_settings
from chalicelib.store import records
from tests.functional.conftest import OPERATOR_KEY, Http

MiB = 1024 * 1024
EMAIL_SETTINGS = {
    "from": {"type": "specified", "address": "news@example.com", "name": "Example"},
    "reply_to": {"type": "from"},
}
# A flow with every setting its steps may need, so each case below shows only its own problems.
BASE = {
    "name": "Problems",
    "timezone": "Europe/Oslo",
    "sms_sender": "Example",
    "email_settings": EMAIL_SETTINGS,
}
Found = set[tuple[str | None, str, str]]


@dataclass
class Tenant:
    http: Http
    id: str


def new_tenant(chalice_client: Any) -> Tenant:
    reply = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "Problems"})
    assert reply.status == 201, reply.body
    return Tenant(Http(chalice_client, reply.json["api_key"]), reply.json["tenant_id"])


@pytest.fixture
def tenant(chalice_client: Any) -> Tenant:
    return new_tenant(chalice_client)


@pytest.fixture
def stranger(chalice_client: Any) -> Tenant:
    return new_tenant(chalice_client)


def own_domain(http: Http) -> str:
    """The tenant's verified sender domain (a domain belongs to one tenant, so each has its
    own); adding it again is a no-op."""
    domain = f"t{hashlib.sha256((http.key or '').encode()).hexdigest()[:12]}.example.com"
    assert http.post("/v1/sender-domains", {"domain": domain}).status == 201
    return domain


def save(http: Http, **fields: Any) -> dict[str, Any]:
    # Senders at example.com send from the tenant's own verified domain.
    body = json.loads(json.dumps(BASE | fields).replace("@example.com", f"@{own_domain(http)}"))
    reply = http.post("/v1/flows", body)
    assert reply.status == 201, reply.body
    assert reply.json["status"] == "not_running"
    return reply.json


def problems(http: Http, **fields: Any) -> Found:
    """The (step_id, path, severity) of every problem of a flow saved with these fields."""
    flow = save(http, **fields)
    assert all(p["message"] for p in flow["problems"])
    return {(p["step_id"], p["path"], p["severity"]) for p in flow["problems"]}


def one(step_id: str, type_: str, **settings: Any) -> list[dict[str, Any]]:
    return [{"id": step_id, "type": type_, "settings": settings}]


def split_step(*branches: dict[str, Any], basis: str = "selection_member") -> list[Any]:
    return [{"id": "sp", "type": "split", "settings": {"basis": basis}, "branches": list(branches)}]


def seed(tenant_id: str, kind: str) -> str:
    """A form or link of the tenant, written to the store (they have no API yet)."""
    object_id = new_id(kind[:3])
    records.create(tenant_id, kind, records.Record(id=object_id, data={"name": kind}, version=1))
    return object_id


# -- one case per rule -----------------------------------------------------------------------------

INLINE = {"subject": "Hello", "html": "<p>Hello</p>"}
# A split and a wait without problems of their own.
SPLIT = {"id": "sp", "type": "split", "settings": {"basis": "selection_member"}}
WAIT = {"id": "w", "type": "wait_time", "settings": {"duration": "P1D"}}
CASES: dict[str, tuple[dict[str, Any], Found]] = {
    "a clean flow": (
        {"steps": one("e", "send_email", **INLINE) + one("sms", "send_sms", text="Hi")},
        set(),
    ),
    "email without sender or reply-to": (
        {"email_settings": {}, "steps": one("e", "send_email", **INLINE)},
        {("e", "settings.from", "error"), ("e", "settings.reply_to", "error")},
    ),
    "specified sender without an address": (
        {
            "email_settings": {"from": {"type": "specified"}, "reply_to": {"type": "from"}},
            "steps": one("e", "send_email", **INLINE),
        },
        {("e", "settings.from", "error")},
    ),
    "specified reply-to without an address": (
        {
            "email_settings": EMAIL_SETTINGS | {"reply_to": {"type": "specified"}},
            "steps": one("e", "send_email", **INLINE),
        },
        {("e", "settings.reply_to", "error")},
    ),
    "owner as sender without a fallback address": (
        {
            "email_settings": {"from": {"type": "our_contact"}, "reply_to": {"type": "none"}},
            "steps": one("e", "send_email", **INLINE),
        },
        {("e", "settings.from", "warning")},
    ),
    "no sender is no problem without email steps": (
        {"email_settings": {}, "steps": one("sms", "send_sms", text="Hi")},
        set(),
    ),
    "email without content": (
        {"steps": one("e", "send_email", subject="Hello")},
        {("e", "settings.mailing_id", "error")},
    ),
    "email without subject": (
        {"steps": one("e", "send_email", text="Hello")},
        {("e", "settings.subject", "error")},
    ),
    "email without anything": (
        {"steps": one("e", "send_email")},
        {("e", "settings.mailing_id", "error"), ("e", "settings.subject", "error")},
    ),
    "SMS without text": (
        {"steps": one("sms", "send_sms")},
        {("sms", "settings.text", "error")},
    ),
    "SMS without sender": (
        {"sms_sender": None, "steps": one("sms", "send_sms", text="Hi")},
        {("sms", "settings.sender", "error")},
    ),
    "SMS with its own sender": (
        {"sms_sender": None, "steps": one("sms", "send_sms", text="Hi", sender="Shop")},
        set(),
    ),
    "wait for action without actions": (
        {"steps": one("w", "wait_for_action")},
        {("w", "settings.actions", "error")},
    ),
    "wait for action naming no link": (
        {"steps": one("w", "wait_for_action", actions=[{"type": "link_clicked"}])},
        {("w", "settings.actions[0].link_id", "error")},
    ),
    "split branch without a condition": (
        {"steps": split_step({"name": "VIP", "steps": []})},
        {("sp", "branches[0].condition", "error")},
    ),
    "split without a basis": (
        {"steps": [{"id": "sp", "type": "split"}]},
        {("sp", "settings.basis", "error")},
    ),
    "contact-data split with an unknown field": (
        {
            "steps": split_step(
                {
                    "name": "Tall",
                    "condition": {"rules": [{"field": "contact.height", "op": "gt", "value": 2}]},
                },
                basis="contact_data",
            )
        },
        {("sp", "branches[0].condition.rules[0].field", "error")},
    ),
    "steps after a split in the same list are never reached": (
        {"steps": [SPLIT, WAIT | {"id": "w1"}, SPLIT | {"id": "sp2"}]},
        {("w1", "steps[1]", "warning"), ("sp2", "steps[2]", "warning")},
    ),
    "a step after a split inside a split's branch is never reached": (
        {"steps": [SPLIT | {"everyone_else": {"steps": [SPLIT | {"id": "sp2"}, WAIT]}}]},
        {("w", "steps[0].everyone_else.steps[1]", "warning")},
    ),
    "steps before a split and in its branches are reached": (
        {"steps": [WAIT | {"id": "w1"}, SPLIT | {"everyone_else": {"steps": [WAIT]}}]},
        set(),
    ),
    "send window without timezone": (
        {"timezone": None, "send_window": {"days": ["mon"], "start": "09:00", "end": "17:00"}},
        {(None, "send_window", "error")},
    ),
    "send window that ends before it starts": (
        {"send_window": {"days": ["mon"], "start": "17:00", "end": "09:00"}},
        {(None, "send_window.end", "error")},
    ),
    "unknown merge tag in an SMS text": (
        {"steps": one("sms", "send_sms", text="Hi [[customer.nickname]]")},
        {("sms", "settings.text", "error")},
    ),
    "unknown merge tag in an email subject": (
        {"steps": one("e", "send_email", subject="Hi [[customer.nickname]]", html="<p>x</p>")},
        {("e", "settings.subject", "error")},
    ),
    "known merge tags": (
        {
            "steps": one(
                "sms",
                "send_sms",
                text="[[customer.firstname]] [[ company.name ]] [[ourContact.email]]",
            )
        },
        set(),
    ),
    "update contact: toggle a text field": (
        {
            "steps": one(
                "u", "update_contact", updates=[{"field": "first_name", "action": "toggle"}]
            )
        },
        {("u", "settings.updates[0].action", "error")},
    ),
    "update contact: unknown field": (
        {
            "steps": one(
                "u",
                "update_contact",
                updates=[{"field": "shoe_size", "action": "set", "value": "9"}],
            )
        },
        {("u", "settings.updates[0].field", "error")},
    ),
    "update contact: fitting actions": (
        {
            "steps": one(
                "u",
                "update_contact",
                updates=[
                    {"field": "retired", "action": "toggle"},
                    {"field": "interests", "action": "add", "value": "Pricing"},
                    {"field": "first_name", "action": "set", "value": "[[customer.firstname]]"},
                ],
            )
        },
        set(),
    ),
    "update contact: no rows": (
        {"steps": one("u", "update_contact")},
        {("u", "settings.updates", "error")},
    ),
    "jump to finish without criteria": (
        {"success": {"jump_to_finish": True}},
        {(None, "success.jump_to_finish", "warning")},
    ),
    "a trigger without its target": (
        {"triggers": [{"type": "form_submitted"}]},
        {(None, "triggers[0].form_id", "error")},
    ),
}


@pytest.mark.parametrize(("fields", "expected"), CASES.values(), ids=CASES.keys())
def test_problem(admin: Http, fields: dict[str, Any], expected: Found) -> None:
    assert problems(admin, **fields) == expected


def test_a_form_submitted_split_has_one_branch(tenant: Tenant) -> None:
    form = seed(tenant.id, "form")
    branch = {"name": "yes", "condition": {"form_id": form}}

    two = problems(tenant.http, steps=split_step(branch, branch, basis="form_submitted"))
    single = problems(tenant.http, steps=split_step(branch, basis="form_submitted"))

    assert two == {("sp", "branches", "error")}
    assert single == set()


def test_merge_tags_of_the_tenants_extra_fields_are_known(admin: Http) -> None:
    reply = admin.post("/v1/extra-fields", {"name": "shoe_size", "type": "number"})
    assert reply.status == 201, reply.body

    known = problems(admin, steps=one("sms", "send_sms", text="Size [[customer.extra.shoe_size]]"))
    unknown = problems(admin, steps=one("sms", "send_sms", text="Size [[customer.extra.hat]]"))
    update = problems(
        admin,
        steps=one(
            "u", "update_contact", updates=[{"field": "extra.shoe_size", "action": "toggle"}]
        ),
    )

    assert known == set()
    assert unknown == {("sms", "settings.text", "error")}
    assert update == {("u", "settings.updates[0].action", "error")}


def test_problems_are_found_in_branches_and_everyone_else(admin: Http) -> None:
    found = problems(
        admin,
        steps=[
            {
                "id": "sp",
                "type": "split",
                "settings": {"basis": "contact_data"},
                "branches": [
                    {
                        "name": "Leads",
                        "condition": {
                            "rules": [{"field": "contact.category", "op": "eq", "value": "Lead"}]
                        },
                        "steps": one("deep", "send_sms"),
                    }
                ],
                "everyone_else": {"steps": one("rest", "wait_for_action")},
            }
        ],
    )

    assert found == {("deep", "settings.text", "error"), ("rest", "settings.actions", "error")}


# -- attachments ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attachments(chalice_client: Any) -> dict[str, str]:
    """Objects in the attachments bucket: 13 MiB, 12 MiB and one byte."""
    s3 = boto3.client("s3", region_name=get_settings().region)
    keys = {}
    for name, size in (("13", 13 * MiB), ("12", 12 * MiB), ("1", 1)):
        keys[name] = f"tests/{uuid.uuid4()}/{name}.pdf"
        s3.put_object(Bucket=get_settings().attachments_bucket, Key=keys[name], Body=b"0" * size)
    return keys


def email_with(*keys: str) -> list[dict[str, Any]]:
    return one("e", "send_email", **INLINE, attachments=list(keys))


def test_attachments_up_to_25_mb_are_fine(admin: Http, attachments: dict[str, str]) -> None:
    assert problems(admin, steps=email_with(attachments["13"], attachments["12"])) == set()


def test_attachments_over_25_mb_are_a_problem(admin: Http, attachments: dict[str, str]) -> None:
    keys = (attachments["13"], attachments["12"], attachments["1"])

    assert problems(admin, steps=email_with(*keys)) == {("e", "settings.attachments", "error")}


def test_a_missing_attachment_is_a_problem(admin: Http, attachments: dict[str, str]) -> None:
    found = problems(admin, steps=email_with(attachments["1"], "tests/nothing-here.pdf"))

    assert found == {("e", "settings.attachments[1]", "error")}


@pytest.mark.parametrize("key", ["", "a" * 1025], ids=["empty", "longer than S3 allows"])
def test_an_attachment_key_s3_cannot_hold_is_a_missing_attachment(admin: Http, key: str) -> None:
    assert problems(admin, steps=email_with(key)) == {("e", "settings.attachments[0]", "error")}


# -- references ----------------------------------------------------------------------------------

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:hello"
# How to make an object of each kind through the API (forms and links: seeded in the store).
MAKE: dict[str, tuple[str, dict[str, Any]] | None] = {
    "selection": ("/v1/selections", {"name": "VIP"}),
    "project": ("/v1/projects", {"name": "Launch"}),
    "mailing": ("/v1/mailings", {"name": "News", "subject": "Hi", "html": "<p>Hi</p>"}),
    "script": ("/v1/scripts", {"name": "Hook", "function_arn": FUNCTION_ARN}),
    "associate": ("/v1/associates", {"name": "Ann"}),
    "group": ("/v1/groups", {"name": "Sales"}),
    "flow": ("/v1/flows", {"name": "Next"}),
    "form": None,
    "link": None,
}


def make(tenant: Tenant, kind: str) -> str:
    how = MAKE[kind]
    if how is None:
        return seed(tenant.id, kind)
    reply = tenant.http.post(*how)
    assert reply.status == 201, reply.body
    return reply.json["id"]


Where = tuple[str | None, str]


_step_numbers = itertools.count(1)


def at_step(type_: str, path: str, **settings: Any) -> tuple[dict[str, Any], Where]:
    """A flow whose step (of an id unique in this file) names X, and where its problem points."""
    step_id = f"s{next(_step_numbers)}"
    return {"steps": one(step_id, type_, **settings)}, (step_id, f"settings.{path}")


def at_flow(path: str, **fields: Any) -> tuple[dict[str, Any], Where]:
    """A flow naming X in its own settings, and where its problem points."""
    return fields, (None, path)


def on(type_: str, **target: str) -> list[dict[str, str]]:
    """One trigger or success criterion."""
    return [{"type": type_, **target}]


SPLIT_ON_X = split_step({"name": "b", "condition": {"selection_id": "X"}})
# The kind of object, the flow fields that name the object X, and where the problem points.
REFERENCES: list[tuple[str, dict[str, Any], Where]] = [
    ("selection", *at_step("add_to_list", "selection_id", selection_id="X")),
    ("selection", *at_step("remove_from_list", "selection_id", selection_id="X")),
    ("selection", *at_flow("exclusion_selection_ids[0]", exclusion_selection_ids=["X"])),
    (
        "selection",
        *at_flow("triggers[0].selection_id", triggers=on("added_to_selection", selection_id="X")),
    ),
    ("selection", {"steps": SPLIT_ON_X}, ("sp", "branches[0].condition.selection_id")),
    (
        "selection",
        *at_flow(
            "success.criteria[0].selection_id",
            success={"criteria": on("added_to_selection", selection_id="X")},
        ),
    ),
    ("project", *at_step("add_to_list", "project_id", project_id="X")),
    (
        "project",
        *at_step("create_follow_up", "project_id", title="Call", due_in="P1D", project_id="X"),
    ),
    ("project", *at_step("create_sale", "project_id", title="Deal", project_id="X")),
    (
        "form",
        *at_step(
            "wait_for_action", "actions[0].form_id", actions=on("form_submitted", form_id="X")
        ),
    ),
    ("form", *at_flow("triggers[0].form_id", triggers=on("form_submitted", form_id="X"))),
    (
        "link",
        *at_step("wait_for_action", "actions[0].link_id", actions=on("link_clicked", link_id="X")),
    ),
    ("link", *at_flow("triggers[0].link_id", triggers=on("link_clicked", link_id="X"))),
    ("mailing", *at_step("send_email", "mailing_id", mailing_id="X")),
    ("script", *at_step("run_script", "script_id", script_id="X")),
    ("associate", *at_step("distribute_to_owner", "associate_ids[0]", associate_ids=["X"])),
    ("associate", *at_step("create_request", "owner", title="Help", owner="X")),
    ("associate", *at_step("create_sale", "owner", title="Deal", owner="X")),
    (
        "associate",
        *at_step(
            "create_follow_up",
            "assign_to.associate_id",
            title="Call",
            due_in="P1D",
            assign_to={"associate_id": "X"},
        ),
    ),
    ("group", *at_step("distribute_to_owner", "group_id", group_id="X")),
    ("flow", *at_flow("finish.on_success_flow_id", finish={"on_success_flow_id": "X"})),
    ("flow", *at_flow("finish.otherwise_flow_id", finish={"otherwise_flow_id": "X"})),
    ("flow", *at_flow("remove_from_flow_ids[0]", remove_from_flow_ids=["X"])),
]


def naming(fields: dict[str, Any], object_id: str) -> Any:
    """``fields`` with every "X" replaced by ``object_id``."""
    if isinstance(fields, dict):
        return {k: naming(v, object_id) for k, v in fields.items()}
    if isinstance(fields, list):
        return [naming(v, object_id) for v in fields]
    return object_id if fields == "X" else fields


def naming_everywhere(kind: str, object_id: str) -> tuple[dict[str, Any], set[Where]]:
    """One flow naming ``object_id`` in every place REFERENCES lists for ``kind``, and those
    places."""
    fields: dict[str, Any] = {}
    places = set()
    for ref_kind, ref_fields, where in REFERENCES:
        if ref_kind != kind:
            continue
        places.add(where)
        for name, value in naming(ref_fields, object_id).items():
            if isinstance(value, list):
                fields[name] = fields.get(name, []) + value
            else:
                fields[name] = fields.get(name, {}) | value
    return fields, places


@pytest.mark.parametrize("kind", sorted({kind for kind, _, _ in REFERENCES}))
def test_references_must_name_objects_of_the_tenant(
    tenant: Tenant, stranger: Tenant, kind: str
) -> None:
    mine, places = naming_everywhere(kind, make(tenant, kind))
    theirs, _ = naming_everywhere(kind, make(stranger, kind))

    found_for_mine = {(step_id, path) for step_id, path, _ in problems(tenant.http, **mine)}
    found_for_theirs = problems(tenant.http, **theirs)

    assert found_for_mine & places == set()
    assert {(*where, "error") for where in places} <= found_for_theirs


def naming_every_kind(ids: dict[str, str]) -> dict[str, Any]:
    """Flow fields that name one object of every kind (``ids``: kind -> id)."""
    return {
        "triggers": on("form_submitted", form_id=ids["form"]),
        "steps": [
            *one("e", "send_email", mailing_id=ids["mailing"]),
            *one("w", "wait_for_action", actions=on("link_clicked", link_id=ids["link"])),
            *one("a", "add_to_list", selection_id=ids["selection"], project_id=ids["project"]),
            *one(
                "d", "distribute_to_owner", associate_ids=[ids["associate"]], group_id=ids["group"]
            ),
            *one("r", "run_script", script_id=ids["script"]),
        ],
        "finish": {"on_success_flow_id": ids["flow"]},
    }


def test_references_to_objects_of_the_tenant_let_the_flow_start(tenant: Tenant) -> None:
    flow = save(tenant.http, **naming_every_kind({kind: make(tenant, kind) for kind in MAKE}))

    assert flow["problems"] == []
    reply = tenant.http.post(f"/v1/flows/{flow['id']}/start")
    assert reply.status == 200, reply.body
    assert reply.json["status"] == "running"


def test_references_to_nothing_are_problems_that_block_start(admin: Http) -> None:
    flow = save(admin, **naming_every_kind({kind: f"{kind}_nope" for kind in MAKE}))

    assert {(p["step_id"], p["path"], p["severity"]) for p in flow["problems"]} == {
        (None, "triggers[0].form_id", "error"),
        ("e", "settings.mailing_id", "error"),
        ("w", "settings.actions[0].link_id", "error"),
        ("a", "settings.selection_id", "error"),
        ("a", "settings.project_id", "error"),
        ("d", "settings.associate_ids[0]", "error"),
        ("d", "settings.group_id", "error"),
        ("r", "settings.script_id", "error"),
        (None, "finish.on_success_flow_id", "error"),
    }
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 422
    assert admin.get(f"/v1/flows/{flow['id']}").json["status"] == "not_running"


# -- SMS segments --------------------------------------------------------------------------------

SEGMENTS = {
    "160 GSM-7 characters": ("a" * 160, "GSM-7", 1),
    "161 GSM-7 characters": ("a" * 161, "GSM-7", 2),
    "306 GSM-7 characters": ("a" * 306, "GSM-7", 2),
    "307 GSM-7 characters": ("a" * 307, "GSM-7", 3),
    "80 euro signs fill one part": ("€" * 80, "GSM-7", 1),
    "a euro sign counts double": ("€" + "a" * 159, "GSM-7", 2),
    "an emoji makes it UCS-2": ("Hi 👋", "UCS-2", 1),
    "70 UCS-2 units": ("ж" * 70, "UCS-2", 1),
    "71 UCS-2 units": ("ж" * 71, "UCS-2", 2),
    "an emoji takes two UCS-2 units": ("👋" * 36, "UCS-2", 2),
}


@pytest.mark.parametrize(("text", "encoding", "count"), SEGMENTS.values(), ids=SEGMENTS.keys())
def test_sms_segments_are_shown_on_the_saved_step(
    admin: Http, text: str, encoding: str, count: int
) -> None:
    flow = save(admin, steps=one("sms", "send_sms", text=text) + one("n", "notify_sms", text=text))

    expected = {"encoding": encoding, "count": count}
    assert flow["steps"][0]["segments"] == expected
    assert flow["steps"][1]["segments"] == expected


def test_segments_are_recounted_on_each_save_and_never_taken_from_the_client(
    admin: Http,
) -> None:
    flow = save(admin, steps=one("sms", "send_sms", text="short"))
    flow["steps"][0]["settings"]["text"] = "a" * 200
    flow["steps"][0]["segments"] = {"encoding": "UCS-2", "count": 99}
    flow["steps"].append({"id": "w", "type": "wait_time", "settings": {"duration": "P1D"}})
    flow["steps"][1]["segments"] = {"encoding": "GSM-7", "count": 5}

    reply = admin.put(f"/v1/flows/{flow['id']}", flow)

    assert reply.status == 200, reply.body
    assert reply.json["steps"][0]["segments"] == {"encoding": "GSM-7", "count": 2}
    assert reply.json["steps"][1]["segments"] is None
    assert reply.json["status"] == "not_running"
