"""Issue 6 in a real browser: an HTML form submitted to the local stack, and a tracked link
followed, by headless Chromium; then the contact, its activity and the flows' participants are
checked through the API (the local stack's own worker runs the steps)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from playwright.sync_api import Page

from tests.browser.conftest import LocalStack


def ok(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    status, answer = stack.call(method, path, body)
    assert status in (200, 201), (status, answer)
    return answer


def finished_participants(stack: LocalStack, flow_id: str, want: int) -> list[dict[str, Any]]:
    """The flow's finished participants, once there are ``want`` (the worker runs apart)."""
    deadline = time.monotonic() + 20
    while True:
        items = ok(stack, "GET", f"/v1/flows/{flow_id}/participants?status=finished")["items"]
        if len(items) >= want or time.monotonic() > deadline:
            return list(items)
        time.sleep(0.2)


def triggered_flow(stack: LocalStack, trigger: dict[str, Any], selection: str) -> str:
    step = {"id": "add", "type": "add_to_list", "settings": {"selection_id": selection}}
    flow = ok(stack, "POST", "/v1/flows", {"name": f"On {trigger['type']}", "steps": [step],
                                           "triggers": [trigger]})  # fmt: skip
    ok(stack, "POST", f"/v1/flows/{flow['id']}/start")
    return str(flow["id"])


def test_a_browser_submits_a_form_and_follows_a_tracked_link(
    local_stack: LocalStack, page: Page, page_errors: list[str]
) -> None:
    stack, unique = local_stack, uuid.uuid4().hex[:8]
    address = f"ada-{unique}@example.com"
    selection = ok(stack, "POST", "/v1/selections", {"name": f"Entered {unique}"})["id"]
    form = ok(stack, "POST", "/v1/forms", {
        "name": f"Signup {unique}", "fields": [{"name": "first_name", "required": True}],
        "thank_you_url": f"{stack.base_url}/health?thanks=1",
        "actions": {"add_interest": "Demo"}})  # fmt: skip
    link = ok(stack, "POST", "/v1/links", {"url": f"{stack.base_url}/health?clicked=1",
                                           "actions": {"add_interest": "Pricing"}})  # fmt: skip
    on_form = triggered_flow(stack, {"type": "form_submitted", "form_id": form["id"]}, selection)
    on_link = triggered_flow(stack, {"type": "link_clicked", "link_id": link["id"]}, selection)

    # A web page with the form, posting to the form's submit_url as a browser does.
    page.set_content(
        f'<form method="post" action="{form["submit_url"]}">'
        '<input name="email"><input name="first_name">'
        '<input name="_hp" type="hidden" value="">'
        '<button type="submit">Send</button></form>'
    )
    page.fill("input[name=email]", address)
    page.fill("input[name=first_name]", "Ada")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{stack.base_url}/health?thanks=1"  # the 303 to the thank-you url

    [contact] = ok(stack, "GET", f"/v1/contacts?email={address}")["items"]
    assert (contact["first_name"], contact["interests"]) == ("Ada", ["Demo"])
    [entered] = finished_participants(stack, on_form, 1)
    assert entered["contact_id"] == contact["id"]

    # The tracked url a mailer would put in an email, followed by the browser.
    url = ok(stack, "GET", f"/v1/links/{link['id']}/url?contact_id={contact['id']}")["url"]
    page.goto(url)
    assert page.url == f"{stack.base_url}/health?clicked=1"  # the 302 to the link's url
    assert "Pricing" in ok(stack, "GET", f"/v1/contacts/{contact['id']}")["interests"]
    [clicked] = finished_participants(stack, on_link, 1)
    assert clicked["contact_id"] == contact["id"]

    activity = ok(stack, "GET", f"/v1/contacts/{contact['id']}/activity")["items"]
    kinds = [a["type"] for a in activity]
    assert "form_submitted" in kinds
    assert kinds.count("membership_added") == 1  # both flows add to one selection, once
    members = ok(stack, "GET", f"/v1/selections/{selection}/members")["items"]
    assert [m["contact_id"] for m in members] == [contact["id"]]
    # A forged token runs nothing.
    forged = page.goto(url[:-4] + "AAAA")
    assert forged is not None
    assert forged.status == 404
    assert page_errors == []
