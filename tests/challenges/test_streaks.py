"""Share streaks: weeks in a row (Monday to Sunday in the organisation's time zone) with
at least one share, across a year boundary; a streak ends when a week is missed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from challenges.models import Score
from challenges.points_selectors import points_summary
from challenges.services.points import points_award, points_reverse, streak_from_weeks

pytestmark = pytest.mark.django_db


def _share(user, key: str, at: datetime):
    return points_award(
        user=user, reason="share_published", points=10, source_key=key, occurred_at=at
    )


def test_weeks_in_a_row_across_the_new_year(personas):
    user = personas.teammate
    # ISO weeks 52 (2026), 53 (2026) and 1 (2027).
    _share(user, "a", datetime(2026, 12, 22, 12, tzinfo=UTC))
    _share(user, "b", datetime(2026, 12, 31, 12, tzinfo=UTC))
    _share(user, "c", datetime(2027, 1, 6, 12, tzinfo=UTC))
    score = Score.objects.get(user=user)
    assert (score.current_streak_weeks, score.longest_streak_weeks) == (3, 3)
    assert score.streak_week == date(2027, 1, 4)


def test_the_week_is_the_organisation_s_not_utc(personas):
    user = personas.teammate
    # Sunday 3 January 2027 23:30 UTC is Monday 4 January 00:30 in Paris.
    _share(user, "a", datetime(2026, 12, 29, 12, tzinfo=UTC))
    _share(user, "b", datetime(2027, 1, 3, 23, 30, tzinfo=UTC))
    score = Score.objects.get(user=user)
    assert score.current_streak_weeks == 2
    personas.organization.time_zone = "America/New_York"
    personas.organization.save()
    user.refresh_from_db()
    _share(user, "c", datetime(2027, 1, 1, 12, tzinfo=UTC))  # same week in New York
    assert Score.objects.get(user=user).current_streak_weeks == 1


def test_a_missed_week_ends_the_streak_but_keeps_the_record(personas):
    user = personas.teammate
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for week in (0, 1, 2):
        _share(user, f"w{week}", start + timedelta(weeks=week))
    _share(user, "w5", start + timedelta(weeks=5))
    score = Score.objects.get(user=user)
    assert (score.current_streak_weeks, score.longest_streak_weeks) == (1, 3)
    with time_machine.travel(start + timedelta(weeks=6, days=2), tick=False):
        assert points_summary(user).current_streak_weeks == 1  # last week still counts
    with time_machine.travel(start + timedelta(weeks=7, days=2), tick=False):
        assert points_summary(user).current_streak_weeks == 0
        assert points_summary(user).longest_streak_weeks == 3


def test_a_recalled_share_leaves_the_streak(personas):
    user = personas.teammate
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    _share(user, "w0", start)
    _share(user, "w1", start + timedelta(weeks=1))
    points_reverse(source_key="w1", reversal_key="r1", reason="share_recalled")
    assert Score.objects.get(user=user).current_streak_weeks == 1


def test_streak_arithmetic():
    monday = date(2026, 1, 5)
    weeks = [monday, monday + timedelta(days=7), monday + timedelta(days=21), monday]
    assert streak_from_weeks(weeks) == (1, 2, monday + timedelta(days=21))
    assert streak_from_weeks([]) == (0, 0, None)
