"""A click on a tracked link (``GET /l/{token}``, SPEC.md §6).

The token is signed (``messaging.tokens``) and names the tenant, the contact, and either a
tracked link (``l``) or, for a plain link in an email, the url itself (``u``); an email's
tokens also name the flow, step, mailing and participant. A forged, truncated or other-kind
token, or a link that no longer exists, answers 404 and runs nothing.

A valid click, in order: the click is recorded (for splits, success criteria and the step's
``clicked`` figure, once per message), the link's actions run (every click, or the contact's
first with ``once_per_contact``), ``link_clicked`` triggers fire, waits on the link are woken,
and the script (if any) is called with a 2 s budget; its ``returnUrl`` replaces the redirect
when it is an http(s) url. The answer is a 302 to the link's own url (or that returnUrl) or the
link's text: never a url the token's holder chose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.api.problems import NotFoundError
from chalicelib.clock import Clock, iso_ms
from chalicelib.crm.resources import CONTACT, LINK, SCRIPT
from chalicelib.engine.runtime import runtime
from chalicelib.ids import new_id
from chalicelib.messaging import tokens
from chalicelib.store import counters, engagement, records
from chalicelib.triggers.actions import Actions
from chalicelib.triggers.fire import fire, wake
from chalicelib.triggers.kinds import Fired
from chalicelib.triggers.models import Link, LinkActions, is_http_url

log = logging.getLogger("flows.triggers")

SCRIPT_BUDGET_S = 2.0


@dataclass(frozen=True)
class ClickAnswer:
    """Where the click goes (``redirect``) or what it shows (``text``)."""

    redirect: str | None = None
    text: str | None = None


def tracked_url(tenant_id: str, link_id: str, contact_id: str) -> str:
    """The signed url of one link for one contact (what a mailer puts in an email)."""
    if records.get(tenant_id, LINK.kind, link_id) is None:
        raise NotFoundError(f"No link {link_id}.")
    if records.get(tenant_id, CONTACT.kind, contact_id) is None:
        raise NotFoundError(f"No contact {contact_id}.")
    return tokens.url("click", {"t": tenant_id, "c": contact_id, "l": link_id})


def click(token: str, clock: Clock) -> ClickAnswer:
    """Handle one click; NotFoundError for a token this deployment did not sign."""
    try:
        about = tokens.verify("click", token)
    except tokens.BadTokenError as error:
        raise NotFoundError("No such link.") from error
    tenant_id, contact_id = str(about.get("t") or ""), str(about.get("c") or "")
    link_id = about.get("l")
    if not tenant_id or not contact_id:
        raise NotFoundError("No such link.")
    if link_id is None:
        return _plain_click(about, tenant_id, contact_id, clock)
    record = records.get(tenant_id, LINK.kind, str(link_id))
    if record is None:
        raise NotFoundError("No such link.")
    link = Link.model_validate(record.data | {"id": record.id}, strict=False)
    if records.get(tenant_id, CONTACT.kind, contact_id) is None:
        return ClickAnswer(redirect=link.url)  # the contact was deleted: just go there
    click_id = new_id("clk")
    hits = _record_click(about, tenant_id, contact_id, link.id, link.url, clock, click_id)
    actions = link.actions
    if not actions.once_per_contact or _first_click(tenant_id, link.id, contact_id, click_id):
        _run_actions(actions, tenant_id, contact_id, link.id, clock)
    fire(tenant_id, Fired("link_clicked", link.id), contact_id, cause=f"link:{link.id}")
    wake(tenant_id, contact_id, "link_clicked", link.id)
    target = link.url
    if actions.script_id:
        target = _script_url(tenant_id, actions.script_id, about, link, hits) or target
    if actions.response.type == "text":
        return ClickAnswer(text=actions.response.text)
    return ClickAnswer(redirect=target)


def _plain_click(
    about: dict[str, Any], tenant_id: str, contact_id: str, clock: Clock
) -> ClickAnswer:
    """A plain link of an email: count it and go to the url the email had (signed by us)."""
    url = str(about.get("u") or "")
    if not is_http_url(url):
        raise NotFoundError("No such link.")
    if records.get(tenant_id, CONTACT.kind, contact_id) is not None:
        _record_click(about, tenant_id, contact_id, "url", url, clock, new_id("clk"))
    return ClickAnswer(redirect=url)


def _first_click(tenant_id: str, link_id: str, contact_id: str, click_id: str) -> bool:
    """Whether this click is the contact's first on the link (one claim decides, even for two
    clicks at once)."""
    return records.claim(tenant_id, f"link_once#{link_id}", contact_id, click_id) == click_id


def _record_click(
    about: dict[str, Any],
    tenant_id: str,
    contact_id: str,
    target: str,
    url: str,
    clock: Clock,
    click_id: str,
) -> int:
    """Remember the click; the contact's number of clicks on this target, this one included."""
    data = {
        "url": url,
        "mailing_id": about.get("m"),
        "flow_id": about.get("f"),
        "step_id": about.get("s"),
        "participant_id": about.get("p"),
        "click_id": click_id,
    }
    engagement.record(tenant_id, contact_id, "click", target, iso_ms(clock()), data)
    if about.get("f") and about.get("s") and about.get("p"):
        counters.count_once(
            tenant_id, str(about["f"]), str(about["s"]), "clicked", f"{about['p']}#{about['s']}"
        )
    return len(engagement.since(tenant_id, contact_id, "click", target, None))


def _run_actions(
    actions: LinkActions, tenant_id: str, contact_id: str, link_id: str, clock: Clock
) -> None:
    run = Actions(tenant_id, contact_id, f"link:{link_id}", clock)
    run.change_contact(
        set_field=actions.set_field,
        add_interest=actions.add_interest,
        remove_interest=actions.remove_interest,
    )
    if actions.add_to_selection:
        run.add_to("selection", actions.add_to_selection.selection_id)
    if actions.remove_from_selection:
        run.remove_from("selection", actions.remove_from_selection.selection_id)
    if actions.add_to_project:
        run.add_to("project", actions.add_to_project.project_id)
    if actions.remove_from_project:
        run.remove_from("project", actions.remove_from_project.project_id)
    if actions.follow_up:
        run.follow_up(actions.follow_up)
    if actions.request:
        run.request(actions.request)


def _script_url(
    tenant_id: str, script_id: str, about: dict[str, Any], link: Link, hits: int
) -> str | None:
    """Call the link's script (2 s budget); its ``returnUrl`` if it is http(s). A slow or
    failing script does not stop the click."""
    script = records.get(tenant_id, SCRIPT.kind, script_id)
    if script is None:
        return None
    payload = {
        "custId": about.get("c"),
        "linkId": link.id,
        "shipmentId": about.get("m") or "",
        "linkUrl": link.url,
        "linkHits": hits,
    }
    try:
        answer = runtime.scripts.call(script.data["function_arn"], payload, SCRIPT_BUDGET_S)
    except Exception as error:  # a timeout, a refusal, a crash of the script
        log.warning("link %s script %s failed: %s", link.id, script_id, type(error).__name__)
        return None
    url = answer.get("returnUrl") if isinstance(answer, dict) else None
    return url if isinstance(url, str) and is_http_url(url) else None
