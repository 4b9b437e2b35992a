"""Phone numbers to E.164, with and without the tenant's default region."""

from __future__ import annotations

import pytest

from chalicelib.messaging.phones import InvalidPhoneError, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+4791234567", None, "+4791234567"),
        ("+47 912 34 567", None, "+4791234567"),
        ("+1 (201) 555-0123", None, "+12015550123"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("tel:+4791234567", None, "+4791234567"),
    ],
)
def test_a_number_with_a_country_code_needs_no_region(
    raw: str, region: str | None, e164: str
) -> None:
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("912 34 567", "NO", "+4791234567"),
        ("91234567", "NO", "+4791234567"),
        ("0047 91234567", "NO", "+4791234567"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("07400 123456", "GB", "+447400123456"),
    ],
)
def test_a_national_number_is_read_in_the_default_region(raw: str, region: str, e164: str) -> None:
    assert to_e164(raw, region) == e164


def test_a_country_code_wins_over_the_default_region() -> None:
    assert to_e164("+47 912 34 567", "US") == "+4791234567"


def test_a_national_number_without_a_region_is_invalid_and_says_why() -> None:
    with pytest.raises(InvalidPhoneError, match=r"start with \+country code"):
        to_e164("91234567", None)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "NO"),
        ("abc", "NO"),
        ("123", "NO"),
        ("+47 123", None),
        ("+47 912 34 567 8", None),
        ("+999 1234567", None),
        ("912 34 567", "ZZ"),
    ],
)
def test_an_invalid_number_raises(raw: str, region: str | None) -> None:
    with pytest.raises(InvalidPhoneError):
        to_e164(raw, region)


def test_invalid_phone_error_is_a_value_error() -> None:
    # pydantic turns a ValueError raised in a validator into a field error.
    assert issubclass(InvalidPhoneError, ValueError)
