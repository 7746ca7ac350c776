"""The digest's beat job (every 15 minutes: see docs/digests.md)."""

from __future__ import annotations

from celery import shared_task

from digests.services import digests_send_due


@shared_task
def send_due_digests() -> dict[str, int]:
    result = digests_send_due()
    if result.more:
        # The time budget ran out with rows left: the next run starts now, not in 15 minutes.
        send_due_digests.delay()
    return {
        "created": result.created,
        "sent": result.sent,
        "skipped": result.skipped,
        "failed": result.failed,
        "retried": result.retried,
    }
