from __future__ import annotations

from celery import Task, shared_task

from notifications.push import push_send
from notifications.services import notification_send_email, notification_send_emails


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> bool:
    return notification_send_email(notification_id=notification_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    """A campaign's emails, a batch per task. A retry skips the ones already marked sent."""
    return notification_send_emails(notification_ids=notification_ids)


@shared_task(bind=True, max_retries=4)
def send_push_notification(
    self: Task, notification_id: int, subscription_ids: list[int] | None = None
) -> int:
    """Push a notification to its recipient's devices; the ones whose push service asked
    to wait (429, 5xx, no answer) are tried again, alone, with a growing wait."""
    outcome = push_send(notification_id=notification_id, subscription_ids=subscription_ids)
    if outcome.retry_ids and self.request.retries < (self.max_retries or 0):
        wait = max(outcome.retry_after, 15 * 2**self.request.retries)
        # Short waits only: longer ones would outlive the broker's visibility timeout.
        raise self.retry(args=[notification_id, outcome.retry_ids], countdown=min(wait, 300))
    return outcome.sent


@shared_task
def send_push_notifications(notification_ids: list[int]) -> int:
    """A campaign's pushes, a batch per task; the devices that asked to wait are tried
    again by one send_push_notification task per notification, as when sent alone."""
    sent = 0
    for notification_id in notification_ids:
        outcome = push_send(notification_id=notification_id)
        sent += outcome.sent
        if outcome.retry_ids:
            send_push_notification.apply_async(
                args=[notification_id, outcome.retry_ids],
                countdown=min(max(outcome.retry_after, 15), 300),
            )
    return sent
