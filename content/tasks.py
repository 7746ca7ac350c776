from __future__ import annotations

from celery import shared_task

from content.services import link_preview_refresh


@shared_task(soft_time_limit=30, time_limit=40)
def fetch_link_preview(content_id: int) -> str:
    return link_preview_refresh(content_id=content_id)
