"""Demo points for `seed_demo`: the demo's shares, recalls, clicks, accepted suggestions
and charter acceptances replayed through the points services themselves (so the demo
shows what the code pays), the default levels, last month's top suggesters, and a few
people hidden from the rankings. Idempotent: every award is keyed on its source."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from challenges.models import Score
from challenges.services.badges import top_suggester_award
from challenges.services.leaderboards import leaderboards_forget
from challenges.services.levels import levels_ensure
from challenges.services.scoring import CLICK_SETTLE_SECONDS, clicks_pay_organization, points_replay
from organizations.models import Organization, User

logger = logging.getLogger(__name__)

# People who chose to stay out of the public rankings (by address, so reruns agree).
HIDDEN_EVERY = 17


def seed_demo_points(sender: object, organization: Organization, **kwargs: Any) -> None:
    now = timezone.now()
    with transaction.atomic():
        levels_ensure(organization=organization)
        replayed = points_replay(organization=organization)
        clicks = clicks_pay_organization(
            organization=organization, until=now - timedelta(seconds=CLICK_SETTLE_SECONDS)
        )
        last_month = (now.replace(day=1) - timedelta(days=1)).date()
        top_suggester_award(organization=organization, month=last_month)
        people = list(
            User.objects.filter(organization=organization, is_active=True)
            .exclude(email__regex=r"^(admin|comms|reviewer|manager|employee)@")
            .order_by("email")
            .values_list("pk", flat=True)
        )
        hidden = people[HIDDEN_EVERY - 1 :: HIDDEN_EVERY]
        Score.objects.bulk_create(
            [Score(user_id=pk, organization=organization) for pk in hidden], ignore_conflicts=True
        )
        Score.objects.filter(user_id__in=hidden, organization=organization).update(
            hidden_from_rankings=True
        )
    # The sets are rebuilt from the ledger by the next reader.
    leaderboards_forget(organization_id=organization.pk)
    logger.info("Demo points: %d events and %d clicks paid", replayed, clicks)
