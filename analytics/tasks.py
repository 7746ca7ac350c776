"""Celery tasks of analytics: they call a service and return what it did."""

from __future__ import annotations

from celery import shared_task

from analytics.services.polling import metric_polls_run
from analytics.services.rollups import rollups_fill


@shared_task(soft_time_limit=240, time_limit=270)
def poll_metrics() -> dict[str, int]:
    return metric_polls_run()


@shared_task(soft_time_limit=240, time_limit=270)
def fill_rollups() -> int:
    return rollups_fill()


@shared_task(soft_time_limit=540, time_limit=570)
def send_weekly_reports() -> int:
    from analytics.services.reports import weekly_reports_send

    return weekly_reports_send()
