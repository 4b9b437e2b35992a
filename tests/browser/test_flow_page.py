"""The flow page (issue 10) in headless Chromium against the local stack: a flow built by
clicking, saved, started and watched; and the API's refusals shown where the user acted."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BUILD, LocalStack

pytestmark = pytest.mark.e2e

# The local stack's worker runs a step within a fraction of a second; this is the upper bound.
WORKER_TIMEOUT_MS = 20_000


def _created(answer: tuple[int, Any]) -> dict[str, Any]:
    status, body = answer
    assert status == 201, body
    assert isinstance(body, dict)
    return body


def _open_with_key(page: Page, stack: LocalStack, hash_: str = "") -> None:
    page.goto(f"{stack.base_url}/ui{hash_}")
    page.get_by_test_id("api-key").fill(stack.api_key)
    page.get_by_test_id("use-key").click()


def _slot(page: Page, list_ref: str, index: int) -> Any:
    return page.locator(f'[data-testid=slot][data-list="{list_ref}"][data-index="{index}"]')


def test_page_is_served_with_a_strict_policy(page: Page, local_stack: LocalStack) -> None:
    response = page.request.get(f"{local_stack.base_url}/ui")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    script = page.request.get(f"{local_stack.base_url}/ui/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    style = page.request.get(f"{local_stack.base_url}/ui/style.css")
    assert style.headers["content-type"].startswith("text/css")
    assert page.request.get(f"{local_stack.base_url}/ui/routes.py").status == 404


def test_build_a_flow_by_clicking_start_it_and_watch_the_counts(
    page: Page, page_errors: list[str], local_stack: LocalStack
) -> None:
    # Given a selection for the branch to add leads to, and a contact to enrol
    tag = uuid.uuid4().hex[:8]
    selection = _created(local_stack.call("POST", "/v1/selections", {"name": f"Leads {tag}"}))
    contact = _created(
        local_stack.call(
            "POST", "/v1/contacts", {"first_name": "Ada", "email": f"ada.{tag}@example.com"}
        )
    )

    # When the user pastes the key and creates a flow
    _open_with_key(page, local_stack)
    page.get_by_test_id("new-flow-name").fill(f"Welcome {tag}")
    page.get_by_test_id("new-flow").click()
    expect(page.get_by_test_id("flowchart")).to_be_visible()
    flow_id = page.url.split("#/flows/")[1]
    panel = page.get_by_test_id("step-panel")

    # ... adds "Update contact" (category := Lead) from the step menu
    _slot(page, "", 0).click()
    page.get_by_test_id("step-menu").locator("[data-step-type=update_contact]").click()
    panel.locator('[data-add="settings.updates"]').click()
    panel.locator('[data-field="settings.updates.0.field"]').fill("category")
    panel.locator('[data-field="settings.updates.0.action"]').select_option("select")
    panel.locator('[data-field="settings.updates.0.value"]').fill("Lead")

    # ... then a split on contact data with a "Leads" branch
    _slot(page, "", 1).click()
    page.get_by_test_id("step-menu").locator("[data-step-type=split]").click()
    panel.locator('[data-field="settings.basis"]').select_option("contact_data")
    panel.locator('[data-add="branches"]').click()
    panel.locator('[data-field="branches.0.name"]').fill("Leads")
    panel.locator('[data-add="branches.0.condition.rules"]').click()
    panel.locator('[data-field="branches.0.condition.rules.0.field"]').fill("contact.category")
    panel.locator('[data-field="branches.0.condition.rules.0.op"]').select_option("eq")
    panel.locator('[data-field="branches.0.condition.rules.0.value"]').fill("Lead")

    # ... and "Add to list" inside that branch, first left without its selection
    split_id = page.locator("[data-testid=step][data-type=split]").get_attribute("data-step-id")
    _slot(page, f"{split_id}/0", 0).click()
    page.get_by_test_id("step-menu").locator("[data-step-type=add_to_list]").click()
    page.get_by_test_id("save").click()

    # Then the save answers with the problem, on the step, as a warning icon's tooltip
    expect(page.get_by_test_id("saved")).to_contain_text("1 problem")
    add = page.locator("[data-testid=step][data-type=add_to_list]")
    expect(add.get_by_test_id("warning")).to_have_attribute("title", re.compile("no selection"))

    # When the selection is filled in and the flow saved again
    add.click()
    panel.locator('[data-field="settings.selection_id"]').fill(selection["id"])
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("saved")).to_contain_text("no problems")
    expect(page.get_by_test_id("warning")).to_have_count(0)
    chart = page.get_by_test_id("flowchart")
    expect(chart.locator("[data-testid=step]")).to_have_count(3)
    expect(chart.get_by_test_id("finish")).to_have_count(2)  # the branch's and everyone else's

    # ... started, and the contact enrolled through the page
    page.get_by_test_id("lifecycle").locator("[data-action=start]").click()
    expect(page.get_by_test_id("status")).to_have_text("running")
    expect(page.get_by_test_id("save")).to_have_count(0)  # a running flow is not edited
    page.get_by_test_id("enrol-contact").fill(contact["email"])
    page.get_by_test_id("enrol").click()
    expect(page.get_by_test_id("enrolled")).to_be_visible()

    # Then the worker walks the participant down the branch and the page's counts follow
    expect(page.get_by_test_id("flow-completed")).to_have_text("1", timeout=WORKER_TIMEOUT_MS)
    expect(page.get_by_test_id("flow-enrolled")).to_have_text("1")
    expect(page.get_by_test_id("flow-in-progress")).to_have_text("0")
    entered = chart.locator("[data-testid=step] [data-testid=entered]")
    expect(entered).to_have_text(["1", "1", "1"], timeout=WORKER_TIMEOUT_MS)
    page.get_by_test_id("close-panel").click()
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "flow-page.png"), full_page=True)
    status, members = local_stack.call("GET", f"/v1/selections/{selection['id']}/members")
    assert status == 200
    assert [m["contact_id"] for m in members["items"]] == [contact["id"]]

    # And the participants tab shows where the participant went, step by step
    page.get_by_test_id("tab-participants").click()
    row = page.get_by_test_id("participant-row")
    expect(row).to_have_count(1)
    expect(row.locator("[data-col=step]")).to_have_text("Finish")
    row.locator("a").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("Update contact")
    expect(history).to_contain_text("Leads")
    expect(history).to_contain_text("Add to list")

    # And the flows list shows the figures too
    page.get_by_role("link", name="← All flows").click()
    listed = page.locator(f"[data-testid=flow-row][data-flow-id='{flow_id}']")
    expect(listed.locator("[data-col=completed]")).to_have_text("1")
    assert page_errors == []


def test_refusals_are_shown_where_the_user_acted(
    page: Page, page_errors: list[str], local_stack: LocalStack
) -> None:
    # Given a flow whose email step has no content, and a running flow with someone waiting
    tag = uuid.uuid4().hex[:8]
    broken = _created(
        local_stack.call(
            "POST",
            "/v1/flows",
            {"name": f"Broken {tag}", "steps": [{"id": "mail", "type": "send_email"}]},
        )
    )
    waiting = _created(
        local_stack.call(
            "POST",
            "/v1/flows",
            {
                "name": f"Waiting {tag}",
                "steps": [
                    {"id": "hold", "type": "wait_time", "settings": {"duration": "PT1H"}},
                    {
                        "id": "tag",
                        "type": "update_contact",
                        "settings": {
                            "updates": [{"field": "interests", "action": "add", "value": "Waited"}]
                        },
                    },
                ],
            },
        )
    )
    contact = _created(
        local_stack.call("POST", "/v1/contacts", {"email": f"grace.{tag}@example.com"})
    )
    assert local_stack.call("POST", f"/v1/flows/{waiting['id']}/start")[0] == 200
    _created(
        local_stack.call(
            "POST", f"/v1/flows/{waiting['id']}/participants", {"contact_id": contact["id"]}
        )
    )
    _wait_until_on_step(local_stack, waiting["id"], "hold")

    # When the user starts the broken flow from the list
    _open_with_key(page, local_stack)
    row = page.locator(f"[data-testid=flow-row][data-flow-id='{broken['id']}']")
    row.locator("[data-action=start]").click()

    # Then the 422 and its problems show in that row, and the flow stays not running
    refusal = row.get_by_test_id("lifecycle-problem")
    expect(refusal).to_contain_text("422")
    expect(refusal).to_contain_text("mail")
    expect(row.get_by_test_id("status")).to_have_text("not running")

    # When the user pauses the waiting flow, opens it and removes the occupied wait
    waiting_row = page.locator(f"[data-testid=flow-row][data-flow-id='{waiting['id']}']")
    expect(waiting_row.locator("[data-action=delete]")).to_be_disabled()  # running
    waiting_row.locator("[data-action=pause]").click()
    expect(waiting_row.get_by_test_id("status")).to_have_text("paused")
    waiting_row.get_by_role("link").click()
    hold = page.locator("[data-testid=step][data-step-id=hold]")
    expect(hold.get_by_test_id("on-step")).to_have_text("1")
    hold.locator("[data-action=remove]").click()
    page.get_by_test_id("save").click()

    # Then the API's 409 names the step, and nothing was saved
    conflict = page.get_by_test_id("save-problem")
    expect(conflict).to_contain_text("409")
    expect(conflict).to_contain_text("hold")
    page.get_by_test_id("discard").click()
    expect(page.locator("[data-testid=step][data-step-id=hold]")).to_be_visible()
    assert page_errors == []


def _wait_until_on_step(stack: LocalStack, flow_id: str, step_id: str) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        status, page = stack.call("GET", f"/v1/flows/{flow_id}/participants")
        assert status == 200, page
        if [p["step_id"] for p in page["items"]] == [step_id]:
            return
        time.sleep(0.1)
    pytest.fail(f"no participant reached {step_id} in time")
