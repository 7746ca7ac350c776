"""Events from the apps below that become channel messages. Each receiver only hands the
event to a worker (the signals are sent after their commit): rendering and routing run in
the task, and a lost task costs nothing twice since every message has its idempotency key."""

from __future__ import annotations

import logging
from typing import Any

from messaging.models import Destination, EventKind
from organizations.signals import seeding_demo

logger = logging.getLogger(__name__)


def _has_destinations(organization_id: int) -> bool:
    return Destination.objects.filter(organization_id=organization_id).exists()


def _enqueue(task: Any, *args: object) -> None:
    try:
        task.apply_async(args=list(args), retry=False)
    except Exception:
        # The event is lost for the channels, never for the product: the notification
        # centre has it. Logged for the operator.
        logger.warning("Could not enqueue %s%r for the channels", task.name, args, exc_info=True)


def on_content_published(sender: type, content: Any, **kwargs: object) -> None:
    if seeding_demo() or not _has_destinations(content.organization_id):
        return
    from messaging.tasks import post_content

    _enqueue(post_content, content.pk)


def on_challenge_launched(sender: type, challenge: Any, **kwargs: object) -> None:
    if seeding_demo() or not _has_destinations(challenge.organization_id):
        return
    from messaging.tasks import post_challenge

    _enqueue(post_challenge, challenge.pk, EventKind.CHALLENGE_LAUNCHED.value)


def on_challenge_results(sender: type, challenge: Any, **kwargs: object) -> None:
    if seeding_demo() or not _has_destinations(challenge.organization_id):
        return
    from messaging.tasks import post_challenge

    _enqueue(post_challenge, challenge.pk, EventKind.CHALLENGE_RESULTS.value)


def connect() -> None:
    from challenges.signals import challenge_launched, challenge_results_announced
    from content.signals import content_published

    content_published.connect(on_content_published, dispatch_uid="messaging.content_published")
    challenge_launched.connect(on_challenge_launched, dispatch_uid="messaging.challenge_launched")
    challenge_results_announced.connect(
        on_challenge_results, dispatch_uid="messaging.challenge_results"
    )
