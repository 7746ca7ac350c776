from __future__ import annotations

from celery import shared_task

from nudges.services import nudges_send


@shared_task
def send_due_nudges() -> int:
    """Every 10 minutes (beat): the nudges that are due. Idempotent; a run that overlaps
    another skips the organisations the other one is working on."""
    return nudges_send()
