"""Routes of API.md "Forms, tracked links, opens": the tracked url of a link, form submissions,
and the public endpoints (no key) that emails and web pages reach: ``/l/``, ``/o/``, ``/u/``
and ``/f/``. The CRUD of links and forms is declared with the CRM kinds (crm/resources.py)."""

from __future__ import annotations

from html import escape
from typing import Any, Literal
from urllib.parse import parse_qsl

from chalice.app import Response
from pydantic import Field

from chalicelib.api.auth import ANY_ROLE, CONTENT
from chalicelib.api.models import Id
from chalicelib.api.pagination import ListQuery, Page
from chalicelib.api.problems import BadRequestError
from chalicelib.api.registry import api
from chalicelib.api.routing import Call, Operation, content_type, parse_json, raw_body
from chalicelib.triggers import email_events, forms, links
from chalicelib.triggers.models import ProcessBody, Submission, TrackedUrl

FORM_TYPE = "application/x-www-form-urlencoded"
TOKEN_LENGTH = 4000
# Every public answer: never cached, no referrer, and read as the type it says (a link's text
# is the tenant's, and must not be sniffed into HTML).
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE_HEADERS = NO_STORE | {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def clock() -> Any:
    """The clock of the public endpoints (the engine's, so tests can move it)."""
    from chalicelib.engine.runtime import runtime

    return runtime.clock()


class UrlQuery(ListQuery):
    contact_id: Id = Field(..., min_length=1)


class SubmissionQuery(ListQuery):
    status: Literal["pending", "processed"] | None = None


def _respond(body: str | bytes, status: int, headers: dict[str, str]) -> Response:
    sent: dict[str, str | list[str]] = dict(headers)
    return Response(body=body, status_code=status, headers=sent)


def _page(title: str, body_html: str, status: int = 200) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">'
        f"<h1>{escape(title)}</h1>{body_html}</body></html>"
    )
    return _respond(html, status, PAGE_HEADERS)


# -- links ------------------------------------------------------------------------------------


@api.operation(
    "GET",
    "/v1/links/{id}/url",
    summary="The signed tracked url of a link for one contact (what a mailer puts in an email)",
    tag="links",
    access=ANY_ROLE,
    response=TrackedUrl,
    query=UrlQuery,
)
def link_url(call: Call) -> TrackedUrl:
    return TrackedUrl(
        url=links.tracked_url(call.tenant_id, call.params["id"], call.query.contact_id)
    )


def _click(call: Call) -> Response:
    answer = links.click(call.params["token"], lambda: clock())
    if answer.text is not None:
        headers = NO_STORE | {"Content-Type": "text/plain; charset=utf-8"}
        return _respond(answer.text, 200, headers)
    return _respond("", 302, NO_STORE | {"Location": answer.redirect or ""})


def _open(call: Call) -> Response:
    email_events.opened(call.params["token"], lambda: clock())
    accept: Any = call.request.headers or {}
    if not _binary_accepted(str(accept.get("accept") or "")):
        # API Gateway returns binary only to a request that accepts it; an image request
        # (``image/*`` or ``*/*``) does. Anything else gets "nothing to show".
        return _respond("", 204, NO_STORE)
    return _respond(email_events.PIXEL, 200, NO_STORE | {"Content-Type": "image/gif"})


def _binary_accepted(accept: str) -> bool:
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(types & {"*/*", "image/*", "image/gif"})


def _unsubscribe_page(call: Call) -> Response:
    email_events.check_unsubscribe(call.params["token"])
    return _page(
        "Unsubscribe",
        "<p>Stop receiving these emails?</p>"
        '<form method="post"><button type="submit" name="List-Unsubscribe" value="One-Click">'
        "Unsubscribe</button></form>",
    )


def _unsubscribe(call: Call) -> Response:
    email_events.unsubscribe(call.params["token"], lambda: clock())
    return _page("Unsubscribed", "<p>You will not receive these emails any more.</p>")


# -- forms ------------------------------------------------------------------------------------


def _submit(call: Call) -> Response:
    kind = content_type(call.request)
    raw = raw_body(call.request)
    browser = kind == FORM_TYPE
    values = _form_values(raw) if browser else _json_values(raw)
    submitted = forms.submit(call.params["form_id"], values, lambda: clock())
    submission = submitted.submission
    if browser:
        if submitted.form.thank_you_url:
            headers = NO_STORE | {"Location": submitted.form.thank_you_url}
            return _respond("", 303, headers)
        return _page("Thank you", "<p>Your answer was received.</p>")
    answer = forms.SubmitAnswer(
        submission_id=submission.id if submission else None,
        status=submission.status if submission else "received",
        contact_id=submission.contact_id if submission else None,
    )
    return _respond(answer.model_dump_json(), 200, {"Content-Type": "application/json"})


