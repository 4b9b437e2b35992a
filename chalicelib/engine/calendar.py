"""Meeting slots: the first free slot in an associate's working hours, booked so that two
meetings never overlap, also when two workers book at once.

An associate's calendar is a set of 15-minute blocks. A booked meeting writes one guard item per
block it covers (``pk = tenant#slot#associate``, ``sk = block start``) with the condition that it
does not exist, in the step's transaction: a second booking of any of those blocks makes that
transaction fail, and the step runs again and finds the next free slot.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.store import records
from chalicelib.store.base import Write
from chalicelib.tenants.models import TenantSettings

BLOCK = timedelta(minutes=15)
SEARCH_DAYS = 90
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def add_working_days(moment: datetime, days: int, timezone: str | None) -> datetime:
    """``days`` working days (Mon-Fri in ``timezone``) after ``moment``, same time of day."""
    local = moment.astimezone(ZoneInfo(timezone) if timezone else UTC)
    left = days
    while left:
        local += timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local.astimezone(UTC)


def _blocks(start: datetime, length: timedelta) -> list[datetime]:
    count = max(1, -(-int(length.total_seconds()) // int(BLOCK.total_seconds())))
    return [start + BLOCK * i for i in range(count)]


def _ceil(moment: datetime) -> datetime:
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + BLOCK


def first_free(
    tenant_id: str,
    associate_id: str,
    earliest: datetime,
    length: timedelta,
    settings: TenantSettings,
) -> datetime | None:
    """The start (UTC) of the first slot of ``length`` at or after ``earliest`` inside the
    working hours (tenant's timezone) whose blocks are all free; None within 90 days."""
    zone = ZoneInfo(settings.timezone)
    hours = settings.working_hours
    opens, closes = time.fromisoformat(hours.start), time.fromisoformat(hours.end)
    horizon = earliest + timedelta(days=SEARCH_DAYS)
    taken = records.slots_taken(tenant_id, associate_id, earliest, horizon)
    local_day = earliest.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        day = local_day + timedelta(days=offset)
        if DAYS[day.weekday()] not in hours.days:
            continue
        start = max(datetime.combine(day, opens, zone).astimezone(UTC), _ceil(earliest))
        close = datetime.combine(day, closes, zone).astimezone(UTC)
        while start + length <= close:
            blocks = _blocks(start, length)
            if not any(b in taken for b in blocks):
                return start
            start += BLOCK
    return None


def book(
    tenant_id: str, associate_id: str, start: datetime, length: timedelta, follow_up_id: str
) -> list[Write]:
    """The guard writes that book the slot (each fails if the block is taken)."""
    return [
        records.slot_write(tenant_id, associate_id, block, follow_up_id)
        for block in _blocks(start, length)
    ]
