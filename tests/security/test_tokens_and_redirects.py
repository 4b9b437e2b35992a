"""Forged, replayed and other-tenant tokens on the public endpoints, and open-redirect attempts
on tracked links (README "Forms, tracked links and triggers")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.messaging import tokens
from chalicelib.store import engagement
from tests.functional.conftest import Http
from tests.functional.engine_fixtures import World
from tests.functional.test_links_forms import (
    ARN,
    FORM_TYPE,
    Scripts,
    follow,
    last_email_html,
    link,
    mail_flow,
    tracked,
)


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signed_elsewhere(kind: str, payload: dict[str, Any]) -> str:
    """A well-formed token signed with another deployment's key."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(b"another-deployment", kind.encode() + b"." + body, hashlib.sha256).digest()
    return f"{b64(body)}.{b64(mac)}"


def clicks(world: World, contact_id: str, target: str) -> list[dict[str, Any]]:
    return engagement.since(world.tenant_id, contact_id, "click", target, None)


def requests_of(world: World, contact_id: str) -> list[dict[str, Any]]:
    return list(world.http.get(f"/v1/requests?contact_id={contact_id}").json["items"])


# -- click tokens -----------------------------------------------------------------------------


def test_a_replayed_click_counts_again_and_runs_its_actions_again(
    world: World, public: Http
) -> None:
    link_id = link(world, request={"title": "Clicked"})
    contact = world.contact()
    url = tracked(world, link_id, contact)
    for _ in range(3):
        reply = follow(public, url)
        assert (reply.status, reply.headers["Location"]) == (302, "https://example.com/offer")
    assert len(clicks(world, contact, link_id)) == 3
    assert len(requests_of(world, contact)) == 3


def test_a_links_text_is_plain_text_a_browser_may_not_sniff_into_html(
    world: World, public: Http
) -> None:
    script = "<script>alert(document.cookie)</script>"
    link_id = link(world, response={"type": "text", "text": script})
    reply = follow(public, tracked(world, link_id, world.contact()))
    assert (reply.status, reply.body.decode()) == (200, script)
    assert reply.content_type == "text/plain; charset=utf-8"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_tampered_and_foreign_click_tokens_are_404_and_run_nothing(
    world: World, public: Http, chalice_client: Any
) -> None:
    link_id = link(world, request={"title": "Clicked"})
    contact, bystander = world.contact(), world.contact()
    token = token_of(tracked(world, link_id, contact))
    other_token = token_of(tracked(world, link_id, bystander))
    body, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    other = World.new(chalice_client, world.engine)
    theirs = link(other, request={"title": "Theirs"})
    forged = [
        f"{other_token.split('.')[0]}.{mac}",  # another contact's payload, this signature
        f"{b64(json.dumps(payload | {'c': bystander}).encode())}.{mac}",  # payload edited
        signed_elsewhere("click", payload),  # another deployment's key
        tokens.sign("unsubscribe", payload),  # another kind
        tokens.sign("click", {"t": world.tenant_id, "l": link_id}),  # no contact
        tokens.sign("click", {"t": other.tenant_id, "c": contact, "l": link_id}),  # not theirs
        f"{token}.{mac}",
        "é" + token,
    ]
    for bad in forged:
        reply = public.get(f"/l/{bad}")
        assert reply.status == 404, bad
        assert reply.content_type == "application/problem+json"
    # A real token of the other tenant's link, naming a contact of this tenant: the link's
    # tenant has no such contact, so the click goes through without touching anyone.
    crossed = tokens.url("click", {"t": other.tenant_id, "c": contact, "l": theirs})
    assert follow(public, crossed).headers["Location"] == "https://example.com/offer"
    assert clicks(world, contact, link_id) == clicks(world, bystander, link_id) == []
    assert requests_of(world, contact) == requests_of(world, bystander) == []
    assert other.http.get("/v1/requests").json["items"] == []


# -- unsubscribe tokens -----------------------------------------------------------------------


