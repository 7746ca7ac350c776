"""Fixtures of the gamification tests: clean leaderboard sets in Redis, and builders for
shares, their activity, tracked links and clicks that go through advocacy's own services."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from advocacy.models import ActivityKind, Click, Share, ShareMode, ShareStatus, TrackedLink
from advocacy.services.activity import activity_record
from advocacy.services.clicks import click_record
from challenges.services import leaderboards
from content.models import Network
from organizations.models import User
from tests.content.factories import ContentFactory


def _forget_leaderboards() -> None:
    leaderboards._down_until.clear()
    client = leaderboards._client()
    if client is None:
        return
    try:
        for key in client.scan_iter(f"{settings.LEADERBOARD_KEY_PREFIX}:*", count=1000):
            client.delete(key)
    except redis.ConnectionError:
        pass  # a test pointed REDIS_URL at a closed port; the next setup cleans up
    leaderboards._down_until.clear()


@pytest.fixture(autouse=True)
def _clean_leaderboards():
    _forget_leaderboards()
    yield
    _forget_leaderboards()


def make_share(
    user: User,
    *,
    content=None,
    at: datetime | None = None,
    network: str = Network.LINKEDIN,
    status: str = ShareStatus.PUBLISHED,
    mode: str = ShareMode.LINK,
) -> Share:
    at = at or timezone.now()
    content = content or ContentFactory(organization=user.organization)
    share = Share.objects.create(
        organization_id=user.organization_id,
        user=user,
        content=content,
        network=network,
        mode=mode,
        text="Proud of our teams.",
        status=status,
        scheduled_at=at,
        published_at=at if status == ShareStatus.PUBLISHED else None,
    )
    TrackedLink.objects.create(
        organization_id=user.organization_id,
        share=share,
        destination="https://www.example.org/news/1",
        utm_source=network,
        utm_campaign="test",
    )
    return share


def publish(share: Share, *, at: datetime | None = None, kind: str = ActivityKind.SHARE_PUBLISHED):
    """Record the share's activity through advocacy's service (the signal goes out on
    commit: run it inside django_capture_on_commit_callbacks(execute=True))."""
    return activity_record(kind=kind, share=share, occurred_at=at or share.scheduled_at)


def click(
    share: Share, *, at: datetime | None = None, visitor: str = "", is_self: bool = False
) -> Click | None:
    at = at or timezone.now()
    return click_record(
        event={
            "event_id": str(uuid.uuid4()),
            "link_id": share.tracked_link.pk,
            "at": at.isoformat(),
            "visitor": visitor or uuid.uuid4().hex,
            "is_self": is_self,
            "referrer_host": "",
        }
    )
