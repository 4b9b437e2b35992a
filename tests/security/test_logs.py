"""What a run writes to the logs: never an email address, a phone number or an API key.

Every log record (every logger, INFO and up; the product's own ``flows.*`` loggers from
DEBUG) and everything written to stdout and stderr (Lambda sends both to CloudWatch) is kept
while a tenant's flow sends email and SMS and notifies the contact's owner by both, the contact
clicks the tracked link and unsubscribes, forms are posted (good and bad), SES reports a
bounce, and keys are used, revoked and guessed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib.engine.runtime import runtime
from chalicelib.triggers.email_events import handle_ses_events
from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_fixtures import World
from tests.functional.engine_kit import Engine
from tests.functional.helpers import create
from tests.functional.test_action_steps import _emails_sent, _sms_sent, sender_domain
from tests.functional.test_links_forms import ARN, FORM_TYPE, ses_record

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# The numbers used below, by their national digits (in whatever format they might appear).
PHONES = ["96666666", "91111111", "92222222", "93333333", "933 33 333", "94444444", "95555"]


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.__dict__))


@pytest.fixture
def kept() -> Iterator[Kept]:
    """Every record of every logger, the product's own from DEBUG, the rest from INFO."""
    handler = Kept()
    everyone = [logging.getLogger(), *(
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger))]  # fmt: skip
    saved = [(logger, logger.level) for logger in everyone]
    # The root sees what propagates; a logger that does not propagate (powertools') is heard
    # where it is.
    heard = [logger for logger in everyone if logger.name == "root" or not logger.propagate]
    for logger in heard:
        logger.addHandler(handler)
    for logger in everyone:
        ours = logger.name == "flows" or logger.name.startswith("flows.")
        logger.setLevel(logging.DEBUG if ours else logging.INFO)
    yield handler
    for logger in heard:
        logger.removeHandler(handler)
    for logger, level in saved:
        logger.setLevel(level)


def follow(public: Http, url: str, method: str = "GET", **kw: Any) -> Any:
    return public.request(method, urlsplit(url).path, **kw)


class FailingScripts:
    """Every script fails, as a Lambda function that times out does."""

    def call(self, function_arn: str, payload: dict[str, Any], timeout_s: float) -> Any:
        raise TimeoutError("the function did not answer in time")

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        raise TimeoutError("the function did not answer in time")


