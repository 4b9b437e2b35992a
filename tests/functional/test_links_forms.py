"""Tracked links, forms, opens, unsubscribes and SES bounces through the public endpoints
(API.md "Forms, tracked links, opens"; SPEC.md §6)."""

from __future__ import annotations

import email
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib.aws import client
from chalicelib.clock import iso
from chalicelib.messaging import tokens
from chalicelib.store import engagement, records
from chalicelib.triggers.email_events import handle_ses_events
from tests.functional.conftest import Http, Reply
from tests.functional.engine_fixtures import World
from tests.functional.test_action_steps import _emails_sent, sender_domain

FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:link-script"


class Scripts:
    """A fake script runner: records calls and answers what the test says."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer: Any = None
        self.fail = False

    def call(self, function_arn: str, payload: dict[str, Any], timeout_s: float) -> Any:
        self.calls.append(payload | {"timeout_s": timeout_s})
        if self.fail:
            raise TimeoutError("the script took too long")
        return self.answer

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        self.calls.append(payload)
        return "req-1"


def link(world: World, url: str = "https://example.com/offer", **actions: Any) -> str:
    reply = world.http.post("/v1/links", {"url": url, "actions": actions})
    assert reply.status == 201, reply.body
    return str(reply.json["id"])


def tracked(world: World, link_id: str, contact_id: str) -> str:
    reply = world.http.get(f"/v1/links/{link_id}/url?contact_id={contact_id}")
    assert reply.status == 200, reply.body
    return str(reply.json["url"])


def follow(public: Http, url: str, method: str = "GET", **kw: Any) -> Reply:
    return public.request(method, urlsplit(url).path, **kw)


def clicks(world: World, contact_id: str, target: str) -> list[dict[str, Any]]:
    return engagement.since(world.tenant_id, contact_id, "click", target, None)


# -- tracked links ----------------------------------------------------------------------------


def test_a_click_runs_every_action_kind_and_redirects(
    world: World, public: Http, scripts: Scripts
) -> None:
    owner = world.http.post("/v1/associates", {"name": "Olga"}).json["id"]
    world.http.post("/v1/extra-fields", {"name": "source", "type": "text"})
    add_sel, drop_sel = world.selection("Hot"), world.selection("Cold")
    add_prj, drop_prj = world.project("Now"), world.project("Later")
    contact = world.contact(interests=["Newsletter"], owner_id=owner)
    for kind, list_id in (("selection", drop_sel), ("project", drop_prj)):
        world.add_member(kind, list_id, contact)
    link_id = link(
        world,
        set_field={"field": "source", "value": "offer"},
        add_interest="Pricing",
        remove_interest="Newsletter",
        add_to_selection={"selection_id": add_sel},
        remove_from_selection={"selection_id": drop_sel},
        add_to_project={"project_id": add_prj},
        remove_from_project={"project_id": drop_prj},
        follow_up={"type": "meeting", "title": "Call back", "duration": "PT30M"},
        request={"title": "Wants an offer", "priority": "high"},
    )
    url = tracked(world, link_id, contact)
    assert url.startswith("http://127.0.0.1:8000/l/")
    reply = follow(public, url)
    assert reply.status == 302
    assert reply.headers["Location"] == "https://example.com/offer"
    got = world.http.get(f"/v1/contacts/{contact}").json
    assert got["extra_fields"] == {"source": "offer"}
    assert got["interests"] == ["Pricing"]
    lists = {
        (kind, list_id): any(
            m["contact_id"] == contact
            for m in world.http.get(f"/v1/{kind}s/{list_id}/members").json["items"]
        )
        for kind, list_id in (("selection", add_sel), ("selection", drop_sel),
                              ("project", add_prj), ("project", drop_prj))
    }  # fmt: skip
    assert list(lists.values()) == [True, False, True, False]
    [follow_up] = world.http.get(f"/v1/follow-ups?contact_id={contact}").json["items"]
    assert (follow_up["associate_id"], follow_up["type"]) == (owner, "meeting")
    assert follow_up["end"] > follow_up["start"]
    [request] = world.http.get(f"/v1/requests?contact_id={contact}").json["items"]
    assert (request["title"], request["owner_id"]) == ("Wants an offer", owner)
    assert len(clicks(world, contact, link_id)) == 1
    assert scripts.calls == []


def test_text_response_and_once_per_contact(world: World, public: Http) -> None:
    selection = world.selection()
    link_id = link(
        world,
        response={"type": "text", "text": "Thanks <b>!</b>"},
        request={"title": "Once"},
        once_per_contact=True,
        add_to_selection={"selection_id": selection},
    )
    contact = world.contact()
    url = tracked(world, link_id, contact)
    for _ in range(3):
        reply = follow(public, url)
        assert reply.status == 200
        assert reply.content_type.startswith("text/plain")
        assert reply.body == b"Thanks <b>!</b>"
    assert len(world.http.get(f"/v1/requests?contact_id={contact}").json["items"]) == 1
    assert len(clicks(world, contact, link_id)) == 3  # every click counts


def test_forged_truncated_and_foreign_tokens_404_and_run_nothing(
    world: World, public: Http, chalice_client: Any
) -> None:
    selection = world.selection()
    link_id = link(world, add_to_selection={"selection_id": selection})
    contact = world.contact()
    url = tracked(world, link_id, contact)
    token = urlsplit(url).path.rsplit("/", 1)[1]
    body, mac = token.split(".")
    other = World.new(chalice_client, world.engine)
    foreign = tokens.sign("click", {"t": other.tenant_id, "c": contact, "l": link_id})
    forged = [
        token[:-3],  # truncated
        body + "." + mac[::-1],  # bad signature
        tokens.sign("open", {"t": world.tenant_id, "c": contact, "l": link_id}),  # other kind
        foreign,  # another tenant's token naming this tenant's link
        "x" * 5000,
    ]
    for bad in forged:
        reply = public.get(f"/l/{bad}")
        assert reply.status == 404, bad
        assert reply.content_type == "application/problem+json"
    assert clicks(world, contact, link_id) == []
    assert world.http.get(f"/v1/selections/{selection}/members").json["items"] == []
    # A real token of a deleted link: 404 too.
    assert world.http.delete(f"/v1/links/{link_id}").status == 204
    assert follow(public, url).status == 404


def test_no_open_redirect(world: World, public: Http, scripts: Scripts) -> None:
    for url in ("javascript:alert(1)", "//evil.example", "ftp://x.example/", "/relative"):
        reply = world.http.post("/v1/links", {"url": url})
        assert reply.status == 400, url
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    link_id = link(world, script_id=script)
    contact = world.contact()
    url = tracked(world, link_id, contact)
    for answer in ({"returnUrl": "javascript:alert(1)"}, {"returnUrl": "//evil.example"},
                   {"returnUrl": 42}, "https://evil.example", None):  # fmt: skip
        scripts.answer = answer
        assert follow(public, url).headers["Location"] == "https://example.com/offer"
    # A plain email link whose url is not http(s), even if signed, goes nowhere.
    signed = tokens.url("click", {"t": world.tenant_id, "c": contact, "u": "javascript:x"})
    assert follow(public, signed).status == 404


def test_a_link_script_may_change_where_the_click_goes(
    world: World, public: Http, scripts: Scripts
) -> None:
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    link_id = link(world, script_id=script)
    contact = world.contact()
    url = tracked(world, link_id, contact)
    scripts.answer = {"returnUrl": "https://shop.example/cart?x=1"}
    assert follow(public, url).headers["Location"] == "https://shop.example/cart?x=1"
    follow(public, url)
    first, second = scripts.calls
    assert first == {"custId": contact, "linkId": link_id, "shipmentId": "", "linkHits": 1,
                     "linkUrl": "https://example.com/offer", "timeout_s": 2.0}  # fmt: skip
    assert second["linkHits"] == 2
    scripts.fail = True
    assert follow(public, url).headers["Location"] == "https://example.com/offer"


def test_link_clicked_enrols_and_wakes_a_waiting_participant(world: World, public: Http) -> None:
    link_id = link(world)
    note = {"id": "note", "type": "notify_email",
            "settings": {"to": "ops@example.com", "subject": "s", "text": "t"}}  # fmt: skip
    triggered = world.flow([note], triggers=[{"type": "link_clicked", "link_id": link_id}])
    waiting = world.flow(
        [{"id": "wait", "type": "wait_for_action",
          "settings": {"actions": [{"type": "link_clicked", "link_id": link_id}],
                       "max_wait": "P7D"}}, note]
    )  # fmt: skip
    contact = world.contact()
    pid = world.enrol(waiting, contact)
    world.engine.drain()
    assert world.state(waiting, pid) == ("active", "wait")
    world.engine.clock.advance(hours=1)
    follow(public, tracked(world, link_id, contact))
    world.engine.drain()  # no time passes: the click itself woke the wait
    assert world.state(waiting, pid)[0] == "finished"
    assert [p.contact_id for p in world.everyone(triggered)] == [contact]
    world.check(waiting, triggered)


def test_link_and_form_crud_and_references(world: World) -> None:
    assert world.http.post("/v1/links", {"url": "https://x.example", "actions": {
        "add_to_selection": {"selection_id": "sel_missing"}}}).status == 400  # fmt: skip
    assert world.http.post("/v1/forms", {"name": "F", "actions": {
        "response_mailing_id": "mal_missing"}}).status == 400  # fmt: skip
    form = world.http.post("/v1/forms", {"name": "Signup"}).json
    assert form["submit_url"] == f"http://127.0.0.1:8000/f/{form['id']}"
    assert world.http.patch(f"/v1/forms/{form['id']}", {"processing": "manual"}).status == 200
    assert world.http.get(f"/v1/forms/{form['id']}").json["processing"] == "manual"
    assert world.http.get("/v1/links/lnk_nope/url?contact_id=x").status == 404
    link_id = link(world)
    assert world.http.get(f"/v1/links/{link_id}/url?contact_id=con_nope").status == 404
    assert world.http.get(f"/v1/links/{link_id}/url").status == 400


# -- forms ------------------------------------------------------------------------------------


def form(world: World, **body: Any) -> str:
    reply = world.http.post("/v1/forms", {"name": "Signup"} | body)
    assert reply.status == 201, reply.body
    return str(reply.json["id"])


FIELDS = [
    {"name": "first_name", "label": "First name", "required": True},
    {"name": "phone", "type": "tel", "maps_to": "mobile_phone"},
    {"name": "budget", "type": "number"},
]


def test_a_browser_form_post_and_a_json_post(world: World, public: Http) -> None:
    selection = world.selection()
    form_id = form(
        world,
        fields=FIELDS,
        thank_you_url="https://example.com/thanks",
        actions={"add_to_selection": {"selection_id": selection}, "add_interest": "Demo",
                 "default_category": "Lead", "request": {"title": "New signup"}},
    )  # fmt: skip
    note = {"id": "note", "type": "notify_email",
            "settings": {"to": "ops@example.com", "subject": "s", "text": "t"}}  # fmt: skip
    flow = world.flow([note], triggers=[{"type": "form_submitted", "form_id": form_id}])
    body = urlencode({"email": "Ada@Example.com", "first_name": "Ada", "phone": "+47 912 34 567",
                      "budget": "100", "unknown": "dropped", "_hp": ""}).encode()  # fmt: skip
    reply = public.post(f"/f/{form_id}", raw=body, headers=FORM_TYPE)
    assert reply.status == 303, reply.body
    assert reply.headers["Location"] == "https://example.com/thanks"
    [contact] = world.http.get("/v1/contacts?email=ada@example.com").json["items"]
    assert (contact["first_name"], contact["mobile_phone"]) == ("Ada", "+4791234567")
    assert (contact["category"], contact["interests"]) == ("Lead", ["Demo"])
    members = world.http.get(f"/v1/selections/{selection}/members").json["items"]
    assert [m["contact_id"] for m in members] == [contact["id"]]
    assert len(world.http.get(f"/v1/requests?contact_id={contact['id']}").json["items"]) == 1
    [p] = world.everyone(flow)
    assert p.contact_id == contact["id"]
    activity = world.http.get(f"/v1/contacts/{contact['id']}/activity").json["items"]
    assert "form_submitted" in [a["type"] for a in activity]
    [submission] = world.http.get(f"/v1/forms/{form_id}/submissions").json["items"]
    assert submission["fields"] == {"email": "ada@example.com", "first_name": "Ada",
                                    "phone": "+47 912 34 567", "budget": "100"}  # fmt: skip
    # JSON: the same person again is matched by email, not created twice.
    reply = public.post(f"/f/{form_id}", {"email": "ada@example.com", "first_name": "Ada",
                                          "budget": 250})  # fmt: skip
    assert reply.status == 200, reply.body
    assert reply.json["contact_id"] == contact["id"]
    assert reply.json["status"] == "processed"
    assert len(world.http.get("/v1/contacts").json["items"]) == 1
    world.engine.drain()
    world.check(flow)


@pytest.mark.parametrize(
    ("values", "path"),
    [
        ({"first_name": "A"}, "email"),
        ({"email": "not-an-address", "first_name": "A"}, "email"),
        ({"email": "a@example.com"}, "first_name"),
        ({"email": "a@example.com", "first_name": "A", "phone": "12"}, "mobile_phone"),
    ],
)
def test_bad_submissions_are_refused_and_store_nothing(
    world: World, public: Http, values: dict[str, str], path: str
) -> None:
    form_id = form(world, fields=FIELDS)
    reply = public.post(f"/f/{form_id}", raw=urlencode(values).encode(), headers=FORM_TYPE)
    assert reply.status == 400, reply.body
    assert reply.json["errors"][0]["path"] == path
    assert world.http.get(f"/v1/forms/{form_id}/submissions").json["items"] == []
    assert world.http.get("/v1/contacts").json["items"] == []


def test_honeypot_size_limit_and_unknown_forms(world: World, public: Http) -> None:
    form_id = form(world)
    bot = urlencode({"email": "bot@example.com", "_hp": "http://spam"}).encode()
    reply = public.post(f"/f/{form_id}", raw=bot, headers=FORM_TYPE)
    assert reply.status == 200  # looks fine to the bot
    assert world.http.get(f"/v1/forms/{form_id}/submissions").json["items"] == []
    big = b"email=a%40example.com&x=" + b"a" * 1_000_001
    assert public.post(f"/f/{form_id}", raw=big, headers=FORM_TYPE).status == 413
    assert public.post("/f/frm_unknown", {"email": "a@example.com"}).status == 404
    assert public.post(f"/f/{form_id}", raw=b"[1]").status == 400
    assert public.post(f"/f/{form_id}", {"email": {"nested": 1}}).status == 400


def test_manual_and_auto_known_processing(world: World, public: Http) -> None:
    manual = form(world, processing="manual")
    known = form(world, processing="auto_known")
    existing = world.contact(email="known@example.com")
    flow = world.flow(
        [{"id": "note", "type": "notify_email",
          "settings": {"to": "ops@example.com", "subject": "s", "text": "t"}}],
        triggers=[{"type": "form_submitted", "form_id": manual}],
    )  # fmt: skip
    assert public.post(f"/f/{manual}", {"email": "new@example.com"}).json["status"] == "pending"
    assert public.post(f"/f/{known}", {"email": "known@example.com"}).json == {
        "submission_id": world.http.get(f"/v1/forms/{known}/submissions").json["items"][0]["id"],
        "status": "processed",
        "contact_id": existing,
    }
    assert public.post(f"/f/{known}", {"email": "stranger@example.com"}).json["status"] == (
        "pending"
    )
    assert world.everyone(flow) == []
    [pending] = world.http.get(f"/v1/forms/{manual}/submissions?status=pending").json["items"]
    assert world.http.get("/v1/contacts?email=new@example.com").json["items"] == []
    process = f"/v1/forms/{manual}/submissions/{pending['id']}/process"
    assert world.http.post(process, {"contact_id": "con_missing"}).status == 400
    done = world.http.post(process, {"contact_id": existing})
    assert done.status == 200, done.body
    assert (done.json["status"], done.json["contact_id"]) == ("processed", existing)
    assert done.json["processed_at"] == iso(world.engine.clock.now)  # the engine's clock
    assert world.http.post(process, {}).status == 409
    assert world.http.get(f"/v1/forms/{manual}/submissions?status=pending").json["items"] == []
    assert [p.contact_id for p in world.everyone(flow)] == [existing]
    # Processing without a contact finds or creates one by the submission's email.
    [stranger] = world.http.get(f"/v1/forms/{known}/submissions?status=pending").json["items"]
    made = world.http.post(f"/v1/forms/{known}/submissions/{stranger['id']}/process", {})
    assert (
        made.json["contact_id"]
        == (world.http.get("/v1/contacts?email=stranger@example.com").json["items"][0]["id"])
    )


def test_a_form_response_mailing_and_script(world: World, public: Http, scripts: Scripts) -> None:
    client("sesv2").create_email_identity(EmailIdentity="example.com")
    world.http.patch("/v1/settings", {"default_sender_address": "hello@example.com"})
    body = {"name": "Thanks", "subject": "Hi [[customer.firstname]]", "text": "Thanks!"}
    mailing = world.http.post("/v1/mailings", body).json["id"]
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    form_id = form(world, fields=[{"name": "first_name"}],
                   actions={"response_mailing_id": mailing, "script_id": script})  # fmt: skip
    before = len(_emails_sent())
    public.post(f"/f/{form_id}", {"email": "eve@example.com", "first_name": "Eve"})
    [sent] = _emails_sent()[before:]
    assert email.message_from_string(sent.raw_data)["Subject"] == "Hi Eve"
    [call] = scripts.calls
    assert (call["formId"], call["fields"]["first_name"]) == (form_id, "Eve")


# -- email: clicks, opens, unsubscribes, bounces ----------------------------------------------


def mail_flow(world: World, link_id: str, subscription: str | None = None) -> str:
    domain = sender_domain(world.http)
    mailing = world.http.post("/v1/mailings", {
        "name": "News", "subject": "News",
        "html": f'<p><a href="[[link.{link_id}]]">Offer</a> <a href="https://example.com/x">x</a>'
                "</p>"}).json["id"]  # fmt: skip
    settings = {"from": {"type": "specified", "address": f"news@{domain}"},
                "reply_to": {"type": "from"}} | ({"subscription": subscription} if subscription
                                                  else {})  # fmt: skip
    return world.flow([{"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing}}],
                      email_settings=settings)  # fmt: skip


def last_email_html(before: int) -> tuple[Any, str]:
    [raw] = _emails_sent()[before:]
    message = email.message_from_string(raw.raw_data)
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return message, html.get_payload(decode=True).decode()


def test_email_clicks_opens_and_unsubscribe_count_once_per_message(
    world: World, public: Http
) -> None:
    link_id = link(world)
    flow = mail_flow(world, link_id, subscription="news")
    contact = world.contact(email="reader@example.com", subscriptions=["news", "offers"])
    before = len(_emails_sent())
    world.enrol(flow, contact)
    world.engine.drain()
    message, html = last_email_html(before)
    assert "X-Flows-Tag-Tenant" not in message  # tags go to SES, not into the message
    hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    offer, plain = hrefs
    assert tokens.verify("click", offer.rsplit("/", 1)[1])["l"] == link_id
    assert follow(public, offer).headers["Location"] == "https://example.com/offer"
    assert follow(public, plain).headers["Location"] == "https://example.com/x"
    follow(public, offer)
    [click, _] = clicks(world, contact, link_id)
    assert click["mailing_id"]
    assert click["step_id"] == "mail"
    pixel = html.split('<img src="', 1)[1].split('"', 1)[0]
    for _ in range(2):
        reply = follow(public, pixel, headers={"Accept": "image/webp,image/*,*/*;q=0.8"})
        assert (reply.status, reply.content_type) == (200, "image/gif")
        assert reply.body.startswith(b"GIF89a")
    assert follow(public, pixel).status == 204  # no Accept for an image: nothing to show
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    page = follow(public, unsubscribe)
    assert page.status == 200
    assert b'<form method="post"' in page.body
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    for _ in range(2):
        reply = follow(public, unsubscribe, "POST", raw=b"List-Unsubscribe=One-Click",
                       headers=FORM_TYPE)  # fmt: skip
        assert reply.status == 200
    got = world.http.get(f"/v1/contacts/{contact}").json
    assert got["subscriptions"] == ["offers"]
    assert got["consent"]["email"] is True
    figures = world.stats(flow)["steps"]["mail"]
    assert {k: figures[k] for k in ("sent", "opened", "clicked", "unsubscribed", "bounced")} == {
        "sent": 1, "opened": 1, "clicked": 1, "unsubscribed": 1, "bounced": 0}  # fmt: skip
    assert follow(public, pixel[:-4]).status == 404
    assert public.post("/u/forged.token", raw=b"").status == 404


def test_unsubscribe_without_a_subscription_clears_email_consent(
    world: World, public: Http
) -> None:
    flow = mail_flow(world, link(world))
    contact = world.contact(email="plain@example.com")
    before = len(_emails_sent())
    world.enrol(flow, contact)
    world.engine.drain()
    message, _ = last_email_html(before)
    follow(public, message["List-Unsubscribe"].strip("<>"), "POST", raw=b"", headers=FORM_TYPE)
    assert world.http.get(f"/v1/contacts/{contact}").json["consent"]["email"] is False


def ses_record(event: dict[str, Any]) -> dict[str, Any]:
    envelope = {"Type": "Notification", "Message": json.dumps(event)}
    return {"messageId": "m1", "body": json.dumps(envelope)}


def test_a_hard_bounce_suppresses_the_address(world: World) -> None:
    flow = mail_flow(world, link(world))
    contact = world.contact(email="gone@example.com")
    pid = world.enrol(flow, contact)
    world.engine.drain()
    tags = {"flows-tenant": [world.tenant_id], "flows-flow": [flow], "flows-step": ["mail"],
            "flows-participant": [pid]}  # fmt: skip

    def bounce(kind: str, address: str) -> dict[str, Any]:
        recipients = [{"emailAddress": address}]
        return {"eventType": "Bounce", "mail": {"tags": tags},
                "bounce": {"bounceType": kind, "bouncedRecipients": recipients}}  # fmt: skip

    soft, hard = bounce("Transient", "gone@example.com"), bounce("Permanent", "Gone@example.com")
    assert handle_ses_events({"Records": [ses_record(soft)]}) == {"batchItemFailures": []}
    assert not records.is_suppressed(world.tenant_id, "gone@example.com")
    for _ in range(2):  # SQS may deliver twice
        handle_ses_events({"Records": [ses_record(hard)]})
    assert records.is_suppressed(world.tenant_id, "gone@example.com")
    activity = world.http.get(f"/v1/contacts/{contact}/activity").json["items"]
    assert "email_bounce" in [a["type"] for a in activity]
    assert world.stats(flow)["steps"]["mail"]["bounced"] == 1
    # The next email step skips the address.
    world.http.delete(f"/v1/flows/{flow}/participants/{pid}")
    before = len(_emails_sent())
    world.enrol(flow, contact)
    world.engine.drain()
    assert len(_emails_sent()) == before
    complaint = {"notificationType": "Complaint", "mail": {"tags": tags}, "complaint": {
        "complainedRecipients": [{"emailAddress": "angry@example.com"}]}}  # fmt: skip
    handle_ses_events({"Records": [ses_record(complaint)]})
    assert records.is_suppressed(world.tenant_id, "angry@example.com")
    broken = {"messageId": "m2", "body": "{not json"}
    assert handle_ses_events({"Records": [broken]}) == {"batchItemFailures": [
        {"itemIdentifier": "m2"}]}  # fmt: skip
