"""Badges: each one awarded once, with its notification; share and click counts, the
4-week streak, the month's top suggester, and the challenge winner's key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from challenges.models import BadgeAward, BadgeKind
from challenges.services.badges import badge_award, top_suggester_award
from challenges.services.points import points_award, points_reverse
from notifications.models import Notification
from tests.content.factories import SuggestionFactory

pytestmark = pytest.mark.django_db


def _share_award(user, index: int, at: datetime | None = None):
    return points_award(
        user=user,
        reason="share_published",
        points=10,
        source_key=f"share:{index}",
        occurred_at=at or timezone.now(),
    )


def _badges(user) -> list[str]:
    return sorted(BadgeAward.objects.filter(user=user).values_list("badge", flat=True))


def test_the_first_share_and_the_tenth_each_award_a_badge_once(personas):
    user = personas.teammate
    now = timezone.now()
    for index in range(12):
        _share_award(user, index, now)
    assert _badges(user) == ["first_share", "shares_10"]
    # A reversal then a new share crosses ten again: no second badge.
    points_reverse(source_key="share:11", reversal_key="r11")
    points_reverse(source_key="share:10", reversal_key="r10")
    points_reverse(source_key="share:9", reversal_key="r9")
    _share_award(user, 99, now)
    assert _badges(user) == ["first_share", "shares_10"]
    titles = list(
        Notification.objects.filter(recipient=user, kind="challenges.badge").values_list(
            "title", flat=True
        )
    )
    assert sorted(titles) == ["New badge: 10 shares", "New badge: First share"]


def test_a_hundred_paid_clicks_award_the_click_badge(personas):
    user = personas.teammate
    now = timezone.now()
    for index in range(100):
        points_award(
            user=user, reason="click", points=1, source_key=f"click:{index}", occurred_at=now
        )
        if index == 98:
            assert "clicks_100" not in _badges(user)
    assert _badges(user) == ["clicks_100"]


def test_four_weeks_in_a_row_award_the_streak_badge(personas):
    user = personas.teammate
    monday = datetime(2026, 2, 2, 10, tzinfo=UTC)
    for week in (0, 1, 2):
        _share_award(user, week, monday + timedelta(weeks=week))
    assert "streak_4_weeks" not in _badges(user)
    _share_award(user, 3, monday + timedelta(weeks=3, days=4))
    assert "streak_4_weeks" in _badges(user)


def test_badge_award_is_idempotent_on_its_key(personas):
    key = f"challenge_winner:7:{personas.teammate.pk}"
    now = timezone.now()
    first = badge_award(user=personas.teammate, badge="challenge_winner", key=key, awarded_at=now)
    again = badge_award(user=personas.teammate, badge="challenge_winner", key=key, awarded_at=now)
    assert first is not None and again is None
    assert BadgeAward.objects.filter(badge=BadgeKind.CHALLENGE_WINNER).count() == 1
    with pytest.raises(ValueError):
        badge_award(user=personas.teammate, badge="nonsense", key="x", awarded_at=now)


def test_the_top_suggesters_of_the_month_share_the_badge_once(personas):
    organization = personas.organization
    in_march = datetime(2026, 3, 31, 21, 30, tzinfo=UTC)  # 31 March 23:30 in Paris
    in_april = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 1 April 00:30 in Paris
    for author, count in ((personas.teammate, 2), (personas.owner, 2)):
        for _ in range(count):
            SuggestionFactory(
                organization=organization, author=author, status="accepted", decided_at=in_march
            )
    for _ in range(3):
        SuggestionFactory(
            organization=organization, author=personas.owner, status="accepted", decided_at=in_april
        )
    SuggestionFactory(
        organization=organization, author=personas.owner, status="declined", decided_at=in_march
    )
    awarded = top_suggester_award(organization=organization, month=date(2026, 3, 1))
    assert {a.user_id for a in awarded} == {personas.teammate.pk, personas.owner.pk}
    assert top_suggester_award(organization=organization, month=date(2026, 3, 1)) == []
    april = top_suggester_award(organization=organization, month=date(2026, 4, 1))
    assert [a.user_id for a in april] == [personas.owner.pk]
    assert not BadgeAward.objects.filter(user=personas.outsider).exists()