def _form_values(raw: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequestError(f"The form data could not be read: {error}") from error
    return dict(pairs)


def _json_values(raw: bytes) -> dict[str, str]:
    data = parse_json(raw) if raw.strip() else None
    if not isinstance(data, dict):
        raise BadRequestError("The body must be a JSON object of field names and values.")
    values: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise BadRequestError(f"The field {name!r} must be a string, number or boolean.")
        values[str(name)] = str(value)
    return values


@api.operation(
    "GET",
    "/v1/forms/{id}/submissions",
    summary="A form's submissions (?status=pending for those waiting to be processed)",
    tag="forms",
    access=ANY_ROLE,
    response=Page[Submission],
    query=SubmissionQuery,
)
def list_submissions(call: Call) -> Page[Submission]:
    q = call.query
    return forms.submissions(
        call.tenant_id, call.params["id"], status=q.status, limit=q.limit, cursor=q.cursor
    )


@api.operation(
    "POST",
    "/v1/forms/{id}/submissions/{sid}/process",
    summary="Process a pending submission: link it to a contact (or find/create by email)",
    tag="forms",
    access=CONTENT,
    body=ProcessBody,
    response=Submission,
    errors=(409,),
)
def process_submission(call: Call) -> Submission:
    return forms.process(
        call.tenant_id, call.params["id"], call.params["sid"], call.body.contact_id, clock
    )


def _public(method: str, path: str, handler: Any, summary: str, **kw: Any) -> None:
    api.add(
        Operation(
            method,
            path,
            handler,
            summary,
            "public",
            None,
            max_param_length=TOKEN_LENGTH,
            **kw,
        )
    )


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_NOT_FOUND = {"description": "A forged, truncated or unknown token or id", "content": _PROBLEM}
_TEXT = {"schema": {"type": "string"}}
_PAGE = {"description": "A page", "content": {"text/html": _TEXT}}
_LOCATION = {"Location": {"required": True, "schema": {"type": "string", "format": "uri"}}}
# A public post from a browser: field names and values, nothing typed (the form says which).
_FIELDS = {"type": "object", "additionalProperties": {"type": "string"}}

_public("GET", "/l/{token}", _click, "A tracked-link click: 302 to the link's url, or its text",
        responses={
            200: {"description": "The link's text", "content": {"text/plain": _TEXT}},
            302: {"description": "To the link's url", "headers": _LOCATION},
            404: _NOT_FOUND,
        })  # fmt: skip
_public("GET", "/o/{token}", _open, "An email's open pixel (image/gif); counts once per message",
        responses={
            200: {"description": "A 1x1 transparent GIF",
                  "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}}},
            204: {"description": "The request does not accept an image: nothing to show"},
            404: _NOT_FOUND,
        })  # fmt: skip
_public("GET", "/u/{token}", _unsubscribe_page, "Unsubscribe: the confirmation page",
        responses={200: _PAGE, 404: _NOT_FOUND})  # fmt: skip
_public("POST", "/u/{token}", _unsubscribe, "Unsubscribe (RFC 8058 one-click); clears consent",
        content_types=[FORM_TYPE, "application/json", "text/plain", "multipart/form-data"],
        responses={200: _PAGE, 404: _NOT_FOUND})  # fmt: skip
_public("POST", "/f/{form_id}", _submit,
        "Submit a form: urlencoded from a browser (303 to the thank-you url) or JSON (200)",
        content_types=[FORM_TYPE, "application/json"], response=forms.SubmitAnswer,
        request_body={
            "required": True,
            "content": {
                FORM_TYPE: {"schema": _FIELDS | {"required": ["email"]}},
                "application/json": {"schema": {
                    "type": "object", "required": ["email"],
                    "additionalProperties": {"type": ["string", "number", "boolean"]}}},
            },
        },
        responses={
            200: {"description": "Received: JSON for a JSON post, a thank-you page for a "
                  "browser's", "content": {
                      "application/json": {"schema": {
                          "$ref": "#/components/schemas/SubmitAnswer"}},
                      "text/html": _TEXT}},
            303: {"description": "A browser's post: to the form's thank-you url",
                  "headers": _LOCATION},
        })  # fmt: skip
