"""Fixtures for the archive: a compliance officer per organisation, and archived shares
made the way the pipeline makes them (a share in its final state, then the archive's
observation of it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from advocacy.models import Share, ShareMode, ShareStatus, TrackedLink
from archive.models import ArchivedShare
from archive.services import share_archive_observe
from content.models import ContentVersion, Network, Review, ReviewDecision
from organizations.models import Role, User
from tests.content.factories import ContentFactory
from tests.factories import UserFactory

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def officer(personas) -> User:
    return UserFactory(
        organization=personas.organization,
        role=Role.COMPLIANCE_OFFICER,
        first_name="Clara",
        last_name="Conformité",
    )


@pytest.fixture
def other_officer(personas) -> User:
    return UserFactory(organization=personas.other_organization, role=Role.COMPLIANCE_OFFICER)


def approved_content(organization, *, title: str = "Our results", reviewer: User | None = None):
    content = ContentFactory(
        organization=organization, title=title, link_url="https://www.example.org/results"
    )
    ContentVersion.objects.create(
        content=content,
        number=content.version,
        snapshot={"title": title, "body": "Quarterly results"},
        author=content.author,
    )
    if reviewer is not None:
        Review.objects.filter(content=content).delete()
        review = Review.objects.create(
            content=content,
            version=content.version,
            reviewer=reviewer,
            decision=ReviewDecision.APPROVE,
        )
        Review.objects.filter(pk=review.pk).update(
            created_at=timezone.now() - timezone.timedelta(days=1)
        )
    return content


def archived(
    user: User,
    content,
    *,
    text: str = "Proud of our results #ad",
    network: str = Network.LINKEDIN,
    status: str = ShareStatus.PUBLISHED,
    at: datetime | None = None,
) -> ArchivedShare:
    """A share as the pipeline leaves it, then archived as the signal would."""
    moment = at or timezone.now()
    share = Share.objects.create(
        organization_id=content.organization_id,
        user=user,
        content=content,
        network=network,
        mode=ShareMode.LINK,
        text=text,
        status=status,
        scheduled_at=moment,
        published_at=moment if status == ShareStatus.PUBLISHED else None,
    )
    TrackedLink.objects.create(
        organization_id=content.organization_id,
        share=share,
        destination=content.link_url or "https://www.example.org/",
        utm_source=network,
        utm_campaign="results",
    )
    share_archive_observe(share_id=share.pk, at=moment)
    return ArchivedShare.objects.get(share_id=share.pk)
