"""Web forms (SPEC.md §6): the public ``POST /f/{form_id}``, stored submissions, processing.

A submission is checked (email required and valid, required fields present, mapped values fit
the contact's fields), stored, and processed at once or left ``pending`` by the form's mode:
``auto`` processes every submission, ``auto_known`` those whose email belongs to a contact,
``manual`` none (a person processes them with ``POST .../submissions/{sid}/process``).

Processing happens at most once per submission: it first moves the submission from
``pending`` to ``processed`` with a conditional write, then links it to a contact (the one
named, else the one with its email, else a new one), fills the mapped fields, records the
submission for splits and success criteria, runs the form's actions, fires ``form_submitted``
triggers and wakes the waits on the form.

A filled honeypot field (``HONEYPOT``, hidden from people by the form's HTML) marks a bot: the
answer looks like success and nothing is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ValidationError

from chalicelib.api.pagination import Page, decode_cursor, encode_cursor
from chalicelib.api.problems import ConflictError, NotFoundError, invalid
from chalicelib.api.routing import is_id
from chalicelib.clock import Clock, iso, iso_ms
from chalicelib.crm.models import ContactFields
from chalicelib.crm.resources import CONTACT, FORM, MAILING, SCRIPT
from chalicelib.crm.service import CrmService
from chalicelib.engine.runtime import runtime
from chalicelib.ids import new_id
from chalicelib.messaging.email import compose
from chalicelib.messaging.merge_tags import render, values_for
from chalicelib.store import engagement, records
from chalicelib.store.records import Record, VersionConflictError
from chalicelib.tenants.service import get_settings_of
from chalicelib.triggers.actions import Actions
from chalicelib.triggers.fire import fire, wake
from chalicelib.triggers.kinds import Fired
from chalicelib.triggers.models import Form, Submission

log = logging.getLogger("flows.triggers")

HONEYPOT = "_hp"
MAX_VALUE = 10_000
# A form field of one of these names fills that contact field without a ``maps_to``.
CONTACT_FIELDS = ("first_name", "last_name", "mobile_phone", "category", "business")


@dataclass(frozen=True)
class Submitted:
    form: Form
    submission: Submission | None  # None: the honeypot caught a bot


class SubmitAnswer(BaseModel):
    submission_id: str | None
    status: str
    contact_id: str | None = None


def _kind(form_id: str) -> str:
    return f"submission#{form_id}"


def public_form(form_id: str) -> tuple[str, Form]:
    """The tenant and form behind a public form id; 404 for an unknown one."""
    tenant_id = records.publisher(FORM.kind, form_id)
    record = records.get(tenant_id, FORM.kind, form_id) if tenant_id else None
    if tenant_id is None or record is None:
        raise NotFoundError("No such form.")
    return tenant_id, Form.model_validate(record.data | {"id": record.id}, strict=False)


def submit(form_id: str, values: dict[str, str], clock: Clock) -> Submitted:
    tenant_id, form = public_form(form_id)
    if values.get(HONEYPOT):
        log.info("form %s: honeypot filled, submission dropped", form_id)
        return Submitted(form, None)
    email = _email(values.get("email", ""))
    fields = {"email": email}
    for field in form.fields:
        value = values.get(field.name, "")
        if len(value) > MAX_VALUE:
            raise invalid(field.name, f"longer than {MAX_VALUE} characters")
        if field.required and not value.strip():
            raise invalid(field.name, "this field is required")
        if value and field.name != "email":
            fields[field.name] = value
    _check_mapped(tenant_id, form, fields)
    now = iso(clock())
    data = {"form_id": form.id, "status": "pending", "email": email, "fields": fields}
    record = Record(id=new_id("sub"), data=data | {"submitted_at": now}, version=1)
    records.create(tenant_id, _kind(form.id), record)
    known = records.find_unique(tenant_id, CONTACT.kind, "email", email)
    if form.processing == "auto" or (form.processing == "auto_known" and known):
        return Submitted(form, process(tenant_id, form.id, record.id, None, clock))
    return Submitted(form, _submission(record))


def _email(value: str) -> str:
    if not value.strip():
        raise invalid("email", "an email address is required")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise invalid("email", str(error)) from error


def _mapped(form: Form, fields: dict[str, str]) -> dict[str, Any]:
    """The contact fields a submission fills (``extra_fields.x`` nests)."""
    out: dict[str, Any] = {}
    for field in form.fields:
        target = field.maps_to or (field.name if field.name in CONTACT_FIELDS else None)
        value = fields.get(field.name)
        if not target or not value:
            continue
        if target.startswith("extra_fields."):
            out.setdefault("extra_fields", {})[target.removeprefix("extra_fields.")] = value
        else:
            out[target] = value
    return out


def _check_mapped(tenant_id: str, form: Form, fields: dict[str, str]) -> None:
    """A mapped value the contact could not hold (a bad phone number): 400 now, not later."""
    mapped = _mapped(form, fields)
    try:
        body = ContactFields.model_validate(mapped, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        raise invalid(".".join(str(p) for p in first["loc"]), first["msg"]) from error
    CrmService(tenant_id).normalised(CONTACT, body.model_dump(mode="json", exclude_unset=True))


def submissions(
    tenant_id: str, form_id: str, *, status: str | None, limit: int, cursor: str | None
) -> Page[Submission]:
    if records.get(tenant_id, FORM.kind, form_id) is None:
        raise NotFoundError(f"No form {form_id}.")
    found, last = records.list_page(
        tenant_id, _kind(form_id), limit=limit, after=decode_cursor(cursor)
    )
    items = [_submission(r) for r in found if status is None or r.data["status"] == status]
    return Page[Submission](items=items, next=encode_cursor(last))


def _submission(record: Record) -> Submission:
    return Submission.model_validate(record.data | {"id": record.id})


def process(
    tenant_id: str, form_id: str, submission_id: str, contact_id: str | None, clock: Clock
) -> Submission:
    """Process one pending submission (see the module docstring); 409 if processed already."""
    form_record = records.get(tenant_id, FORM.kind, form_id)
    record = records.get(tenant_id, _kind(form_id), submission_id)
    if form_record is None or record is None:
        raise NotFoundError(f"No submission {submission_id} of form {form_id}.")
    form = Form.model_validate(form_record.data | {"id": form_id}, strict=False)
    if record.data["status"] != "pending":
        raise ConflictError("The submission was processed already.")
    if contact_id is not None and not (
        is_id(contact_id) and records.exists(tenant_id, CONTACT.kind, contact_id)
    ):
        raise invalid("contact_id", f"no contact {contact_id}")
    crm = CrmService(tenant_id, clock, cause=f"form:{form_id}")
    fields: dict[str, str] = record.data["fields"]
    contact_id = contact_id or records.find_unique(
        tenant_id, CONTACT.kind, "email", record.data["email"]
    )
    now = clock()
    claimed = Record(
        id=record.id,
        data=record.data | {"status": "processed", "processed_at": iso(now)},
        version=record.version + 1,
    )
    try:
        records.replace(tenant_id, _kind(form_id), claimed, expected_version=record.version)
    except VersionConflictError as error:
        raise ConflictError("The submission was processed already.") from error
    mapped = _mapped(form, fields)
    actions = form.actions
    if contact_id is None:
        new = {"email": record.data["email"], "category": actions.default_category,
               "business": actions.default_business} | mapped  # fmt: skip
        body = ContactFields.model_validate(
            {k: v for k, v in new.items() if v is not None}, strict=False
        )
        contact_id = str(crm.create(CONTACT, body).id)  # type: ignore[attr-defined]
    elif mapped:
        crm.patch(CONTACT, contact_id, mapped)
    linked = Record(
        id=record.id, data=claimed.data | {"contact_id": contact_id}, version=claimed.version + 1
    )
    records.replace(tenant_id, _kind(form_id), linked, expected_version=claimed.version)
    data = {"fields": fields, "submission_id": record.id}
    engagement.record(tenant_id, contact_id, "submit", form_id, iso_ms(now), data)
    crm.record_activity(contact_id, {"type": "form_submitted", "form_id": form_id})
    _run_actions(tenant_id, form, contact_id, linked, clock)
    fire(tenant_id, Fired("form_submitted", form_id), contact_id, cause=f"form:{form_id}")
    wake(tenant_id, contact_id, "form_submitted", form_id)
    return _submission(linked)


def _run_actions(
    tenant_id: str, form: Form, contact_id: str, submission: Record, clock: Clock
) -> None:
    actions = form.actions
    run = Actions(tenant_id, contact_id, f"form:{form.id}", clock)
    run.change_contact(add_interest=actions.add_interest)
    if actions.add_to_selection:
        run.add_to("selection", actions.add_to_selection.selection_id)
    if actions.add_to_project:
        run.add_to("project", actions.add_to_project.project_id)
    if actions.request:
        run.request(actions.request)
    if actions.response_mailing_id:
        _send_response(tenant_id, actions.response_mailing_id, run.contact(), contact_id)
    if actions.script_id:
        script = records.get(tenant_id, SCRIPT.kind, actions.script_id)
        if script is not None:
            payload = {"formId": form.id, "submissionId": submission.id, "custId": contact_id,
                       "fields": submission.data["fields"]}  # fmt: skip
            try:
                runtime.scripts.invoke(script.data["function_arn"], payload)
            except Exception as error:
                log.warning("form %s script failed: %s", form.id, type(error).__name__)


def _send_response(
    tenant_id: str, mailing_id: str, contact: dict[str, Any], contact_id: str
) -> None:
    """The form's response mailing, from the tenant's default sender (once: processing is)."""
    mailing = records.get(tenant_id, MAILING.kind, mailing_id)
    settings = get_settings_of(tenant_id)
    address = contact.get("email")
    if mailing is None or not address or not settings.default_sender_address:
        log.info("form response mailing %s not sent to contact %s", mailing_id, contact_id)
        return
    if records.is_suppressed(tenant_id, address):
        return
    content, tags = mailing.data, values_for(contact, {}, {})
    message = compose(
        sender=(content.get("from_name") or settings.default_sender_name,
                content.get("from_address") or settings.default_sender_address),
        to=address,
        reply_to=content.get("reply_to"),
        subject=render(content.get("subject") or "", tags),
        html=render(content.get("html") or "", tags, html=True),
        text=render(content.get("text") or "", tags),
        attachments=[],
        headers={},
    )  # fmt: skip
    message_id = runtime.email.send(message)
    CrmService(tenant_id).record_activity(
        contact_id,
        {"type": "message_sent", "channel": "email", "subject": str(message["Subject"]),
         "provider_message_id": message_id, "mailing_id": mailing_id},
    )  # fmt: skip
