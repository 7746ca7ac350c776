"""Metric polling and rollups: signal receivers and demo data, connected from
AnalyticsConfig.ready()."""

from __future__ import annotations

from typing import Any


def on_activity_recorded(sender: object, activity: Any, **kwargs: Any) -> None:
    """A share published through the API gets its polling row (the beat job creates any
    that a lost signal missed)."""
    from advocacy.models import ActivityKind
    from analytics.services.polling import metric_poll_create

    if activity.kind == ActivityKind.SHARE_PUBLISHED:
        metric_poll_create(share=activity.share)


def connect() -> None:
    from advocacy.signals import activity_recorded
    from analytics.demo import seed_demo_analytics
    from organizations.signals import demo_seeded

    activity_recorded.connect(on_activity_recorded, dispatch_uid="analytics-metric-poll")
    # Connected after the content and sharing demo (their apps are ready first), so the
    # history it measures exists.
    demo_seeded.connect(seed_demo_analytics, dispatch_uid="analytics-demo")
