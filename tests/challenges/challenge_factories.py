"""Builders for the challenge and reward tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from challenges.models import Challenge, ChallengeStatus, Reward
from challenges.services.points import points_award
from organizations.models import Organization, User


def make_challenge(
    organization: Organization,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    status: str = ChallengeStatus.ACTIVE,
    teams=(),
    contents=(),
    topics=(),
    **fields,
) -> Challenge:
    now = timezone.now()
    fields.setdefault("winners_count", 3)
    challenge = Challenge.objects.create(
        organization=organization,
        title=fields.pop("title", "Launch week"),
        starts_at=starts_at or now - timedelta(days=7),
        ends_at=ends_at or now + timedelta(days=7),
        status=status,
        **fields,
    )
    challenge.audience_teams.set(teams)
    challenge.contents.set(contents)
    challenge.topics.set(topics)
    return challenge


def give_points(user: User, points: int, *, key: str = "", at: datetime | None = None):
    return points_award(
        user=user,
        reason="adjustment",
        points=points,
        source_key=key or f"test-gift:{user.pk}:{points}:{timezone.now().timestamp()}",
        occurred_at=at or timezone.now(),
    )


def make_reward(organization: Organization, **fields) -> Reward:
    fields.setdefault("title", "A day off")
    fields.setdefault("cost", 100)
    return Reward.objects.create(organization=organization, **fields)
