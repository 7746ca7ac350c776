"""Paying a challenge's results set-based: every payment once even when the claims are
undone and the run repeated, Score totals moved by UPSERT (rows created for a first
entry), levels reached announced once, badges in bulk, a number of statements that does
not grow with the people paid, and the Redis boards moved after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from challenges import points_selectors as selectors
from challenges.models import (
    BadgeAward,
    Challenge,
    ChallengeResult,
    PointEntry,
    PointReason,
    Score,
)
from challenges.services import campaigns as services
from notifications.models import Notification
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _anchored_clock(time_machine):
    # Not today's date: the same moment on every day the suite runs.
    time_machine.move_to(datetime(2026, 3, 11, 10, 0, tzinfo=UTC), tick=True)


def _points_challenge(org, people, *, team=None, **fields):
    now = timezone.now()
    fields.setdefault("winners_count", 1)
    fields.setdefault("bonus_points", 30)
    challenge = make_challenge(
        org,
        metric="points",
        teams=[team] if team else [],
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(minutes=1),
        prize="A trophy",
        **fields,
    )
    for index, person in enumerate(people):
        give_points(person, 10 * (index + 1), key=f"gift:{person.pk}", at=now - timedelta(days=1))
    return challenge


def _ledger_state(org):
    scores = dict(Score.objects.filter(organization=org).values_list("user_id", "lifetime_points"))
    spendable = dict(
        Score.objects.filter(organization=org).values_list("user_id", "spendable_points")
    )
    return PointEntry.objects.count(), BadgeAward.objects.count(), scores, spendable


def test_a_rerun_after_the_claims_are_undone_pays_nobody_twice(personas):
    org = personas.organization
    team = TeamFactory(organization=org, name="Runners")
    people = [UserFactory(organization=org, teams=[team]) for _ in range(4)]
    challenge = _points_challenge(org, people, team=team, goal=25, winners_count=2)
    assert services.challenges_advance() == (0, 1)
    first = _ledger_state(org)
    bonus = PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS)
    assert sorted(bonus.values_list("user_id", flat=True)) == sorted(p.pk for p in people[2:])
    assert first[2][people[3].pk] == 40 + 30 + 20  # gift, bonus, goal reached
    # The claims undone (a restore, a manual reset): the source keys still hold.
    ChallengeResult.objects.filter(challenge=challenge).update(paid_at=None)
    Challenge.objects.filter(pk=challenge.pk).update(results_paid_at=None)
    assert services.challenge_results_pay(challenge_id=challenge.pk) == 4
    assert _ledger_state(org) == first


def test_team_members_without_a_score_get_one_and_two_winning_teams_pay_once(personas):
    org = personas.organization
    red = TeamFactory(organization=org, name="Red")
    blue = TeamFactory(organization=org, name="Blue")
    both = UserFactory(organization=org, teams=[red, blue])
    quiet = UserFactory(organization=org, teams=[red])
    now = timezone.now()
    challenge = make_challenge(
        org,
        mode="team",
        metric="points",
        teams=[red, blue],
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(minutes=1),
        winners_count=2,
        bonus_points=15,
    )
    give_points(both, 10, key="both", at=now - timedelta(days=1))
    assert not Score.objects.filter(user=quiet).exists()
    services.challenges_advance()
    assert challenge.results.filter(is_winner=True).count() == 2
    scores = dict(Score.objects.filter(organization=org).values_list("user_id", "lifetime_points"))
    assert scores[both.pk] == 10 + 15 and scores[quiet.pk] == 15
    assert Score.objects.get(user=quiet).spendable_points == 15
    assert BadgeAward.objects.filter(user=both).count() == 1
    # Told once per winning team, as before.
    assert Notification.objects.filter(kind=services.KIND_RESULTS, recipient=both).count() == 2


def test_a_level_reached_by_the_bonus_is_announced_once(personas):
    org = personas.organization
    team = TeamFactory(organization=org, name="Climbers")
    climber = UserFactory(organization=org, teams=[team], language="fr")
    challenge = _points_challenge(org, [climber], team=team, bonus_points=20)
    give_points(climber, 30, key="more", at=timezone.now() - timedelta(days=1))  # 40 in all
    Notification.objects.all().delete()
    services.challenges_advance()
    score = Score.objects.get(user=climber)
    assert (score.lifetime_points, score.level_threshold) == (60, 50)
    level_ups = Notification.objects.filter(kind="challenges.level_up", recipient=climber)
    assert [n.title for n in level_ups] == ["Vous avez atteint un nouveau palier : Messager"]
    assert Notification.objects.filter(kind="challenges.badge", recipient=climber).count() == 1
    ChallengeResult.objects.filter(challenge=challenge).update(paid_at=None)
    services.challenge_results_pay(challenge_id=challenge.pk)
    assert level_ups.count() == 1


def _statements_to_pay(org, size: int) -> tuple[int, int]:
    """(statements, people told) to pay a crowd of `size` people, all tied: all win, all
    reach the goal, all cross the first level."""
    team = TeamFactory(organization=org, name=f"Crowd {size}")
    people = [UserFactory(organization=org, teams=[team]) for _ in range(size)]
    now = timezone.now()
    challenge = make_challenge(
        org,
        metric="points",
        teams=[team],
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(minutes=1),
        goal=5,
        winners_count=3,
        bonus_points=30,
    )
    for person in people:
        give_points(person, 6, key=f"crowd:{person.pk}", at=now - timedelta(days=1))
    services.challenges_advance(announce=False)
    with CaptureQueriesContext(connection) as queries:
        assert services.challenge_results_pay(challenge_id=challenge.pk) == size
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]
    told = Notification.objects.filter(kind=services.KIND_RESULTS, recipient__in=people).count()
    return len(statements), told


def test_the_statements_do_not_grow_with_the_people_paid(personas):
    small, told_small = _statements_to_pay(personas.organization, 10)
    large, told_large = _statements_to_pay(personas.organization, 40)
    assert (told_small, told_large) == (10, 40)
    assert Score.objects.filter(level_threshold=50).count() == 50
    # Claim, people, ledger, scores, levels, badges, notifications: a fixed few.
    assert small == large <= 30


def test_the_redis_boards_follow_the_payment(
    personas, settings, django_capture_on_commit_callbacks
):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    org = personas.organization
    team = TeamFactory(organization=org, name="Board")
    people = [UserFactory(organization=org, teams=[team]) for _ in range(5)]
    challenge = _points_challenge(org, people, team=team, goal=30, winners_count=2)
    services.challenges_advance(announce=False)
    caller = people[0]
    for board in (selectors.BOARD_PEOPLE, selectors.BOARD_TEAMS):
        assert selectors.leaderboard_for(caller, board=board).source == "redis"  # built
    with django_capture_on_commit_callbacks(execute=True):
        services.challenge_results_pay(challenge_id=challenge.pk)
    url = settings.REDIS_URL
    for board in (selectors.BOARD_PEOPLE, selectors.BOARD_TEAMS):
        from_redis = selectors.leaderboard_for(caller, board=board)
        settings.REDIS_URL = ""
        try:
            from_database = selectors.leaderboard_for(caller, board=board)
        finally:
            settings.REDIS_URL = url
        assert from_redis.source == "redis"
        redis_rows = [(r.rank, r.key, r.points) for r in from_redis.rows]
        assert redis_rows == [(r.rank, r.key, r.points) for r in from_database.rows]
    top = selectors.leaderboard_for(caller).rows[0]
    assert (top.key, top.points) == (people[4].pk, 50 + 30 + 20)
