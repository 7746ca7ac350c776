"""Signal receivers of the points ledger. They run after the sender's commit; a failure is
logged and never reaches the employee's request (`manage.py points_replay` pays what was
missed, by the same keys)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_activity_recorded(sender: Any, activity: Any, **kwargs: Any) -> None:
    from challenges.services.scoring import points_for_activity

    try:
        points_for_activity(activity=activity)
    except Exception:
        logger.exception("Points for activity %s failed", activity.source_key)


def on_suggestion_accepted(sender: Any, suggestion: Any, **kwargs: Any) -> None:
    from challenges.services.scoring import points_for_suggestion

    try:
        points_for_suggestion(suggestion=suggestion)
    except Exception:
        logger.exception("Points for suggestion %s failed", suggestion.pk)


def on_charter_accepted(sender: Any, acceptance: Any, **kwargs: Any) -> None:
    from challenges.services.scoring import points_for_charter

    try:
        points_for_charter(acceptance=acceptance)
    except Exception:
        logger.exception("Points for charter acceptance %s failed", acceptance.pk)
