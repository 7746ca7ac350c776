"""The daily retention job: raw clicks older than the period once the rollups hold them,
notifications older than theirs, expired exports; batches; counts audited; per
organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum

from advocacy.models import Activity, ActivityKind, Click
from analytics.models import DailyRollup, FillState
from analytics.services.rollups import rollups_fill
from notifications.models import Notification
from organizations.models import AuditLogEntry
from privacy.models import PrivacySettings
from privacy.services.retention import _delete_in_batches, retention_run_for
from privacy.tasks import apply_retention
from tests.challenges.conftest import click, make_share
from tests.conftest import client_for
from tests.privacy.conftest import NOW

pytestmark = pytest.mark.django_db


def _old_and_new_clicks(user):
    share = make_share(user, at=NOW - timedelta(days=60))
    for days in (50, 40, 2):
        click(share, at=NOW - timedelta(days=days))
    return share


def test_old_clicks_go_once_the_rollups_hold_them_and_the_dashboards_do_not_move(
    personas, time_machine
):
    time_machine.move_to(NOW, tick=False)
    organization = personas.organization
    PrivacySettings.objects.create(organization=organization, click_retention_days=30)
    _old_and_new_clicks(personas.teammate)
    # Before any rollup pass, nothing is covered: nothing goes.
    assert retention_run_for(organization=organization)["clicks"] == 0
    assert Click.objects.count() == 3

    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    rollups_fill(organization_id=organization.pk)
    assert FillState.objects.filter(name=f"rollups:{organization.pk}").exists()
    totals = DailyRollup.objects.filter(organization=organization).aggregate(Sum("clicks"))
    counts = retention_run_for(organization=organization)
    assert counts["clicks"] == 2
    assert list(Click.objects.values_list("clicked_at", flat=True)) == [NOW - timedelta(days=2)]
    assert DailyRollup.objects.filter(organization=organization).aggregate(Sum("clicks")) == totals
    entry = AuditLogEntry.objects.get(action="privacy.retention_applied")
    assert entry.details["clicks"] == 2 and entry.details["periods"]["clicks"] == 30


def test_the_clicks_activity_rows_that_go_with_them_are_counted_and_said(personas, time_machine):
    time_machine.move_to(NOW, tick=False)
    organization = personas.organization
    PrivacySettings.objects.create(organization=organization, click_retention_days=30)
    share = _old_and_new_clicks(personas.teammate)
    old_activity = Activity.objects.filter(
        share=share,
        kind=ActivityKind.CLICK_RECORDED,
        click__clicked_at__lt=NOW - timedelta(days=30),
    ).count()
    assert old_activity == 2  # each recorded click has its activity row
    time_machine.move_to(NOW + timedelta(minutes=10), tick=False)
    rollups_fill(organization_id=organization.pk)
    counts = retention_run_for(organization=organization)
    assert (counts["clicks"], counts["click_activity"]) == (2, 2)
    assert Activity.objects.filter(share=share, kind=ActivityKind.CLICK_RECORDED).count() == 1
    entry = AuditLogEntry.objects.get(action="privacy.retention_applied")
    assert entry.details["click_activity"] == 2
    owner = personas.owner
    owner.language = "en"
    owner.save(update_fields=["language"])
    html = client_for(owner).get("/admin/audit/").content.decode()
    assert "2 raw clicks (and their 2 activity rows)" in html


def test_a_click_recorded_after_the_watermark_waits(personas, time_machine):
    time_machine.move_to(NOW, tick=False)
    organization = personas.organization
    PrivacySettings.objects.create(organization=organization, click_retention_days=30)
    FillState.objects.create(name=f"rollups:{organization.pk}", watermark=NOW - timedelta(days=1))
    _old_and_new_clicks(personas.teammate)  # recorded now: after the watermark
    assert retention_run_for(organization=organization)["clicks"] == 0
    assert Click.objects.count() == 3


def test_old_notifications_go_per_organisation_setting(personas, time_machine):
    time_machine.move_to(NOW - timedelta(days=400), tick=False)
    for user in (personas.teammate, personas.outsider):
        Notification.objects.create(
            organization=user.organization, recipient=user, kind="system", title="Old"
        )
    time_machine.move_to(NOW - timedelta(days=100), tick=False)
    Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind="system", title="Mid"
    )
    time_machine.move_to(NOW, tick=False)
    PrivacySettings.objects.create(
        organization=personas.other_organization, notification_retention_days=30
    )
    report = apply_retention.run()
    assert report[str(personas.organization.pk)]["notifications"] == 1  # default: a year
    assert report[str(personas.other_organization.pk)]["notifications"] == 1
    assert list(Notification.objects.values_list("title", flat=True)) == ["Mid"]


def test_nothing_to_delete_writes_no_audit_entry(personas, clock):
    assert retention_run_for(organization=personas.organization) == {
        "clicks": 0,
        "click_activity": 0,
        "notifications": 0,
        "exports": 0,
    }
    assert not AuditLogEntry.objects.filter(action="privacy.retention_applied").exists()


def test_deletes_go_in_batches(personas, clock):
    for _ in range(5):
        Notification.objects.create(
            organization=personas.organization,
            recipient=personas.teammate,
            kind="system",
            title="x",
        )
    assert _delete_in_batches(Notification.objects.all(), batch=2) == 5
    assert not Notification.objects.exists()