def test_no_email_address_phone_number_or_key_is_ever_logged(
    chalice_client: Any, engine: Engine, kept: Kept, capfd: pytest.CaptureFixture[str]
) -> None:
    runtime.scripts = FailingScripts()  # the engine fixture puts the real one back
    world = World.new(chalice_client, engine)
    public = Http(chalice_client)
    keys = [world.http.key or ""]
    domain = sender_domain(world.http)
    owner = create(
        world.http,
        "/v1/associates",
        {"name": "Olga", "email": "olga.owner@example.com", "mobile_phone": "+4791111111"},
    )
    script = create(world.http, "/v1/scripts", {"name": "s", "function_arn": ARN})["id"]
    link = create(
        world.http,
        "/v1/links",
        {
            "url": "https://example.com/offer",
            "actions": {
                "request": {"title": "Clicked"},
                "follow_up": {"title": "Call", "type": "task"},
                "script_id": script,
            },
        },
    )
    mailing = create(
        world.http,
        "/v1/mailings",
        {
            "name": "News",
            "subject": "Hi [[customer.firstname]] [[customer.email]]",
            "html": f'<p>[[customer.cellphone]] <a href="[[link.{link["id"]}]]">Offer</a></p>',
        },
    )
    form = create(
        world.http,
        "/v1/forms",
        {
            "name": "Signup",
            "fields": [{"name": "first_name"}, {"name": "phone", "maps_to": "mobile_phone"}],
        },
    )
    steps = [
        {"id": "mail", "type": "send_email", "settings": {"mailing_id": mailing["id"]}},
        {"id": "sms", "type": "send_sms", "settings": {"text": "Hi [[customer.cellphone]]"}},
        {
            "id": "ne",
            "type": "notify_email",
            "settings": {
                "to": "our_contact",
                "subject": "Lead [[customer.email]]",
                "text": "Call [[customer.cellphone]]",
            },
        },
        {
            "id": "ns",
            "type": "notify_sms",
            "settings": {"to": "our_contact", "text": "Lead [[customer.email]]"},
        },
    ]
    world.flow(steps, sms_sender="Flows", triggers=[
        {"type": "form_submitted", "form_id": form["id"]}], email_settings={
        "from": {"type": "specified", "address": f"news@{domain}"},
        "reply_to": {"type": "from"}})  # fmt: skip
    # A second flow on the same form, once per contact and ending in a script that fails.
    world.flow([{"id": "run", "type": "run_script", "settings": {"script_id": script}}],
               start_only_once=True,
               triggers=[{"type": "form_submitted", "form_id": form["id"]}])  # fmt: skip
    world.contact(email="known.contact@example.com", mobile_phone="+4792222222",
                  owner_id=owner["id"], subscriptions=["news"])  # fmt: skip
    emails, texts = len(_emails_sent()), len(_sms_sent())

    # A browser and a JSON post of the form, and refused ones.
    posted = urlencode({"email": "Ada.Lovelace@Example.com", "first_name": "Ada",
                        "phone": "+47 933 33 333"}).encode()  # fmt: skip
    assert public.post(f"/f/{form['id']}", raw=posted, headers=FORM_TYPE).status == 200
    assert public.post(f"/f/{form['id']}", {"email": "known.contact@example.com",
                                            "phone": "+4792222222"}).status == 200  # fmt: skip
    # Again (the once-only flow refuses it, and says so in the log), and a bot.
    assert public.post(f"/f/{form['id']}", {"email": "known.contact@example.com"}).status == 200
    bot = {"email": "bot@example.com", "phone": "+4796666666", "_hp": "x"}
    assert public.post(f"/f/{form['id']}", bot).status == 200
    assert (
        public.post(f"/f/{form['id']}", {"email": "broken@", "phone": "+4794444444"}).status == 400
    )
    assert public.post(f"/f/{form['id']}", {"email": "p@example.com", "phone": "12"}).status == 400
    world.engine.drain()
    [ada] = world.http.get("/v1/contacts?email=ada.lovelace@example.com").json["items"]
    world.http.patch(f"/v1/contacts/{ada['id']}", {"owner_id": owner["id"]})

    # The email's tracked link, its pixel and its unsubscribe.
    message, html = last_email_html_of(emails)
    href = html.split('href="', 1)[1].split('"', 1)[0]
    assert follow(public, href).status == 302
    follow(public, html.split('<img src="', 1)[1].split('"', 1)[0], headers={"Accept": "image/*"})
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert follow(public, unsubscribe, "POST", raw=b"", headers=FORM_TYPE).status == 200
    assert len(_sms_sent()) > texts

    # SES reports a bounce; keys are created, used, revoked and guessed.
    bounce = {"eventType": "Bounce", "mail": {"tags": {"flows-tenant": [world.tenant_id]}},
              "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
                  {"emailAddress": "known.contact@example.com"}]}}  # fmt: skip
    handle_ses_events({"Records": [ses_record(bounce)]})
    made = world.http.post("/v1/keys", {"name": "temp", "role": "content_editor"}).json
    keys += [made["api_key"], "flw_guessed-key-that-does-not-exist", OPERATOR_KEY]
    temp = world.http.as_key(made["api_key"])
    assert temp.get("/v1/contacts?email=known.contact@example.com").status == 200
    assert world.http.delete(f"/v1/keys/{made['id']}").status == 204
    assert temp.get("/v1/contacts").status == 401
    assert world.http.as_key(keys[2]).post("/v1/contacts", {"email": "x@example.com"}).status == 401
    assert (
        world.http.post("/v1/contacts", {"email": "bad@", "mobile_phone": "+4795555"}).status == 400
    )
    world.engine.drain()

    out, err = capfd.readouterr()
    logged = "\n".join([*kept.lines, out, err])
    # The capture works: the product's own records of this run are in it.
    assert any("honeypot filled" in line for line in kept.lines)
    assert any("did not enrol contact" in line for line in kept.lines)
    assert any("script" in line and "failed" in line for line in kept.lines)
    # Both contacts got the email and the SMS; the one owned from the start, the notices.
    assert len(_emails_sent()) - emails == 3
    assert len(_sms_sent()) - texts == 3
    assert EMAIL.findall(logged) == []
    assert [phone for phone in PHONES if phone in logged] == []
    assert [key for key in keys if key in logged] == []


def last_email_html_of(before: int) -> tuple[Any, str]:
    """The first email sent since ``before`` that has HTML (the contact's, not a notice)."""
    import email

    for raw in _emails_sent()[before:]:
        message = email.message_from_string(raw.raw_data)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                return message, part.get_payload(decode=True).decode()
    raise AssertionError("no email with HTML was sent")
