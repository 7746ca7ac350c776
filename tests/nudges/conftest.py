"""Builders for the nudges tests. The clock: Wednesday 9 December 2026, 10:00 UTC
(11:00 in Paris, 19:00 in Tokyo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.utils import timezone

from advocacy.models import Activity, ActivityKind, Share, ShareMode, ShareStatus
from content.models import CharterAcceptance, Guideline, GuidelineKind, Network
from organizations.models import Organization, User
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, UserFactory

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=200)
_keys = count()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(time_zone="Europe/Paris")


def person(organization: Organization, **fields) -> User:
    fields.setdefault("date_joined", LONG_AGO)
    fields.setdefault("language", "en")
    return UserFactory(organization=organization, **fields)


def share_of(
    user: User,
    *,
    content=None,
    status: str = ShareStatus.PUBLISHED,
    scheduled_at: datetime | None = None,
    created_at: datetime | None = None,
) -> Share:
    content = content or ContentFactory(organization=user.organization, author=user)
    share = Share.objects.create(
        organization=user.organization,
        user=user,
        content=content,
        network=Network.LINKEDIN,
        mode=ShareMode.LINK,
        text="Proud of our teams.",
        status=status,
        scheduled_at=scheduled_at or timezone.now(),
    )
    if created_at is not None:
        Share.objects.filter(pk=share.pk).update(created_at=created_at)
        share.refresh_from_db()
    return share


def shared_at(user: User, when: datetime) -> Activity:
    """A share of `user` published at `when` (what the inactivity rule reads)."""
    share = share_of(user, scheduled_at=when)
    return Activity.objects.create(
        organization=user.organization,
        kind=ActivityKind.SHARE_PUBLISHED,
        source_key=f"test-share:{next(_keys)}",
        user=user,
        share=share,
        content=share.content,
        network=share.network,
        occurred_at=when,
    )


def charter_of(organization: Organization, *, version: int = 1) -> Guideline:
    return Guideline.objects.create(
        organization=organization,
        kind=GuidelineKind.CHARTER,
        title="Our charter",
        body="Be kind.",
        version=version,
    )


def accept(user: User, charter: Guideline) -> None:
    CharterAcceptance.objects.create(user=user, guideline=charter, version=charter.version)
