"""Request and response models of the CRM objects (API.md "CRM").

Each object has a ``*Fields`` model (the create body: what a client may write), an output model
(the fields plus ``id``, ``created_at`` and ``updated_at``) and, where PATCH exists, a partial
model made from the fields for the schema of the merge-patch body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)

from chalicelib.api.models import ApiModel, Id, Stamped

Name = Field(..., min_length=1, max_length=200)
Text = Field(None, max_length=200)


def _iso_text(value: Any) -> Any:
    """A time arrives as ISO 8601 text (the schema's ``date-time``). Lax parsing, which the
    text needs, would also take a number as seconds since 1970: refuse it here."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("a time is ISO 8601 text, e.g. 2026-11-23T10:00:00Z")
    return value


class Consent(ApiModel):
    email: bool = True
    sms: bool = True


class ContactFields(ApiModel):
    first_name: str = Field("", max_length=200)
    last_name: str = Field("", max_length=200)
    email: EmailStr | None = None
    mobile_phone: str | None = Field(None, description="normalised to E.164")
    company_id: Id | None = None
    owner_id: Id | None = Field(None, description="our contact (an associate)")
    service_owner_id: Id | None = Field(None, description="our service contact (an associate)")
    category: str | None = Text
    business: str | None = Text
    interests: list[str] = Field(default_factory=list)
    subscriptions: list[str] = Field(default_factory=list)
    extra_fields: dict[str, Any] = Field(
        default_factory=dict, description="values checked against the extra-field definitions"
    )
    consent: Consent = Field(default_factory=Consent)
    retired: bool = False


class Contact(ContactFields, Stamped):
    pass


class CompanyFields(ApiModel):
    name: str = Name
    owner_id: Id | None = None
    category: str | None = Text
    business: str | None = Text


class Company(CompanyFields, Stamped):
    pass


class AssociateFields(ApiModel):
    name: str = Name
    email: EmailStr | None = None
    mobile_phone: str | None = Field(None, description="normalised to E.164")
    group_ids: list[Id] = Field(default_factory=list)
    active: bool = True


class Associate(AssociateFields, Stamped):
    pass


class NamedFields(ApiModel):
    name: str = Name


class Group(NamedFields, Stamped):
    pass


class Selection(NamedFields, Stamped):
    pass


class Project(NamedFields, Stamped):
    pass


class ExtraFieldFields(ApiModel):
    name: str = Field(
        ...,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="used in merge tags as [[customer.extra.<name>]]",
    )
    type: Literal["text", "number", "date", "bool", "list"]
    options: list[str] | None = Field(None, description="the choices of a list field")

    @model_validator(mode="after")
    def _options(self) -> ExtraFieldFields:
        if self.type == "list" and not self.options:
            raise ValueError("a list field needs options")
        if self.type != "list" and self.options is not None:
            raise ValueError("only a list field has options")
        return self


class ExtraField(ExtraFieldFields, Stamped):
    pass


class FollowUpFields(ApiModel):
    contact_id: Id | None = None
    type: Literal["task", "meeting"] = "task"
    title: str = Name
    start: AwareDatetime | None = Field(None, strict=False)
    end: AwareDatetime | None = Field(None, strict=False)
    associate_id: Id | None = None
    project_id: Id | None = None
    description: str = Field("", max_length=10_000)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _iso_text(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # API.md: times are ISO 8601 UTC, whatever offset the client wrote.
        return value.astimezone(UTC) if value else value

    @model_validator(mode="after")
    def _times(self) -> FollowUpFields:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class FollowUp(FollowUpFields, Stamped):
    pass


class RequestFields(ApiModel):
    contact_id: Id | None = None
    title: str = Name
    type: str | None = Text
    status: str = Field("open", max_length=50)
    category: str | None = Text
    priority: str | None = Text
    owner_id: Id | None = None
    message: str = Field("", max_length=100_000)


class Request(RequestFields, Stamped):
    pass


class SaleFields(ApiModel):
    contact_id: Id | None = None
    title: str = Name
    type: str | None = Text
    stage: str | None = Text
    status: Literal["open", "sold", "lost"] = "open"
    amount: float = Field(0, ge=0)
    owner_id: Id | None = None
    project_id: Id | None = None
    description: str = Field("", max_length=10_000)
    date: AwareDatetime | None = Field(None, strict=False, description="expected close date")

    @field_validator("date", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _iso_text(value)

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value else value


class Sale(SaleFields, Stamped):
    pass


class MailingFields(ApiModel):
    name: str = Name
    subject: str = Field("", max_length=998)
    html: str = Field("", max_length=1_000_000)
    text: str = Field("", max_length=1_000_000)
    from_name: str | None = Text
    from_address: EmailStr | None = None
    reply_to: EmailStr | None = None
    attachments: list[str] = Field(default_factory=list, description="S3 object keys")


class Mailing(MailingFields, Stamped):
    pass


class ScriptFields(ApiModel):
    name: str = Name
    function_arn: str = Field(
        ...,
        pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$",
        description="the Lambda function run by 'Run script' steps and link actions",
    )


class Script(ScriptFields, Stamped):
    pass


class Member(BaseModel):
    contact_id: str
    added_at: str


class ActivityEntry(BaseModel):
    """One thing the product did to or for a contact."""

    model_config = ConfigDict(extra="allow")
    id: str
    at: str
    type: str
