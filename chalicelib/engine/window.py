"""The send window: emails and SMS go out only on its weekdays between its start and end, in
the flow's timezone (UTC when the flow has none, which is also a problem on save)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.flows.definition import SendWindow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def next_opening(window: SendWindow, timezone: str | None, now: datetime) -> datetime:
    """``now`` when the window is open, else the moment it next opens (in UTC)."""
    zone = ZoneInfo(timezone) if timezone else UTC
    local = now.astimezone(zone)
    start, end = time.fromisoformat(window.start), time.fromisoformat(window.end)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if DAYS[day.weekday()] not in window.days:
            continue
        opens = datetime.combine(day, start, zone)
        closes = datetime.combine(day, end, zone)
        if offset == 0 and opens <= local < closes:
            return now
        if opens > local:
            return opens.astimezone(UTC)
    return now  # a window with no days never opens; sending is then not held back
