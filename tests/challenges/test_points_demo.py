"""The demo's points: the demo shares, recalls, clicks, suggestions and charter
acceptances replayed through the points services, consistent with what they pay, and a
second `seed_demo` that writes nothing more."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Sum

from advocacy.models import Activity, ActivityKind, Click
from challenges.models import BadgeAward, Level, PointEntry, PointReason, Score
from content.models import CharterAcceptance, Suggestion
from organizations.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path, demo_clock):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    return Organization.objects.get(slug="demo")


def test_the_demo_ledger_matches_the_demo_activity(demo):
    """One seed for both checks (a seed costs about 18 s)."""
    _ledger_matches_activity(demo)
    _a_second_seed_writes_no_points()


def _ledger_matches_activity(demo) -> None:
    entries = PointEntry.objects.filter(organization=demo)
    shared = set(
        Activity.objects.filter(
            organization=demo,
            kind__in=[ActivityKind.SHARE_PUBLISHED, ActivityKind.SHARE_LINK_CONFIRMED],
        ).values_list("share_id", flat=True)
    )
    paid_shares = list(
        entries.filter(reason__in=["share_published", "share_link_confirmed"]).values_list(
            "share_id", flat=True
        )
    )
    assert len(paid_shares) == len(set(paid_shares)) == len(shared)
    recalled = set(
        Activity.objects.filter(organization=demo, kind=ActivityKind.SHARE_RECALLED).values_list(
            "share_id", flat=True
        )
    )
    assert recalled
    assert (
        set(entries.filter(reason=PointReason.SHARE_RECALLED).values_list("share_id", flat=True))
        == recalled & shared
    )

    clicks = entries.filter(reason=PointReason.CLICK)
    assert clicks.exists()
    assert clicks.count() <= Click.objects.filter(organization=demo, is_self=False).count()
    self_clicked = set(
        Click.objects.filter(organization=demo, is_self=True).values_list("visitor", flat=True)
    )
    assert not any(
        key.rsplit(":", 1)[1] in self_clicked for key in clicks.values_list("source_key", flat=True)
    )

    assert (
        entries.filter(reason=PointReason.SUGGESTION_ACCEPTED).count()
        == Suggestion.objects.filter(organization=demo, status="accepted").count()
    )
    assert entries.filter(reason=PointReason.CHARTER_ACCEPTED).count() == (
        CharterAcceptance.objects.filter(guideline__organization=demo)
        .values("user_id")
        .distinct()
        .count()
    )

    totals = dict(entries.values("user_id").annotate(t=Sum("points")).values_list("user_id", "t"))
    scores = dict(Score.objects.filter(organization=demo).values_list("user_id", "lifetime_points"))
    assert {k: v for k, v in scores.items() if v} == {k: v for k, v in totals.items() if v}

    assert Level.objects.filter(organization=demo).count() == 6
    assert BadgeAward.objects.filter(organization=demo, badge="first_share").count() >= 10
    assert Score.objects.filter(organization=demo, hidden_from_rankings=True).count() == 3


def _a_second_seed_writes_no_points() -> None:
    before = (PointEntry.objects.count(), BadgeAward.objects.count(), Level.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (PointEntry.objects.count(), BadgeAward.objects.count(), Level.objects.count()) == before
