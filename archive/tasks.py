"""Tasks load by id and call a service; JSON arguments only."""

from __future__ import annotations

from celery import shared_task

from archive.services import (
    archive_export_build,
    archive_exports_expire,
    archive_exports_sweep,
    archive_purge_expired,
    share_archive_observe,
    shares_archive_sweep,
)


@shared_task
def archive_share_observe(share_id: int) -> str:
    """On each change of a share's state (the signal, after the pipeline's commit)."""
    return share_archive_observe(share_id=share_id)


@shared_task
def sweep_archive() -> dict[str, int]:
    """Every 5 minutes (beat): shares that left without their record (a lost signal)."""
    return shares_archive_sweep()


@shared_task
def sweep_archive_exports() -> dict[str, int]:
    """Every 5 minutes (beat): exports whose build was lost (enqueued again) or crashed
    (marked failed)."""
    return archive_exports_sweep()


@shared_task
def purge_expired_archive() -> dict[str, int]:
    """Daily (beat): what is past its retention date, the only deletion allowed; and the
    files of exports past the export retention."""
    return {"entries": archive_purge_expired(), "exports": archive_exports_expire()}


@shared_task
def build_export(export_id: int) -> str:
    return archive_export_build(export_id=export_id)
