"""Metric polling and rollups: signal receivers and demo data, connected from
AnalyticsConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_activity_recorded(sender: object, activity: Any, **kwargs: Any) -> None:
    """A share published through the API gets its polling row (the beat job creates any
    that a lost signal missed)."""
    from advocacy.models import ActivityKind
    from analytics.services.polling import metric_poll_create

    if activity.kind != ActivityKind.SHARE_PUBLISHED:
        return
    try:
        metric_poll_create(share=activity.share)
    except Exception:
        # Runs after the publisher's commit: a failure here must not break publishing.
        logger.exception("No metric poll for share %s; the beat job will add it", activity.share_id)


def connect() -> None:
    from advocacy.signals import activity_recorded
    from analytics.demo import seed_demo_analytics
    from organizations.signals import demo_seeded

    activity_recorded.connect(on_activity_recorded, dispatch_uid="analytics-metric-poll")
    # Connected after the content and sharing demo (their apps are ready first), so the
    # history it measures exists.
    demo_seeded.connect(seed_demo_analytics, dispatch_uid="analytics-demo")
