"""The weekly email to each manager: the headline numbers of their teams for the last
full week (Monday to Sunday in the organisation's time zone), against the week before.

Sent at most once per manager and week: the send is claimed first with a unique key
(a `FillState` row named `weekly_report:<manager>:<monday>`), as notifications mark an
email before sending it, so a re-run or a second beat sends nothing twice. A manager who
unticked "analytics.weekly_report" in the email preferences gets nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from analytics import selectors
from analytics.models import FillState
from analytics.selectors import Period
from notifications.services import email_wanted
from organizations.models import Organization, Role, User

logger = logging.getLogger(__name__)

WEEKLY_REPORT_KIND = "analytics.weekly_report"


def report_week(organization: Organization, *, now: datetime | None = None) -> Period:
    """The last full week before today, Monday to Sunday, in the organisation's days."""
    today = selectors.organization_today(organization, now=now)
    this_monday = today - timedelta(days=today.weekday())
    start = this_monday - timedelta(days=7)
    return Period(start=start, end=start + timedelta(days=6), key="week")


def weekly_report_key(*, manager: User, period: Period) -> str:
    return f"weekly_report:{manager.pk}:{period.start.isoformat()}"


def managers_to_report() -> list[User]:
    return list(
        User.objects.filter(
            role=Role.MANAGER,
            is_active=True,
            organization__isnull=False,
            managed_teams__isnull=False,
        )
        .select_related("organization")
        .distinct()
        .order_by("pk")
    )


def weekly_reports_send(*, now: datetime | None = None) -> int:
    """Sends the week's report to every manager who has not had it; returns how many
    were sent. One manager's failure does not stop the others."""
    sent = 0
    for manager in managers_to_report():
        try:
            if weekly_report_send(manager=manager, now=now):
                sent += 1
        except Exception:  # one bad mailbox must not cost every other manager their report
            logger.exception("weekly report to manager %s failed", manager.pk)
    return sent


def weekly_report_send(*, manager: User, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    assert manager.organization is not None
    if not manager.is_active or not email_wanted(user=manager, kind=WEEKLY_REPORT_KIND):
        return False
    period = report_week(manager.organization, now=now)
    scope = selectors.dashboard_scope(manager)
    if not scope.visible_team_ids:
        return False
    key = weekly_report_key(manager=manager, period=period)
    try:
        with transaction.atomic():
            FillState.objects.create(name=key, watermark=now)
    except IntegrityError:
        return False  # already sent for this week
    try:
        _report_deliver(manager=manager, period=period, scope=scope)
    except Exception:
        # Unclaimed, the next beat run tries this manager again instead of skipping them.
        with transaction.atomic():
            FillState.objects.filter(name=key).delete()
        logger.warning("weekly report to manager %s not sent; claim released", manager.pk)
        raise
    return True


def _report_deliver(*, manager: User, period: Period, scope: selectors.Scope) -> None:
    assert manager.organization is not None
    summary = selectors.summary(scope, period)
    teams, teams_left_out = selectors.team_rows_shown(selectors.by_team(scope, period))
    context = {
        "manager": manager,
        "organization": manager.organization,
        "period": period,
        "summary": summary,
        "cards": summary.cards(),
        "teams": teams,
        "teams_left_out": teams_left_out,
        "rates": selectors.rates_for(manager.organization),
        "dashboard_url": f"{settings.SITE_URL}{reverse('dashboards')}?period=custom"
        f"&start={period.start.isoformat()}&end={period.end.isoformat()}",
        "preferences_url": f"{settings.SITE_URL}{reverse('notification_preferences')}",
    }
    with translation.override(manager.language):
        subject = _("Your teams' advocacy, week of %(day)s") % {
            "day": formats.date_format(period.start, "SHORT_DATE_FORMAT")
        }
        text = render_to_string("analytics/email/weekly_report.txt", context)
        html = render_to_string("analytics/email/weekly_report.html", context)
    message = EmailMultiAlternatives(subject, text, None, [manager.email])
    message.attach_alternative(html, "text/html")
    message.send()
