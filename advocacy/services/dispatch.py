"""Handing shares to the workers: the one module both the pipeline and the accounts
service call (re-dispatching the shares that waited for a reconnection), so that neither
imports the other. Tasks are looked up when sending, so no import runs back to them."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from advocacy.models import Share, ShareStatus, SocialAccount

logger = logging.getLogger(__name__)


def _enqueue(task_name: str, share_id: int, countdown: float) -> None:
    from advocacy import tasks

    task = getattr(tasks, task_name)
    try:
        # One attempt, no retry: this runs in the request that created the share, and the
        # row is the outbox, so when the broker is down the sweeper sends it once the broker
        # is back. The connection attempt itself is bounded by the broker's connect timeout.
        task.apply_async(args=[share_id], countdown=countdown or None, retry=False)
    except Exception:
        logger.warning(
            "Could not enqueue %s for share %s; the sweeper will",
            task_name,
            share_id,
            exc_info=True,
        )


def share_dispatch(*, share_id: int, countdown: float = 0.0, recall: bool = False) -> None:
    """Hand the share to a worker once the current transaction commits (now, or after a
    short countdown); remembered on the row so the sweeper does not send it twice."""
    due = timezone.now() + timedelta(seconds=countdown)
    Share.objects.filter(pk=share_id).update(dispatched_at=due)
    name = "delete_share" if recall else "publish_share"
    # Robust: the share is committed whatever happens here, so nothing raised here may turn
    # the caller's success into an error.
    transaction.on_commit(lambda: _enqueue(name, share_id, countdown), robust=True)


def shares_resume_after_reconnect(*, account: SocialAccount) -> int:
    """Inside the reconnecting transaction: the account's shares that waited for it go
    out again. Returns how many."""
    waiting = list(
        Share.objects.filter(
            user_id=account.user_id, network=account.network, status=ShareStatus.NEEDS_RECONNECT
        ).values_list("pk", flat=True)
    )
    if waiting:
        Share.objects.filter(pk__in=waiting).update(
            status=ShareStatus.SCHEDULED,
            account=account,
            next_attempt_at=timezone.now(),
            attempt_count=0,
            last_error="",
        )
        for share_id in waiting:
            share_dispatch(share_id=share_id)
    return len(waiting)
