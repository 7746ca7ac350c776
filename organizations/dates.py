"""The one window every date a person enters must fall in (content publication and
expiry, a share's moment, a challenge's period), with one message: from 1 January 2000 to
the end of the fifth year ahead. Outside it, dates stop making sense for this product and
some stop being renderable in every time zone (a year 231 prints as +00:09:21 in Paris)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

FIRST_YEAR = 2000
YEARS_AHEAD = 5


def date_window(*, now: datetime | None = None) -> tuple[date, date]:
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    return date(FIRST_YEAR, 1, 1), date(today.year + YEARS_AHEAD, 12, 31)


def date_error(value: date | datetime, *, now: datetime | None = None) -> str | None:
    """Why `value` is outside the window, or None when it is inside."""
    first, last = date_window(now=now)
    # Years first: turning an extreme aware datetime into local time can overflow.
    day = value if not isinstance(value, datetime) else value.date()
    if not first.year <= value.year <= last.year or not first <= day <= last:
        return _("Choose a date between %(first)s and %(last)s.") % {
            "first": date_format(first, "DATE_FORMAT"),
            "last": date_format(last, "DATE_FORMAT"),
        }
    return None
