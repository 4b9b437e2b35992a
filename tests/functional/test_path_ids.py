"""Ids the server never made answer 404 in a path and 400 in a body, never 500: DynamoDB
refuses an empty key, and a key over 1,024 bytes even in a read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.conftest import Http
from tests.functional.helpers import create, error_paths


@pytest.mark.parametrize("bad", ["", "x" * 300])
@pytest.mark.parametrize(
    "template",
    [
        "/v1/contacts/{}",
        "/v1/flows/{}",
        "/v1/flows/{}/participants",
        "/v1/flows/{}/stats",
        "/v1/selections/{}/members",
    ],
)
def test_empty_or_oversized_ids_are_not_found(admin: Http, template: str, bad: str) -> None:
    if not bad and template.endswith("{}"):
        pytest.skip("a trailing empty id is the list route (/v1/contacts/)")
    reply = admin.get(template.format(bad))
    assert reply.status == 404, reply.body
    assert reply.content_type == "application/problem+json"


LONG = "x" * 2000


def step(type_: str, **settings: Any) -> dict[str, Any]:
    return {"steps": [{"id": "s", "type": type_, "settings": settings}]}


def split(**condition: Any) -> dict[str, Any]:
    branch = {"name": "b", "condition": condition}
    return {"steps": [{"id": "s", "type": "split", "branches": [branch]}]}


FLOW = ("/v1/flows", {"name": "F"})
LINK = ("/v1/links", {"url": "https://example.com/offer"})
FORM = ("/v1/forms", {"name": "F"})
# (collection, a valid body, what puts an oversized id in it, the path of the 400's error)
BODY_IDS = [
    (*FLOW, {"triggers": [{"type": "form_submitted", "form_id": LONG}]}, "triggers.0.form_id"),
    (*FLOW, {"triggers": [{"type": "link_clicked", "link_id": LONG}]}, "triggers.0.link_id"),
    (*FLOW, {"triggers": [{"type": "added_to_project", "project_id": LONG}]},
     "triggers.0.project_id"),
    (*FLOW, {"exclusion_selection_ids": [LONG]}, "exclusion_selection_ids.0"),
    (*FLOW, {"remove_from_flow_ids": [LONG]}, "remove_from_flow_ids.0"),
    (*FLOW, {"success": {"criteria": [{"type": "added_to_selection", "selection_id": LONG}]}},
     "success.criteria.0.selection_id"),
    (*FLOW, {"finish": {"otherwise_flow_id": LONG}}, "finish.otherwise_flow_id"),
    (*FLOW, {"owner_id": LONG}, "owner_id"),
    (*FLOW, step("send_email", mailing_id=LONG), "steps.0.send_email.settings.mailing_id"),
    (*FLOW, step("add_to_list", selection_id=LONG), "steps.0.add_to_list.settings.selection_id"),
    (*FLOW, step("run_script", script_id=LONG), "steps.0.run_script.settings.script_id"),
    (*FLOW, step("create_request", owner=LONG), "steps.0.create_request.settings.owner"),
    (*FLOW, step("distribute_to_owner", associate_ids=[LONG]),
     "steps.0.distribute_to_owner.settings.associate_ids.0"),
    (*FLOW, step("wait_for_action", actions=[{"type": "form_submitted", "form_id": LONG}]),
     "steps.0.wait_for_action.settings.actions.0.form_submitted.form_id"),
    (*FLOW, split(selection_id=LONG), "steps.0.split.branches.0.condition.selection_id"),
    (*LINK, {"actions": {"add_to_project": {"project_id": LONG}}},
     "actions.add_to_project.project_id"),
    (*LINK, {"actions": {"request": {"title": "T", "owner": LONG}}}, "actions.request.owner"),
    (*FORM, {"actions": {"response_mailing_id": LONG}}, "actions.response_mailing_id"),
    (*FORM, {"actions": {"request": {"title": "T", "owner": LONG}}}, "actions.request.owner"),
    ("/v1/contacts", {}, {"service_owner_id": LONG}, "service_owner_id"),
]  # fmt: skip


@pytest.mark.parametrize("write", ["create", "change"])
@pytest.mark.parametrize(
    ("collection", "valid", "oversized", "field"),
    BODY_IDS,
    ids=[f"{collection}:{field}" for collection, _, _, field in BODY_IDS],
)
def test_an_oversized_id_in_a_body_is_400_at_its_field_and_writes_nothing(
    admin: Http,
    write: str,
    collection: str,
    valid: dict[str, Any],
    oversized: dict[str, Any],
    field: str,
) -> None:
    if write == "create":
        assert error_paths(admin.post(collection, valid | oversized)) == [field]
        assert admin.get(collection).json["items"] == []
        return
    url = f"{collection}/{create(admin, collection, valid)['id']}"
    before = admin.get(url).json
    method = "PUT" if collection == "/v1/flows" else "PATCH"
    assert error_paths(admin.request(method, url, valid | oversized)) == [field]
    assert admin.get(url).json == before


def test_an_oversized_associate_id_in_the_settings_is_400(admin: Http) -> None:
    before = admin.get("/v1/settings").json
    reply = admin.patch("/v1/settings", {"request_categories": {"Support": [LONG]}})
    assert error_paths(reply) == ["request_categories.Support.0"]
    assert admin.get("/v1/settings").json == before