def test_unsubscribe_tokens_forged_foreign_or_replayed(
    world: World, public: Http, chalice_client: Any
) -> None:
    flow = mail_flow(world, link(world), subscription="news")
    contact = world.contact(email="reader@example.com", subscriptions=["news", "offers"])
    before = len(_emails_sent())
    world.enrol(flow, contact)
    world.engine.drain()
    message, _ = last_email_html(before)
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    token = token_of(unsubscribe)
    body, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    other = World.new(chalice_client, world.engine)
    stranger = other.contact(email="stranger@example.com", subscriptions=["news"])
    forged = [
        f"{b64(json.dumps(payload | {'sub': 'offers'}).encode())}.{mac}",
        signed_elsewhere("unsubscribe", payload),
        tokens.sign("click", payload),
        tokens.sign("open", payload),
        token[:-2],
    ]
    for bad in forged:
        assert public.get(f"/u/{bad}").status == 404, bad
        assert public.post(f"/u/{bad}", raw=b"", headers=FORM_TYPE).status == 404, bad
    # A token this deployment signed for the other tenant, naming this tenant's contact.
    crossed = tokens.sign("unsubscribe", payload | {"t": other.tenant_id})
    assert public.post(f"/u/{crossed}", raw=b"", headers=FORM_TYPE).status == 200
    assert world.http.get(f"/v1/contacts/{contact}").json["subscriptions"] == ["news", "offers"]
    # The real one, replayed: the same single effect.
    for _ in range(3):
        reply = follow(public, unsubscribe, "POST", raw=b"List-Unsubscribe=One-Click",
                       headers=FORM_TYPE)  # fmt: skip
        assert reply.status == 200
    got = world.http.get(f"/v1/contacts/{contact}").json
    assert (got["subscriptions"], got["consent"]["email"]) == (["offers"], True)
    activity = world.http.get(f"/v1/contacts/{contact}/activity").json["items"]
    assert [a["type"] for a in activity].count("unsubscribed") == 1
    assert world.stats(flow)["steps"]["mail"]["unsubscribed"] == 1
    assert other.http.get(f"/v1/contacts/{stranger}").json["subscriptions"] == ["news"]


def _emails_sent() -> list[Any]:
    from tests.functional.test_action_steps import _emails_sent as sent

    return sent()


# -- open redirects ---------------------------------------------------------------------------

HOSTILE_URLS = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example",
    "/\\evil.example",
    "https:\\\\evil.example",
    "https:/\\evil.example",
    "https://example.com\\@evil.example",
    "https://example.com\\evil.example",
    "https:%2F%2Fevil.example",
    "https://%2F%2Fevil.example",
    "https://user:secret@evil.example/",
    "https://example.com@evil.example/",
    "https://example.com/\r\nSet-Cookie: session=1",
    "https://example.com/%0d%0a\r\nLocation: https://evil.example",
    "https://evil.example\x00.example.com/",
    " https://evil.example/",
    "https://evil.example/\t",
    "https://:443/",
    "https://example.com:99999/",
    "https:///evil.example",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_link_or_thank_you_url_that_could_redirect_elsewhere_is_400(
    world: World, url: str
) -> None:
    assert world.http.post("/v1/links", {"url": url}).status == 400
    assert world.http.post("/v1/forms", {"name": "F", "thank_you_url": url}).status == 400
    fine = link(world)
    assert world.http.patch(f"/v1/links/{fine}", {"url": url}).status == 400


def test_a_scripts_hostile_return_url_falls_back_to_the_links_own(
    world: World, public: Http, scripts: Scripts
) -> None:
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    url = tracked(world, link(world, script_id=script), world.contact())
    for hostile in HOSTILE_URLS:
        scripts.answer = {"returnUrl": hostile}
        reply = follow(public, url)
        assert (reply.status, reply.headers["Location"]) == (302, "https://example.com/offer")
    scripts.answer = {"returnUrl": "https://shop.example/cart?item=1#top"}
    assert follow(public, url).headers["Location"] == "https://shop.example/cart?item=1#top"


def test_a_signed_plain_link_to_a_hostile_url_goes_nowhere(world: World, public: Http) -> None:
    contact = world.contact()
    for hostile in HOSTILE_URLS:
        signed = tokens.url("click", {"t": world.tenant_id, "c": contact, "u": hostile})
        assert follow(public, signed).status == 404, hostile
