"""The clock, injected wherever time matters (STYLE.md 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from zoneinfo import available_timezones

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The production clock: aware UTC now."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z``, to the second: the API's one time format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """ISO 8601 UTC to the millisecond: for events compared with each other (engagement)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this system knows. Listing them walks the zone files (~40 ms, and a
    tenant's settings are validated on every step that reads them), so it is done once."""
    return frozenset(available_timezones())
