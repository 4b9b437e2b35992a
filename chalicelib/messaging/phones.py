"""Phone numbers, normalised to E.164 with the ``phonenumbers`` library."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneError(ValueError):
    """Not a valid phone number (for the region, when written without a country code)."""


def to_e164(raw: str, default_region: str | None) -> str:
    """``raw`` as E.164 (``+4791234567``); a number without ``+`` is read in ``default_region``."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        hint = "" if default_region else " (no default region is set: start with +country code)"
        raise InvalidPhoneError(f"not a phone number{hint}") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
