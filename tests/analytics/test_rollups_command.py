"""`manage.py analytics_rollup [--rebuild] [--organization <slug>]` and the beat tasks."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from analytics import tasks
from analytics.models import DailyRollup, FillState, MetricPoll
from tests.analytics.conftest import make_click, make_share
from tests.content.factories import ContentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def event(personas):
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        share = make_share(
            user=personas.teammate,
            content=ContentFactory(organization=personas.organization),
            published_at=T0,
            followers=120,
        )
        make_click(share, at=T0 + timedelta(hours=1))
    return share


def test_command_fills_then_rebuilds(event, personas):
    out = io.StringIO()
    with time_machine.travel(T0 + timedelta(days=1, minutes=10), tick=False):
        call_command("analytics_rollup", "--organization", "acme", stdout=out)
        assert "1 day buckets filled" in out.getvalue()
        first = DailyRollup.objects.get(organization=personas.organization)
        assert (first.shares, first.clicks, first.potential_reach) == (1, 1, 120)
        call_command("analytics_rollup", stdout=(out := io.StringIO()))
        assert "0 day buckets filled" in out.getvalue()
        call_command("analytics_rollup", "--rebuild", stdout=(out := io.StringIO()))
        assert "1 day buckets filled" in out.getvalue()
    again = DailyRollup.objects.get(organization=personas.organization)
    assert again.pk != first.pk and again.clicks == first.clicks
    assert FillState.objects.filter(name=f"rollups:{personas.organization.pk}").exists()


def test_command_refuses_an_unknown_organisation(db):
    with pytest.raises(CommandError, match="nowhere"):
        call_command("analytics_rollup", "--organization", "nowhere")


def test_beat_tasks_call_the_services(event, personas):
    MetricPoll.objects.filter(share=event).update(next_poll_at=T0 + timedelta(hours=1))
    with time_machine.travel(T0 + timedelta(days=1, minutes=10), tick=False):
        assert tasks.fill_rollups() == 1
        # Due, but its account is gone: paused with a note, not an error.
        assert tasks.poll_metrics() == {"paused": 1}
    assert MetricPoll.objects.get(share=event).note
    assert DailyRollup.objects.filter(organization=personas.organization).count() == 1
