from __future__ import annotations

from celery import shared_task

from notifications.services import notification_send_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    return notification_send_email(notification_id=notification_id)
