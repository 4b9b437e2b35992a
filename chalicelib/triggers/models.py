"""Tracked links and forms (API.md "Forms, tracked links, opens"; SPEC.md §6): what a client
writes, what the API answers, and the actions both carry."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from chalicelib.api.models import ApiModel, Id, Stamped
from chalicelib.settings import get_settings
from chalicelib.steps.durations import Duration

# An absolute http(s) url whose host part has no credentials (``https://bank.example@evil``)
# and nothing a parser could read another way: no whitespace, control character or backslash.
HTTP_URL = r"^https?://[^\s\x00-\x1f\x7f\\/?#@]+([/?#][^\s\x00-\x1f\x7f\\]*)?$"
Short = Field(None, max_length=200)


def is_http_url(url: str) -> bool:
    """Whether a redirect may go to ``url`` (a link's url, a form's thank-you url, a script's
    returnUrl, a plain link of an email): an absolute http(s) url with a host, no credentials,
    and no character that would split a header (CR, LF) or that parsers read differently
    (backslash, whitespace, control characters)."""
    if len(url) > 2000 or any(c.isspace() or ord(c) < 0x20 or c in "\\\x7f" for c in url):
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not {"@", "%"} & set(parts.netloc)
        and port_ok
    )


def _http_url(url: str | None) -> str | None:
    if url is not None and not is_http_url(url):
        raise ValueError("an absolute http(s) url with a host and no credentials")
    return url


class Response(ApiModel):
    type: Literal["redirect", "text"] = "redirect"
    text: str = Field("", max_length=10_000, description="shown as plain text for type text")


class FieldValue(ApiModel):
    field: str = Field(..., min_length=1, max_length=64, description="an extra field's name")
    value: str | float | bool | None = None


class SelectionRef(ApiModel):
    selection_id: Id


class ProjectRef(ApiModel):
    project_id: Id


class FollowUpAction(ApiModel):
    type: Literal["task", "meeting"] = "task"
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    project_id: Id | None = None
    assign_to_our_contact: bool = Field(True, description="the contact's owner, if it has one")
    default_recipient_id: Id | None = Field(None, description="an associate, else")
    duration: Duration | None = Field(None, description="ISO 8601; a meeting's length, from now")


class RequestAction(ApiModel):
    title: str = Field(..., min_length=1, max_length=200)
    type: str | None = Short
    priority: str | None = Short
    category: str | None = Short
    owner: Id = Field("auto", description="auto (service owner, else owner), or an associate id")
    message: str = Field("", max_length=10_000)


class LinkActions(ApiModel):
    response: Response = Field(default_factory=Response)
    set_field: FieldValue | None = None
    add_interest: str | None = Short
    remove_interest: str | None = Short
    add_to_selection: SelectionRef | None = None
    remove_from_selection: SelectionRef | None = None
    add_to_project: ProjectRef | None = None
    remove_from_project: ProjectRef | None = None
    follow_up: FollowUpAction | None = None
    request: RequestAction | None = None
    script_id: Id | None = Field(
        None,
        description="run synchronously (2 s budget) with custId, linkId, shipmentId, linkUrl, "
        "linkHits; its returnUrl (http/https) replaces the redirect",
    )
    once_per_contact: bool = Field(False, description="run the actions on a contact's 1st click")


class LinkFields(ApiModel):
    url: str = Field(..., pattern=HTTP_URL, max_length=2000, description="where a click goes")
    name: str = Field("", max_length=200)
    actions: LinkActions = Field(default_factory=LinkActions)

    _url = field_validator("url")(_http_url)


class Link(LinkFields, Stamped):
    pass


class FormField(ApiModel):
    name: str = Field(..., pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
    label: str = Field("", max_length=200)
    type: Literal["text", "email", "tel", "number", "checkbox", "textarea", "hidden"] = "text"
    required: bool = False
    maps_to: str | None = Field(
        None,
        description="a contact field (first_name, last_name, mobile_phone, category, business) "
        "or extra_fields.<name> that a processed submission fills",
    )


class FormActions(ApiModel):
    add_to_selection: SelectionRef | None = None
    add_to_project: ProjectRef | None = None
    add_interest: str | None = Short
    default_category: str | None = Field(None, max_length=200, description="for a new contact")
    default_business: str | None = Field(None, max_length=200, description="for a new contact")
    request: RequestAction | None = None
    response_mailing_id: Id | None = Field(None, description="emailed to the submitter")
    script_id: Id | None = Field(None, description="invoked (async) with the submission")


class FormFields(ApiModel):
    name: str = Field(..., min_length=1, max_length=200)
    fields: list[FormField] = Field(default_factory=list, max_length=100)
    processing: Literal["auto", "auto_known", "manual"] = Field(
        "auto",
        description="auto: match by email or create; auto_known: process known submitters, "
        "queue unknown ones; manual: queue all",
    )
    thank_you_url: str | None = Field(None, pattern=HTTP_URL, max_length=2000)
    actions: FormActions = Field(default_factory=FormActions)

    _thank_you_url = field_validator("thank_you_url")(_http_url)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[FormField]) -> list[FormField]:
        names = [f.name for f in fields]
        if len(names) != len(set(names)):
            raise ValueError("two fields have the same name")
        return fields


class Form(FormFields, Stamped):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def submit_url(self) -> str:
        """Where the HTML form posts (public, no key)."""
        return f"{get_settings().public_base_url.rstrip('/')}/f/{self.id}"


class TrackedUrl(BaseModel):
    url: str


class Submission(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    form_id: str
    status: Literal["pending", "processed"]
    email: str
    fields: dict[str, str]
    submitted_at: str
    contact_id: str | None = None
    processed_at: str | None = None


class ProcessBody(ApiModel):
    contact_id: Id | None = Field(
        None, description="link the submission to this contact; none: find by email or create"
    )
