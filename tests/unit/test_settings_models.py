"""TenantSettings and WorkingHours validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.tenants.models import KeyCreate, TenantCreate, TenantSettings, WorkingHours


def _settings(**fields: Any) -> TenantSettings:
    return TenantSettings.model_validate(fields)


def _error_paths(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in error.errors()]


def test_defaults() -> None:
    settings = TenantSettings()

    assert settings.timezone == "UTC"
    assert settings.sms_sender is None
    assert settings.default_phone_region is None
    assert settings.working_hours == WorkingHours(
        days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00"
    )


@pytest.mark.parametrize("zone", ["UTC", "Europe/Oslo", "America/New_York", "Asia/Kolkata"])
def test_an_iana_time_zone_is_accepted(zone: str) -> None:
    assert _settings(timezone=zone).timezone == zone


@pytest.mark.parametrize("zone", ["", "europe/oslo", "Mars/Olympus_Mons", "CEST", "+01:00", "Oslo"])
def test_an_unknown_time_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone") as raised:
        _settings(timezone=zone)

    assert _error_paths(raised.value) == ["timezone"]


@pytest.mark.parametrize(("region", "stored"), [("NO", "NO"), ("no", "NO"), ("gB", "GB")])
def test_a_region_is_stored_upper_case(region: str, stored: str) -> None:
    assert _settings(default_phone_region=region).default_phone_region == stored


@pytest.mark.parametrize("region", ["", "XX", "EU", "NOR", "001", " NO", "47"])
def test_an_unknown_region_is_rejected(region: str) -> None:
    with pytest.raises(ValidationError, match="unknown region") as raised:
        _settings(default_phone_region=region)

    assert _error_paths(raised.value) == ["default_phone_region"]


def test_no_region_is_allowed() -> None:
    assert _settings(default_phone_region=None).default_phone_region is None


@pytest.mark.parametrize(
    "sender",
    ["A", "Flows", "ACME Shop", "Shop2000", "12345678901", "+4791234567", "+12015550123"],
)
def test_an_sms_sender_may_be_alphanumeric_or_e164(sender: str) -> None:
    assert _settings(sms_sender=sender).sms_sender == sender


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param("", id="empty"),
        pytest.param("ABCDEFGHIJKL", id="twelve-characters"),
        pytest.param(" Flows", id="leading-space"),
        pytest.param("Flöws", id="non-ascii"),
        pytest.param("Flows!", id="punctuation"),
        pytest.param("Flows\n", id="trailing-newline"),
        pytest.param("+47", id="e164-too-short"),
        pytest.param("+0123456789", id="e164-leading-zero"),
        pytest.param("+1234567890123456", id="e164-too-long"),
        pytest.param("+47 912 34 567", id="e164-with-spaces"),
    ],
)
def test_a_bad_sms_sender_is_rejected(sender: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(sms_sender=sender)

    assert _error_paths(raised.value) == ["sms_sender"]


def test_working_hours_start_before_end() -> None:
    hours = WorkingHours.model_validate({"start": "08:30", "end": "16:00"})

    assert (hours.start, hours.end) == ("08:30", "16:00")


@pytest.mark.parametrize(
    ("start", "end"), [("17:00", "09:00"), ("09:00", "09:00"), ("23:59", "00:00")]
)
def test_working_hours_start_not_before_end_is_rejected(start: str, end: str) -> None:
    with pytest.raises(ValidationError, match="start must be before end") as raised:
        _settings(working_hours={"start": start, "end": end})

    assert _error_paths(raised.value) == ["working_hours"]


@pytest.mark.parametrize("clock", ["9:00", "24:00", "12:60", "0900", "09:00:00", "09:00\n"])
def test_working_hours_need_hh_mm(clock: str) -> None:
    with pytest.raises(ValidationError):
        WorkingHours.model_validate({"start": clock, "end": "23:00"})


def test_working_hours_days_are_weekday_names() -> None:
    with pytest.raises(ValidationError):
        WorkingHours.model_validate({"days": ["monday"]})


def test_settings_are_strict_and_closed() -> None:
    with pytest.raises(ValidationError):
        _settings(timezone=1)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        _settings(colour="red")


def test_a_sender_address_must_be_an_email() -> None:
    assert _settings(default_sender_address="news@example.com").default_sender_address
    with pytest.raises(ValidationError):
        _settings(default_sender_address="not an address")


def test_tenant_create_needs_a_name_and_keeps_default_settings() -> None:
    tenant = TenantCreate.model_validate({"name": "Acme"})

    assert tenant.settings == TenantSettings()
    with pytest.raises(ValidationError):
        TenantCreate.model_validate({"name": ""})


def test_a_key_cannot_be_made_for_the_operator_role() -> None:
    assert KeyCreate.model_validate({"name": "ci", "role": "flow_admin"}).role == "flow_admin"
    with pytest.raises(ValidationError):
        KeyCreate.model_validate({"name": "ci", "role": "operator"})
