"""The publication calendar's arithmetic: which days a month or week view shows, and how
the address names them (`?month=YYYY-MM`, `?week=YYYY-Www` or `?date=YYYY-MM-DD`).
Pure functions of dates, so that the view only parses, calls one selector and renders."""

from __future__ import annotations

import calendar as pycalendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MONTH_VIEW, WEEK_VIEW = "month", "week"
# Chips shown in a month cell before "+N more": three keep a six-week month on one screen.
CHIPS_PER_DAY = 3
# Far enough for any plan, near enough that previous/next never leave date's range.
FIRST_YEAR, YEARS_AHEAD = 2000, 10

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


@dataclass
class CalendarDay:
    day: date
    items: list[Any] = field(default_factory=list)
    in_period: bool = True
    is_today: bool = False

    @property
    def shown(self) -> list[Any]:
        return self.items[:CHIPS_PER_DAY]

    @property
    def hidden_count(self) -> int:
        return max(0, len(self.items) - CHIPS_PER_DAY)

    @property
    def is_weekend(self) -> bool:
        return self.day.weekday() >= 5


def _in_range(day: date, today: date) -> bool:
    return FIRST_YEAR <= day.year <= today.year + YEARS_AHEAD


def parse_month(value: str, today: date) -> date | None:
    """The first day of the month `YYYY-MM` names, or None when it names none we show."""
    match = _MONTH.match(value.strip())
    if not match:
        return None
    try:
        first = date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None
    return first if _in_range(first, today) else None


def parse_week(value: str, today: date) -> date | None:
    """The Monday of the ISO week `YYYY-Www` (or of the week holding `YYYY-MM-DD`)."""
    value = value.strip()
    try:
        if match := _WEEK.match(value):
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        elif match := _DATE.match(value):
            day = date(int(match[1]), int(match[2]), int(match[3]))
            monday = day - timedelta(days=day.weekday())
        else:
            return None
    except ValueError:
        return None
    return monday if _in_range(monday, today) else None


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_weeks(first: date) -> list[list[date]]:
    """Monday-to-Sunday weeks covering the month, with the neighbours' days at the edges."""
    return pycalendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def build_days(
    days: list[date], items: dict[date, list[Any]], *, today: date, month: int | None = None
) -> list[CalendarDay]:
    return [
        CalendarDay(
            day=day,
            items=items.get(day, []),
            in_period=month is None or day.month == month,
            is_today=day == today,
        )
        for day in days
    ]
