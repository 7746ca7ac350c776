"""Celery tasks of the app: points tasks in points_tasks, challenge and reward tasks in
campaign_tasks (imported so that autodiscovery finds them)."""

from __future__ import annotations

from challenges.campaign_tasks import *  # noqa: F403
from challenges.points_tasks import *  # noqa: F403
