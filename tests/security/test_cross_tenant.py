"""Another tenant's objects, on every resource type and sub-resource: every call that names one
answers 404 exactly as if it did not exist, lists never show it, references to it are refused,
and nothing of the owner's changes. The calls come from the operations registry, so a new
operation with an id in its path is attacked too (it needs a sample body in ``BODIES`` if it
takes one)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

import app  # noqa: F401  (importing the app declares every operation)
from chalicelib.api.registry import api
from chalicelib.api.routing import Operation
from tests.functional.conftest import Http, key_with_role, new_tenant
from tests.functional.helpers import assert_problem, create

ARN = "arn:aws:lambda:us-east-1:123456789012:function:enrich"
HOLD = {"id": "hold", "type": "wait_time", "settings": {"duration": "P30D"}}


@dataclass
class World:
    """One tenant with one object of every kind, and the ids that name them."""

    http: Http
    ids: dict[str, str]
    email: str
    domain: str

    @classmethod
    def build(cls, chalice_client: Any) -> World:
        http = new_tenant(chalice_client)
        tag = uuid.uuid4().hex[:8]
        email = f"ada.{tag}@example.com"
        domain = f"t{tag}.example.com"
        ids: dict[str, str] = {}
        ids["associate"] = create(http, "/v1/associates", {"name": "Olav"})["id"]
        ids["group"] = create(http, "/v1/groups", {"name": "Sales"})["id"]
        ids["company"] = create(http, "/v1/companies", {"name": "Acme"})["id"]
        ids["contact"] = create(
            http,
            "/v1/contacts",
            {"first_name": "Ada", "email": email, "owner_id": ids["associate"]},
        )["id"]
        for kind in ("selection", "project"):
            ids[kind] = create(http, f"/v1/{kind}s", {"name": kind})["id"]
            assert http.put(f"/v1/{kind}s/{ids[kind]}/members/{ids['contact']}").status == 200
        ids["extra_field"] = create(http, "/v1/extra-fields", {"name": "tier", "type": "text"})[
            "id"
        ]
        for kind, path in (("follow_up", "/v1/follow-ups"), ("request", "/v1/requests"),
                           ("sale", "/v1/sales")):  # fmt: skip
            ids[kind] = create(http, path, {"title": kind, "contact_id": ids["contact"]})["id"]
        ids["mailing"] = create(http, "/v1/mailings", {"name": "News", "subject": "Hi"})["id"]
        ids["script"] = create(http, "/v1/scripts", {"name": "s", "function_arn": ARN})["id"]
        ids["link"] = create(http, "/v1/links", {"url": "https://example.com/offer"})["id"]
        ids["form"] = create(http, "/v1/forms", {"name": "F", "processing": "manual"})["id"]
        submitted = Http(http._client).post(f"/f/{ids['form']}", {"email": email})
        assert submitted.status == 200, submitted.body
        ids["submission"] = submitted.json["submission_id"]
        ids["flow"] = create(http, "/v1/flows", {"name": "Hold", "steps": [HOLD]})["id"]
        assert http.post(f"/v1/flows/{ids['flow']}/start").status == 200
        ids["participant"] = create(
            http, f"/v1/flows/{ids['flow']}/participants", {"contact_id": ids["contact"]}
        )["id"]
        ids["key"] = key_with_role(http, "content_editor").key or ""
        ids["key_id"] = http.get("/v1/keys").json["items"][-1]["id"]
        assert http.post("/v1/sender-domains", {"domain": domain}).status == 201
        return cls(http, ids, email, domain)


# What each path parameter names, by the path's first segment.
PARAMS = {
    "contacts": "contact", "companies": "company", "associates": "associate", "groups": "group",
    "selections": "selection", "projects": "project", "extra-fields": "extra_field",
    "follow-ups": "follow_up", "requests": "request", "sales": "sale", "mailings": "mailing",
    "scripts": "script", "links": "link", "forms": "form", "flows": "flow",
}  # fmt: skip
CHILD = {"contact_id": "contact", "pid": "participant", "sid": "submission", "key_id": "key_id"}
# A body each operation would accept for the owner: the intruder's 404 must come from the
# lookup, not from validation.
BODIES: dict[str, dict[str, Any]] = {
    "PATCH /v1/contacts/{id}": {"first_name": "Mallory"},
    "PATCH /v1/companies/{id}": {"name": "Mallory"},
    "PATCH /v1/associates/{id}": {"name": "Mallory"},
    "PATCH /v1/sales/{id}": {"status": "lost"},
    "PATCH /v1/links/{id}": {"url": "https://evil.example/"},
    "PATCH /v1/forms/{id}": {"thank_you_url": "https://evil.example/"},
    "PUT /v1/flows/{id}": {"name": "Mallory", "steps": []},
    "POST /v1/flows/{id}/participants": {"contact_id": "<contact>"},
    "POST /v1/forms/{id}/submissions/{sid}/process": {},
}


def fill(op: Operation, owner: World, parent: World) -> str:
    """The operation's url with the owner's ids, the first one (the parent) from ``parent``."""
    names = re.findall(r"{(\w+)}", op.path)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "n":
            return "1"
        world = parent if name == names[0] else owner
        if name in CHILD:
            return world.ids[CHILD[name]]
        return world.ids[PARAMS[op.path.split("/")[2]]]

    path = re.sub(r"{(\w+)}", value, op.path)
    return path + (f"?contact_id={owner.ids['contact']}" if path.endswith("/url") else "")


def body_of(op: Operation, owner: World) -> Any:
    name = f"{op.method} {op.path}"
    if op.body is None:
        return None
    assert name in BODIES, f"{name} takes a body: add one it accepts to BODIES"
    return {k: owner.ids["contact"] if v == "<contact>" else v for k, v in BODIES[name].items()}


NAMED = [op for op in api.operations if op.access is not None and "{" in op.path]
LISTS = [op for op in api.operations if op.access is not None and op.method == "GET"
         and "{" not in op.path]  # fmt: skip


def snapshot(world: World) -> dict[str, Any]:
    """Everything the owner can read: each object, sub-resource and list."""
    seen = {}
    for op in NAMED + LISTS:
        if op.method == "GET":
            url = fill(op, world, world) if "{" in op.path else op.path
            reply = world.http.get(url)
            assert reply.status == 200, (url, reply.body)
            seen[url] = reply.json
    return seen


@pytest.fixture(scope="module")
def owner(chalice_client: Any) -> World:
    return World.build(chalice_client)


@pytest.fixture(scope="module")
def intruder(chalice_client: Any) -> World:
    return World.build(chalice_client)


def test_every_call_naming_another_tenants_object_is_404_and_changes_nothing(
    owner: World, intruder: World
) -> None:
    before = snapshot(owner)
    refused = []
    for op in NAMED:
        variants = {fill(op, owner, owner)}
        if len(re.findall(r"{\w+}", op.path)) > 1 and not op.path.endswith("{n}"):
            variants.add(fill(op, owner, intruder))  # the intruder's own parent, owner's child
        for url in variants:
            reply = intruder.http.request(op.method, url, body_of(op, owner))
            assert_problem(reply, 404)
            assert owner.email not in reply.body.decode(), url
            refused.append(f"{op.method} {url}")
    assert len(refused) >= len(NAMED)
    assert snapshot(owner) == before
    # The owner's keys all still work (the intruder tried to revoke one).
    assert owner.http.as_key(owner.ids["key"]).get("/v1/contacts").status == 200


def test_no_list_shows_another_tenants_objects(owner: World, intruder: World) -> None:
    secrets = [*owner.ids.values(), owner.email, owner.domain]
    for op in LISTS:
        reply = intruder.http.get(op.path)
        assert reply.status == 200, (op.path, reply.body)
        text = reply.body.decode()
        assert not [s for s in secrets if s in text], op.path
    assert intruder.http.get(f"/v1/contacts?email={owner.email}").json["items"] == []
    for path in ("/v1/follow-ups", "/v1/requests", "/v1/sales"):
        found = intruder.http.get(f"{path}?contact_id={owner.ids['contact']}").json["items"]
        assert found == [], path


def test_references_to_another_tenants_objects_are_refused(owner: World, intruder: World) -> None:
    before = snapshot(owner)
    mine, theirs = intruder.ids, owner.ids
    # Bodies naming their objects.
    for path, body in [
        ("/v1/links", {"url": "https://x.example", "actions": {
            "add_to_selection": {"selection_id": theirs["selection"]}}}),
        ("/v1/links", {"url": "https://x.example", "actions": {"script_id": theirs["script"]}}),
        ("/v1/forms", {"name": "F", "actions": {"response_mailing_id": theirs["mailing"]}}),
        ("/v1/forms", {"name": "F", "actions": {"add_to_project": {
            "project_id": theirs["project"]}}}),
    ]:  # fmt: skip
        assert_problem(intruder.http.post(path, body), 400)
    # Their contact in my flow, my submission, my link's url, my list.
    propose = intruder.http.post(
        f"/v1/flows/{mine['flow']}/participants", {"contact_id": theirs["contact"]}
    )
    assert_problem(propose, 404)
    propose = intruder.http.post(
        f"/v1/flows/{mine['flow']}/participants", {"selection_id": theirs["selection"]}
    )
    assert_problem(propose, 404)
    process = f"/v1/forms/{mine['form']}/submissions/{mine['submission']}/process"
    assert_problem(intruder.http.post(process, {"contact_id": theirs["contact"]}), 400)
    url = f"/v1/links/{mine['link']}/url?contact_id={theirs['contact']}"
    assert_problem(intruder.http.get(url), 404)
    # A flow naming their objects saves (problems are listed, never refused) but cannot start.
    steps = [
        {"id": "add", "type": "add_to_list", "settings": {"selection_id": theirs["selection"]}},
        {"id": "mail", "type": "send_email", "settings": {"mailing_id": theirs["mailing"]}},
        {"id": "run", "type": "run_script", "settings": {"script_id": theirs["script"]}},
    ]
    flow = create(intruder.http, "/v1/flows", {
        "name": "Theirs", "steps": steps,
        "triggers": [{"type": "form_submitted", "form_id": theirs["form"]}],
        "exclusion_selection_ids": [theirs["selection"]],
        "remove_from_flow_ids": [theirs["flow"]]})  # fmt: skip
    flagged = {(p["step_id"], p["path"]) for p in flow["problems"] if "no " in p["message"]}
    assert flagged == {
        (None, "triggers[0].form_id"),
        (None, "exclusion_selection_ids[0]"),
        (None, "remove_from_flow_ids[0]"),
        ("add", "settings.selection_id"),
        ("mail", "settings.mailing_id"),
        ("run", "settings.script_id"),
    }
    assert_problem(intruder.http.post(f"/v1/flows/{flow['id']}/start"), 422)
    # My settings are mine; their sender domain stays theirs.
    assert intruder.http.patch("/v1/settings", {"default_sender_name": "Mallory"}).status == 200
    assert_problem(intruder.http.post("/v1/sender-domains", {"domain": owner.domain}), 409)
    # An import with their contact's email makes a contact of my own.
    imported = intruder.http.post("/v1/contacts/import", [{"email": owner.email}])
    assert imported.status == 200, imported.body
    assert imported.json["created"] == 1
    assert imported.json["contact_ids"] != [theirs["contact"]]
    assert snapshot(owner) == before
