"""Demo challenges and rewards for `seed_demo`, run after the points demo (connected after
it): an ended challenge over the first two weeks of demo shares, with its results frozen,
winners announced and bonus paid through the real services; a running one over the last
two weeks with everybody's progress; a scheduled team challenge; a rewards catalogue
with requests waiting, fulfilled and refused (refunded).

Idempotent: a demo challenge is recognised by its title (written in the organisation's
language), and the catalogue is seeded only when the organisation has none.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from challenges.models import (
    Challenge,
    ChallengeMetric,
    ChallengeMode,
    ChallengeStatus,
    Redemption,
    Reward,
    Score,
)
from challenges.services.campaigns import challenge_end, challenge_results_pay
from challenges.services.rewards import redemption_fulfil, redemption_refuse, reward_redeem
from organizations.errors import DomainError
from organizations.models import Organization, Role, Team, User

logger = logging.getLogger(__name__)


def _midnight(day: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.astimezone(zone).date(), time.min, tzinfo=zone)


def seed_demo_campaigns(sender: object, organization: Organization, **kwargs: Any) -> None:
    with translation.override(organization.default_language):
        ended = _seed_challenges(organization)
        if ended is not None:
            # The real end: results frozen, bonus and badges paid, winners told.
            challenge_end(challenge_id=ended.pk)
            challenge_results_pay(challenge_id=ended.pk)
        _seed_rewards(organization)


def _seed_challenges(organization: Organization) -> Challenge | None:
    zone = ZoneInfo(organization.time_zone)
    today = _midnight(timezone.now(), zone)
    editor = User.objects.filter(organization=organization, role=Role.EDITOR).order_by("pk").first()
    specs: list[dict[str, Any]] = [
        {
            "key": "ended",
            "title": _("Kick-off fortnight"),
            "why_it_matters": _(
                "Our programme starts: the more of us share, the further our news goes."
            ),
            "starts_at": today - timedelta(days=28),
            "ends_at": today - timedelta(days=14),
            "metric": ChallengeMetric.SHARES,
            "winners_count": 3,
            "goal": 3,
            "prize": _("Lunch with the executive committee"),
            "bonus_points": 100,
            "status": ChallengeStatus.ACTIVE,
        },
        {
            "key": "active",
            "title": _("Share our news this month"),
            "why_it_matters": _(
                "Every share carries our news to people our ads never reach. Five shares and"
                " you complete the challenge; the three best win."
            ),
            "starts_at": today - timedelta(days=14),
            "ends_at": today + timedelta(days=14),
            "metric": ChallengeMetric.SHARES,
            "winners_count": 3,
            "goal": 5,
            "prize": _("A day off"),
            "bonus_points": 50,
            "status": ChallengeStatus.ACTIVE,
        },
        {
            "key": "scheduled",
            "title": _("Team against team: clicks"),
            "why_it_matters": _(
                "Which team brings the most readers to our site? Counted per member, so a"
                " small team can win."
            ),
            "starts_at": today + timedelta(days=5),
            "ends_at": today + timedelta(days=35),
            "metric": ChallengeMetric.CLICKS,
            "mode": ChallengeMode.TEAM,
            "winners_count": 1,
            "goal": None,
            "prize": _("Breakfast for the winning team"),
            "bonus_points": 30,
            "status": ChallengeStatus.SCHEDULED,
        },
    ]
    ended: Challenge | None = None
    with transaction.atomic():
        for spec in specs:
            key = spec.pop("key")
            if Challenge.objects.filter(organization=organization, title=spec["title"]).exists():
                continue
            challenge = Challenge.objects.create(
                organization=organization,
                created_by=editor,
                launched_at=spec["starts_at"] if spec["status"] == ChallengeStatus.ACTIVE else None,
                # Told when it started (in the demo's past): no burst of notifications now.
                launch_announced_at=(
                    spec["starts_at"] if spec["status"] == ChallengeStatus.ACTIVE else None
                ),
                **spec,
            )
            if key == "scheduled":
                departments = Team.objects.filter(organization=organization, parent__isnull=True)
                challenge.audience_teams.set(departments)
            if key == "ended":
                ended = challenge
    return ended


def _seed_rewards(organization: Organization) -> None:
    if Reward.objects.filter(organization=organization).exists():
        return
    catalogue = [
        (_("A day off"), _("One extra day off, to take within the year."), 400, 5, 1),
        (
            _("A donation to a charity"),
            _("We give 20 euros to the charity of your choice."),
            150,
            None,
            None,
        ),
        (_("Branded water bottle"), _("Insulated, 50 cl, with our logo."), 60, 40, 2),
        (_("Conference ticket"), _("A ticket for a conference of your field."), 800, 2, 1),
        (
            _("Coffee with the CEO"),
            _("Thirty minutes to talk about what matters to you."),
            250,
            3,
            1,
        ),
    ]
    with transaction.atomic():
        rewards = Reward.objects.bulk_create(
            [
                Reward(
                    organization=organization,
                    title=title,
                    description=description,
                    cost=cost,
                    stock=stock,
                    per_person_limit=limit,
                )
                for title, description, cost, stock, limit in catalogue
            ]
        )
    admin = User.objects.filter(organization=organization, role=Role.ORG_ADMIN).first()
    # The richest demo people redeem what they can afford: some requests wait, one is
    # fulfilled, one refused (refunded).
    scores = (
        Score.objects.filter(organization=organization, spendable_points__gte=60)
        .order_by("-spendable_points", "user_id")
        .select_related("user")[:6]
    )
    affordable = sorted(rewards, key=lambda r: r.cost)
    made: list[Redemption] = []
    for index, score in enumerate(scores):
        for reward in affordable[index % 3 :] + affordable[: index % 3]:
            if reward.cost <= score.spendable_points:
                try:
                    made.append(reward_redeem(user=score.user, reward_id=reward.pk))
                except DomainError:
                    continue
                break
    if admin is not None:
        decisions = [
            (redemption_fulfil, _("Handed over at reception.")),
            (redemption_refuse, _("Out of stock this month, sorry: your points are back.")),
            (redemption_fulfil, ""),
        ]
        for redemption, (decide, note) in zip(made, decisions, strict=False):
            decide(actor=admin, redemption=redemption, note=note)
    logger.info("Demo rewards: %d rewards, %d requests", len(rewards), len(made))
