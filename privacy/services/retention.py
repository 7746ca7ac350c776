"""The daily retention job: what has outlived its purpose goes, per organisation, each
period a setting of the organisation (PrivacySettings).

- Raw clicks older than the period, once the rollups hold them (with each click's
  activity row, `advocacy.Activity`, deleted by cascade and counted): a click is in the
  rollups when it was recorded before the rollup watermark (`analytics` rebuilds a day's
  bucket from the clicks recorded since). The dashboards read the rollups, so their
  numbers do not move; a full `analytics_rollup --rebuild` would, for days whose raw
  clicks are gone, and must not be run over them.
- Notifications older than the period.
- Data exports past their expiry: the file is deleted, the row says "expired".

Deletes go in batches (short transactions, no long lock on the busy click table); each
run that deleted something is audited with the counts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from advocacy.models import Activity, Click
from analytics.dashboard_cache import rollups_watermark
from notifications.models import Notification
from organizations.audit import audit_record
from organizations.models import Organization
from privacy.selectors import privacy_settings_of
from privacy.services.exports import data_exports_expire

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


def _delete_in_batches(rows, *, batch: int = BATCH_SIZE) -> int:  # type: ignore[no-untyped-def]
    return _delete_in_batches_by_model(rows, batch=batch).get(rows.model._meta.label, 0)


def _delete_in_batches_by_model(rows, *, batch: int = BATCH_SIZE) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Delete `rows` in batches; returns what went, by model label, cascades included."""
    totals: dict[str, int] = {}
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return totals
        with transaction.atomic():
            deleted = rows.model._default_manager.filter(pk__in=ids).delete()[1]
        for label, count in deleted.items():
            totals[label] = totals.get(label, 0) + count


def retention_run_for(*, organization: Organization, now: datetime | None = None) -> dict[str, int]:
    """Apply the organisation's retention periods. Returns what was deleted, by kind."""
    now = now or timezone.now()
    config = privacy_settings_of(organization)
    counts = {"clicks": 0, "click_activity": 0, "notifications": 0, "exports": 0}
    watermark = rollups_watermark(organization.pk)
    if watermark is not None:
        # A click's activity row (advocacy.Activity, kind "click") goes with it (a
        # cascade): counted apart, so the audit entry says how many activity rows went.
        deleted = _delete_in_batches_by_model(
            Click.objects.filter(
                organization=organization,
                clicked_at__lt=now - timedelta(days=config.click_retention_days),
                recorded_at__lt=watermark,
            )
        )
        counts["clicks"] = deleted.get(Click._meta.label, 0)
        counts["click_activity"] = deleted.get(Activity._meta.label, 0)
    counts["notifications"] = _delete_in_batches(
        Notification.objects.filter(
            organization=organization,
            created_at__lt=now - timedelta(days=config.notification_retention_days),
        )
    )
    counts["exports"] = data_exports_expire(now=now, organization_id=organization.pk)
    if any(counts.values()):
        audit_record(
            action="privacy.retention_applied",
            organization=organization,
            details={
                **counts,
                "periods": {
                    "clicks": config.click_retention_days,
                    "notifications": config.notification_retention_days,
                    "exports": config.export_retention_days,
                },
            },
        )
    return counts


def retention_run(*, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Every organisation; one that fails is logged and the others still run."""
    report = {}
    for organization in Organization.objects.order_by("pk"):
        try:
            report[organization.pk] = retention_run_for(organization=organization, now=now)
        except Exception:
            logger.exception("Retention failed for organisation %s", organization.pk)
    return report
