from __future__ import annotations

from celery import shared_task

from content.services import link_preview_refresh


@shared_task(soft_time_limit=30, time_limit=40)
def fetch_link_preview(content_id: int) -> str:
    return link_preview_refresh(content_id=content_id)


@shared_task(soft_time_limit=60, time_limit=90)
def fetch_feed(subscription_id: int) -> str:
    from content.feeds import feed_fetch_run

    result = feed_fetch_run(subscription_id=subscription_id)
    return f"{result.outcome}:{result.created}"


@shared_task
def fetch_due_feeds() -> int:
    """Beat: queue every feed whose next fetch is due (each run claims its feed, so a feed
    queued twice is fetched once)."""
    from content.feeds import feed_due_ids

    due = feed_due_ids()
    for subscription_id in due:
        fetch_feed.delay(subscription_id)
    return len(due)


@shared_task
def remind_overdue_steps() -> int:
    """Beat: remind the reviewers and the author of each overdue approval step, once per
    step entry (claimed in the database, so overlapping runs never repeat a reminder)."""
    from content.chains import overdue_reminders_send

    return overdue_reminders_send()
