"""The campaigns' demo: an ended challenge with frozen results, winners and bonus paid,
a running one where people have progress, a scheduled one, a rewards catalogue with
requests in every state; a second run adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from challenges import campaign_selectors as selectors
from challenges.models import (
    BadgeAward,
    Challenge,
    ChallengeResult,
    ChallengeStatus,
    PointEntry,
    PointReason,
    Redemption,
    RedemptionStatus,
    Reward,
)
from organizations.models import User

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Challenge.objects.count(),
        ChallengeResult.objects.count(),
        Reward.objects.count(),
        Redemption.objects.count(),
        PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS).count(),
        BadgeAward.objects.filter(badge="challenge_winner").count(),
    )


def test_demo_is_lively_and_idempotent(demo_clock):
    call_command("seed_demo", verbosity=0)
    by_status = {c.status: c for c in Challenge.objects.all()}
    assert set(by_status) == {
        ChallengeStatus.ENDED,
        ChallengeStatus.ACTIVE,
        ChallengeStatus.SCHEDULED,
    }
    ended = by_status[ChallengeStatus.ENDED]
    winners = ended.results.filter(is_winner=True)
    assert winners.count() >= 3 and ended.results_frozen_at is not None
    for result in winners:
        assert PointEntry.objects.filter(
            source_key=f"challenge:{ended.pk}:bonus:{result.user_id}", points=100
        ).exists()
    manager = User.objects.get(email__startswith="manager@")
    board = selectors.challenge_board(manager, by_status[ChallengeStatus.ACTIVE])
    assert board.me is not None and board.me.value > 0 and len(board.rows) >= 5
    assert {r.status for r in Redemption.objects.all()} == set(RedemptionStatus.values)
    before = _counts()
    call_command("seed_demo", verbosity=0)
    assert _counts() == before
