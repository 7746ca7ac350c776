"""Fixtures of the digest tests: a clock stopped just after the digest hour in Paris on a
Monday, clean leaderboard sets, and builders for contents and shares."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from advocacy.models import Share, ShareMode, ShareStatus
from content.models import Content, Network
from digests.models import DigestSettings, Frequency
from organizations.models import Organization, User

# The leaderboard sets emptied around each test, as in the challenges' tests.
from tests.challenges.conftest import _clean_leaderboards  # noqa: F401
from tests.content.factories import ContentFactory

# Monday 7 December 2026, 09:05 in Paris (08:05 UTC).
MONDAY_PARIS = datetime(2026, 12, 7, 9, 5, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def clock(time_machine) -> datetime:
    time_machine.move_to(MONDAY_PARIS, tick=False)
    return MONDAY_PARIS


def daily_at_nine(organization: Organization) -> DigestSettings:
    return DigestSettings.objects.update_or_create(
        organization=organization,
        defaults={"default_frequency": Frequency.DAILY, "weekday": 0, "hour": 9},
    )[0]


def post(organization: Organization, *, hours_ago: float = 1, **fields) -> Content:
    fields.setdefault("language", "en")
    fields.setdefault("author", None)
    return ContentFactory(
        organization=organization,
        publish_at=timezone.now() - timezone.timedelta(hours=hours_ago),
        **fields,
    )


def shared(user: User, content: Content, *, status: str = ShareStatus.PUBLISHED) -> Share:
    now = timezone.now()
    return Share.objects.create(
        organization_id=user.organization_id,
        user=user,
        content=content,
        network=Network.LINKEDIN,
        mode=ShareMode.LINK,
        text="Proud of our teams.",
        status=status,
        scheduled_at=now,
        published_at=now if status == ShareStatus.PUBLISHED else None,
    )


def daily_here_quiet_there(personas) -> DigestSettings:
    """The personas' organisation daily at nine; the other organisation never (on a
    Monday at nine its default weekly digest would be due too)."""
    DigestSettings.objects.update_or_create(
        organization=personas.other_organization,
        defaults={"default_frequency": Frequency.NEVER},
    )
    return daily_at_nine(personas.organization)
