"""`seed_demo` gives the demo organisation 90 days of analytics: metric snapshots over
the life of every published API share (computed locally, no network call), polls in a
visible state, and rollups that equal a recomputation from the raw events; a second run
changes nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from advocacy.models import Share, ShareMode
from advocacy.networks.metrics import sandbox_curve
from analytics.demo import seed_demo_analytics
from analytics.models import DailyRollup, FillState, MetricPoll, MetricSnapshot, PollStatus
from organizations.models import Organization
from tests.analytics.test_rollups import recompute, stored
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_brings_ninety_days_of_analytics(settings, tmp_path, fake_network, demo_clock):
    settings.MEDIA_ROOT = tmp_path
    settings.SANDBOX_NETWORK_URL = fake_network.url
    call_command("seed_demo", stdout=io.StringIO())
    assert fake_network.metrics_requests() == []  # computed locally
    organization = Organization.objects.get(slug="demo")
    now = timezone.now()

    api_shares = Share.objects.filter(
        organization=organization, mode=ShareMode.API, published_at__isnull=False
    ).exclude(external_id="")
    polls = MetricPoll.objects.filter(organization=organization).select_related("share__account")
    assert polls.count() == api_shares.count() >= 100
    statuses = Counter(poll.status for poll in polls)
    assert statuses[PollStatus.OK] > statuses[PollStatus.NO_PERMISSION] >= 5
    assert set(statuses) <= {PollStatus.OK, PollStatus.NO_PERMISSION}
    for poll in polls:
        assert poll.next_poll_at is None
        snapshots = list(poll.share.metric_snapshots.order_by("fetched_at"))
        if poll.status == PollStatus.NO_PERMISSION:
            assert not snapshots and poll.note and poll.share.network == "linkedin"
            continue
        assert poll.poll_count == len(snapshots)
        if not snapshots:
            assert now - poll.share.published_at < timedelta(hours=1)
            continue
        assert poll.followers == snapshots[0].followers > 0
        last = snapshots[-1]
        age = (last.fetched_at - poll.share.published_at).total_seconds()
        assert (
            last.impressions
            == sandbox_curve(poll.share.external_id, poll.share.account.external_id, age)[
                "impressions"
            ]
        )
        assert [s.impressions for s in snapshots] == sorted(s.impressions for s in snapshots)
        assert all(s.recorded_at == s.fetched_at <= now for s in snapshots)

    rows = DailyRollup.objects.filter(organization=organization)
    days = set(rows.values_list("day", flat=True))
    assert len(days) >= 80 and max(days) - min(days) >= timedelta(days=85)
    assert stored(organization) == recompute(organization)
    totals = rows.aggregate(
        shares=Sum("shares"), links=Sum("link_confirmations"), clicks=Sum("clicks"), emv=Sum("emv")
    )
    assert totals["shares"] >= 100 and totals["links"] >= 50 and totals["clicks"] >= 1000
    assert totals["emv"] > 0
    assert rows.filter(reach_stands_in=True).exists() and rows.filter(impressions__gt=0).exists()
    assert FillState.objects.filter(name=f"rollups:{organization.pk}").exists()

    before = (
        MetricSnapshot.objects.count(),
        MetricPoll.objects.count(),
        list(rows.order_by("pk").values()),
    )
    call_command("seed_demo", stdout=io.StringIO())
    after = (
        MetricSnapshot.objects.count(),
        MetricPoll.objects.count(),
        list(rows.order_by("pk").values()),
    )
    assert after == before


def test_demo_analytics_without_shares_writes_nothing(db):
    organization = OrganizationFactory(slug="demo")
    seed_demo_analytics(sender=None, organization=organization)
    assert not MetricSnapshot.objects.exists()
    assert not DailyRollup.objects.exists()
