"""The weekly email to managers: last week's numbers of their teams, plain text and
HTML, once per manager and week whatever the number of runs, and never to someone who
unticked it in the email preferences."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.urls import reverse

from analytics.models import FillState
from analytics.services.reports import (
    WEEKLY_REPORT_KIND,
    report_week,
    weekly_reports_send,
)
from analytics.tasks import send_weekly_reports
from notifications.kinds import kind_get, kinds_all
from notifications.services import email_preferences_set
from tests.analytics.dashboards_data import build_world, rollup

pytestmark = pytest.mark.django_db

MONDAY_MORNING = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)  # 07:00 in Paris


@pytest.fixture
def world():
    with time_machine.travel(MONDAY_MORNING, tick=False):
        w = build_world()
        # Last week (9 to 15 March) for North, the week before for comparison.
        rollup(w.employee, w.content, date(2026, 3, 15), shares=3, clicks=12)
        rollup(w.employee, w.content, date(2026, 3, 4), shares=1, clicks=4)
        rollup(w.marketer, w.content, date(2026, 3, 10), shares=5, clicks=50)  # not theirs
        rollup(w.employee, w.content, date(2026, 3, 16), shares=7)  # this week
        yield w


def test_the_report_week_is_the_last_full_week_in_the_organisations_days(world):
    period = report_week(world.organization, now=MONDAY_MORNING)
    assert (period.start, period.end) == (date(2026, 3, 9), date(2026, 3, 15))
    # Sunday 23:30 UTC is already Monday in Paris: the week just ended is reported.
    sunday_night = datetime(2026, 3, 22, 23, 30, tzinfo=UTC)
    assert report_week(world.organization, now=sunday_night).start == date(2026, 3, 16)


def test_each_manager_gets_their_teams_numbers_once_per_week(world):
    assert kind_get(WEEKLY_REPORT_KIND)
    assert weekly_reports_send() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.manager.email]
    assert "- Shares: 3 (+200.0 %)" in message.body
    assert "- Clicks: 12 (+200.0 %)" in message.body
    assert "North: 3 shares, 12 clicks, 1/1 active" in message.body
    assert reverse("notification_preferences") in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and "<table" in html and "12" in html
    assert "Mia" not in message.body and "50" not in message.body.split("By team")[0]
    # A second run the same week, or the beat firing twice, sends nothing more.
    assert weekly_reports_send() == 0
    with time_machine.travel(datetime(2026, 3, 19, 6, 0, tzinfo=UTC), tick=False):
        assert send_weekly_reports() == 0
    assert len(mail.outbox) == 1
    # Next Monday, the next week's report.
    with time_machine.travel(datetime(2026, 3, 23, 6, 0, tzinfo=UTC), tick=False):
        assert weekly_reports_send() == 1
    assert len(mail.outbox) == 2


def test_a_manager_who_opted_out_gets_nothing(world):
    keep = {kind.key for kind in kinds_all()} - {WEEKLY_REPORT_KIND}
    email_preferences_set(user=world.manager, email_kinds=keep)
    assert weekly_reports_send() == 0
    assert mail.outbox == []


def test_managers_without_teams_and_other_roles_get_no_report(world):
    world.sales.managers.clear()
    world.marketing.managers.add(world.admin)  # an org admin managing a team: not a manager role
    assert weekly_reports_send() == 0


class FailsOnceBackend(locmem.EmailBackend):
    """The mail server is down for the first message, then back."""

    failed = False

    def send_messages(self, messages):
        if not FailsOnceBackend.failed:
            FailsOnceBackend.failed = True
            raise OSError("connection refused")
        return super().send_messages(messages)


def test_a_failed_send_is_retried_on_the_next_run(world, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.FailsOnceBackend"
    FailsOnceBackend.failed = False
    assert weekly_reports_send() == 0
    assert mail.outbox == []
    assert not FillState.objects.filter(name__startswith="weekly_report:").exists()
    assert "not sent" in caplog.text
    assert weekly_reports_send() == 1
    assert [message.to for message in mail.outbox] == [[world.manager.email]]
    assert weekly_reports_send() == 0  # claimed once it went out
    assert len(mail.outbox) == 1
