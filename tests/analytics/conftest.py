"""Fixtures for the analytics tests: a fake social network on a free port (only for the
tests that ask for it), and builders of raw events (shares, clicks, snapshots) written
straight to the database, the way the pipeline leaves them."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest

from advocacy.models import Click, Share, ShareMode, ShareStatus, TrackedLink
from advocacy.ratelimit import rate_limit_reset
from analytics.models import MetricPoll, MetricSnapshot
from tests.fakes.social_network import FakeSocialNetwork


@pytest.fixture
def fake_network():
    network = FakeSocialNetwork().start()
    yield network
    network.stop()


@pytest.fixture
def network_settings(settings, fake_network):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.SANDBOX_NETWORK_URL = fake_network.url
    settings.NETWORK_READ_TIMEOUT = 2
    settings.RATE_LIMIT_KEY_PREFIX = f"test-analytics-ratelimit-{worker}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    rate_limit_reset()
    yield settings
    rate_limit_reset()


def make_share(
    *,
    user,
    content,
    network: str = "linkedin",
    mode: str = ShareMode.API,
    published_at: datetime | None,
    status: str = ShareStatus.PUBLISHED,
    followers: int | None = None,
) -> Share:
    """A share as the pipeline leaves it once published (API) or confirmed (link); with
    `followers`, its polling row knows the sharer's audience."""
    share = Share.objects.create(
        organization_id=user.organization_id,
        user=user,
        content=content,
        network=network,
        mode=mode,
        text="Proud of our teams.",
        status=status,
        scheduled_at=published_at or content.publish_at,
        published_at=published_at,
        external_id=uuid.uuid4().hex[:12] if mode == ShareMode.API and published_at else "",
    )
    if mode == ShareMode.API and published_at is not None:
        MetricPoll.objects.create(
            organization_id=user.organization_id, share=share, followers=followers
        )
    return share


def make_click(share: Share, *, at: datetime, visitor: str = "v1", is_self: bool = False) -> Click:
    link, _created = TrackedLink.objects.get_or_create(
        share=share,
        defaults={
            "organization_id": share.organization_id,
            "destination": "https://www.example.org/news",
            "utm_source": share.network,
            "utm_campaign": "demo",
        },
    )
    return Click.objects.create(
        event_id=uuid.uuid4(),
        organization_id=share.organization_id,
        link=link,
        share=share,
        content_id=share.content_id,
        sharer_id=share.user_id,
        network=share.network,
        visitor=visitor,
        is_self=is_self,
        clicked_at=at,
    )


def make_snapshot(share: Share, *, at: datetime, **counts: int | None) -> MetricSnapshot:
    return MetricSnapshot.objects.create(
        organization_id=share.organization_id,
        share=share,
        network=share.network,
        fetched_at=at,
        **counts,
    )
