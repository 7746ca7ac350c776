"""Challenge tasks: the beat job that starts and ends challenges on time, tells the
audience about launches and pays and announces results."""

from __future__ import annotations

from celery import shared_task

__all__ = ["advance_challenges"]


@shared_task
def advance_challenges() -> dict[str, int]:
    from challenges.services.campaigns import challenges_advance

    started, ended = challenges_advance()
    return {"started": started, "ended": ended}
