"""The points jobs: click settling and last month's top suggesters as beat tasks, and the
replay command that pays what a failed receiver missed, by the same keys."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from advocacy.models import Activity
from advocacy.signals import activity_recorded
from challenges import receivers
from challenges.models import BadgeAward, PointEntry
from challenges.points_tasks import award_top_suggesters, settle_clicks
from challenges.services.scoring import CLICK_SETTLE_SECONDS
from tests.challenges.conftest import click, make_share, publish
from tests.content.factories import SuggestionFactory

pytestmark = pytest.mark.django_db


def test_the_settle_task_pays_settled_clicks(personas):
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        share = make_share(personas.teammate)
        click(share)
    with time_machine.travel(start + timedelta(seconds=CLICK_SETTLE_SECONDS + 60), tick=False):
        assert settle_clicks() == 1


def test_the_monthly_task_awards_last_month_s_top_suggester(personas):
    with time_machine.travel(datetime(2026, 5, 2, 9, tzinfo=UTC), tick=False):
        SuggestionFactory(
            organization=personas.organization,
            author=personas.teammate,
            status="accepted",
            decided_at=datetime(2026, 4, 20, 9, tzinfo=UTC),
        )
        assert award_top_suggesters() == 1
        assert award_top_suggesters() == 0
    assert BadgeAward.objects.get(badge="top_suggester").user == personas.teammate


def test_a_failing_receiver_never_breaks_the_sender_and_the_replay_pays_later(
    personas, django_capture_on_commit_callbacks, monkeypatch
):
    share = make_share(personas.teammate)

    def broken(**kwargs):
        raise RuntimeError("points are down")

    monkeypatch.setattr("challenges.services.scoring.points_for_activity", broken)
    with django_capture_on_commit_callbacks(execute=True):
        activity = publish(share)
    receivers.on_activity_recorded(sender=Activity, activity=activity)
    assert not PointEntry.objects.exists()
    monkeypatch.undo()

    out = io.StringIO()
    call_command("points_replay", stdout=out)
    assert "1 events" in out.getvalue()
    activity_recorded.send(sender=Activity, activity=activity)
    assert PointEntry.objects.filter(user=personas.teammate).count() == 1
