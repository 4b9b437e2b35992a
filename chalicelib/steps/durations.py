"""ISO 8601 durations as the API writes them (``PT2S``, ``PT15M``, ``P3D``, ``P2W``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(value: str) -> timedelta:
    """The timedelta of an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Years and months are refused: their length depends on the calendar.
    """
    match = _DURATION.match(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration of weeks/days/hours/minutes/seconds: {value!r}")
    parts = {name: int(amount) for name, amount in match.groupdict().items() if amount}
    return timedelta(**parts)


def _valid(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[str, AfterValidator(_valid)]
