"""Points tasks (re-exported by challenges.tasks for autodiscovery); the beat schedule in
config/celery.py runs them."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(soft_time_limit=240, time_limit=300)
def settle_clicks() -> int:
    from challenges.services.scoring import clicks_settle

    return clicks_settle()


@shared_task(soft_time_limit=240, time_limit=300)
def rebuild_leaderboards() -> int:
    from challenges.services.leaderboards import leaderboards_rebuild_all

    return leaderboards_rebuild_all()


@shared_task
def award_top_suggesters() -> int:
    """Last month's top suggesters; daily and idempotent, so a missed run catches up."""
    from challenges.services.badges import top_suggester_award
    from organizations.models import Organization

    last_month = (timezone.now().replace(day=1) - timedelta(days=1)).date()
    return sum(
        len(top_suggester_award(organization=organization, month=last_month))
        for organization in Organization.objects.all()
    )
