"""Celery tasks of the privacy app: load by id, call a service."""

from __future__ import annotations

from celery import shared_task

from privacy.services.exports import data_export_build, data_exports_sweep
from privacy.services.retention import retention_run


@shared_task
def build_data_export(export_id: int) -> str:
    export = data_export_build(export_id=export_id)
    return export.status if export is not None else "skipped"


@shared_task
def apply_retention() -> dict[str, dict[str, int]]:
    """Daily (beat): each organisation's retention periods."""
    return {str(pk): counts for pk, counts in retention_run().items()}


@shared_task
def sweep_data_exports() -> dict[str, int]:
    """Every few minutes (beat): exports whose task was lost are sent again, exports stuck
    waiting or running are marked failed (the person may then ask again)."""
    return data_exports_sweep()
