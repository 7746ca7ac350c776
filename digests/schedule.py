"""When a person's digest is due: the organisation's hour (and weekday, for a weekly
digest) read in the person's own time zone, so Tokyo gets its digest hours before Paris."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digests.models import Frequency

# A period whose digest time passed longer ago than this is not claimed any more: a job
# that was down for a day does not send yesterday's digest in the middle of the night.
DUE_WINDOW = timedelta(hours=6)
PERIOD_LENGTH: dict[str, timedelta] = {
    Frequency.DAILY: timedelta(days=1),
    Frequency.WEEKLY: timedelta(days=7),
}


@dataclass(frozen=True)
class Period:
    key: str
    starts_at: datetime  # the digest time of this period (an aware datetime)


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def period_current(
    *, frequency: str, weekday: int, hour: int, zone: ZoneInfo, now: datetime
) -> Period | None:
    """The latest period whose digest time has come, or None for "never"."""
    if frequency not in PERIOD_LENGTH:
        return None
    local = now.astimezone(zone)
    if frequency == Frequency.DAILY:
        day = local.date()
        if _at(day, hour, zone) > now:
            day -= timedelta(days=1)
        return Period(f"d:{day.isoformat()}", _at(day, hour, zone))
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    if _at(day, hour, zone) > now:
        day -= timedelta(days=7)
    return Period(f"w:{day.isoformat()}", _at(day, hour, zone))


def period_due(
    *, frequency: str, weekday: int, hour: int, zone: ZoneInfo, now: datetime
) -> Period | None:
    """The current period if its digest time passed less than DUE_WINDOW ago."""
    period = period_current(frequency=frequency, weekday=weekday, hour=hour, zone=zone, now=now)
    if period is None or now - period.starts_at >= DUE_WINDOW:
        return None
    return period
