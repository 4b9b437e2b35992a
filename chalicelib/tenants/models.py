"""Request and response models of tenants, keys and settings."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

from chalicelib.api.models import ApiModel, Id
from chalicelib.clock import time_zones

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
SMS_SENDER = re.compile(r"^(\+[1-9]\d{6,14}|[A-Za-z0-9][A-Za-z0-9 ]{0,10})$")


class WorkingHours(ApiModel):
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    start: str = Field("09:00", pattern=HHMM)
    end: str = Field("17:00", pattern=HHMM)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class TenantSettings(ApiModel):
    """A tenant's settings; PATCH /v1/settings merges into them."""

    timezone: str = Field("UTC", description="IANA time zone name")
    default_sender_address: EmailStr | None = None
    default_sender_name: str | None = Field(None, max_length=200)
    sms_sender: str | None = Field(
        None, description="an alphanumeric sender (1-11 characters) or an E.164 number"
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    default_phone_region: str | None = Field(
        None,
        description="ISO 3166 region for phone numbers written without +country code",
    )
    request_categories: dict[str, list[Id]] = Field(
        default_factory=dict,
        description="request category -> the associates its requests rotate over (owner auto)",
    )
    sale_stages: dict[str, str] = Field(
        default_factory=dict, description="sale type -> the stage a new sale of it starts in"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in time_zones():
            raise ValueError(f"unknown time zone {value!r}")
        ZoneInfo(value)
        return value

    @field_validator("sms_sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        # fullmatch: "$" alone lets a trailing newline through.
        if value is not None and not SMS_SENDER.fullmatch(value):
            raise ValueError("1-11 letters, digits or spaces, or an E.164 number")
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r}")
        return region


class TenantCreate(ApiModel):
    name: str = Field(..., min_length=1, max_length=200)
    settings: TenantSettings = Field(default_factory=TenantSettings)


class TenantCreated(BaseModel):
    tenant_id: str
    api_key: str = Field(description="the first admin key, shown this once")
    key_id: str


class KeyCreate(ApiModel):
    name: str = Field(..., min_length=1, max_length=200)
    role: Literal["admin", "flow_admin", "content_editor"]


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    created_at: str


class KeyCreated(KeyInfo):
    api_key: str = Field(description="the key, shown this once")
