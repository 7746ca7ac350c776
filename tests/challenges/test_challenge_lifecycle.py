"""The challenge state machine: launch or schedule, start and end on time (beat task and
page reads), two concurrent end runs freeze the results and pay the bonus once, frozen
results do not move when late activity arrives, winners and notifications."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from challenges import campaign_selectors as selectors
from challenges.campaign_tasks import advance_challenges
from challenges.models import (
    BadgeAward,
    ChallengeResult,
    ChallengeStatus,
    PointEntry,
    PointReason,
    ScoringRule,
)
from challenges.services import campaigns as services
from challenges.services.points import points_hide_from_rankings
from notifications.models import Notification
from organizations.errors import ConflictError, PermissionDeniedError
from tests.challenges.challenge_factories import make_challenge
from tests.challenges.conftest import make_share, publish
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _draft(personas, **fields):
    now = timezone.now()
    fields.setdefault("starts_at", now - timedelta(hours=1))
    fields.setdefault("ends_at", now + timedelta(days=3))
    return make_challenge(personas.organization, status=ChallengeStatus.DRAFT, **fields)


def test_launch_starts_now_and_tells_the_audience_once(
    personas, django_capture_on_commit_callbacks
):
    outside_team = TeamFactory(organization=personas.organization, name="Elsewhere")
    outsider_colleague = UserFactory(organization=personas.organization, teams=[outside_team])
    challenge = _draft(personas, teams=[personas.team])
    launched = services.challenge_launch(actor=personas.owner, challenge=challenge)
    assert launched.status == ChallengeStatus.ACTIVE and launched.launched_at is not None
    # The editor's request does not wait for the notifications: the beat task sends them.
    assert not Notification.objects.filter(kind=services.KIND_LAUNCHED).exists()
    services.challenges_advance(announce=False)
    assert not Notification.objects.filter(kind=services.KIND_LAUNCHED).exists()
    assert advance_challenges() == {"started": 0, "ended": 0}
    told = set(
        Notification.objects.filter(kind=services.KIND_LAUNCHED).values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {personas.owner.pk, personas.teammate.pk}
    assert outsider_colleague.pk not in told
    with pytest.raises(ConflictError):
        services.challenge_launch(actor=personas.owner, challenge=challenge)
    assert services.challenges_advance() == (0, 0)
    assert Notification.objects.filter(kind=services.KIND_LAUNCHED).count() == 2


def test_a_future_challenge_is_scheduled_then_started_by_the_beat_task(personas):
    now = timezone.now()
    challenge = _draft(personas, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=8))
    assert services.challenge_launch(actor=personas.owner, challenge=challenge).status == (
        ChallengeStatus.SCHEDULED
    )
    assert advance_challenges() == {"started": 0, "ended": 0}
    with time_machine.travel(now + timedelta(days=1, minutes=1)):
        assert advance_challenges() == {"started": 1, "ended": 0}
        assert advance_challenges() == {"started": 0, "ended": 0}
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.ACTIVE


def test_only_editors_manage_and_only_before_the_start(personas):
    challenge = _draft(personas)
    with pytest.raises(PermissionDeniedError):
        services.challenge_launch(actor=personas.teammate, challenge=challenge)
    services.challenge_launch(actor=personas.owner, challenge=challenge)
    data = services.challenge_input_from(challenge, title="New title")
    with pytest.raises(ConflictError):
        services.challenge_update(actor=personas.owner, challenge=challenge, data=data)
    services.challenge_cancel(actor=personas.owner, challenge=challenge)
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.CANCELLED and challenge.title == "Launch week"


def _ended_with_results(personas, *, bonus=50, goal=2, winners=1):
    org = personas.organization
    a = UserFactory(organization=org, teams=[personas.team])
    b = UserFactory(organization=org, teams=[personas.team])
    now = timezone.now()
    challenge = make_challenge(
        org,
        teams=[personas.team],
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(minutes=1),
        goal=goal,
        winners_count=winners,
        bonus_points=bonus,
        prize="A trophy",
    )
    for _ in range(3):
        publish(make_share(a, at=now - timedelta(days=1)))
    for _ in range(2):
        publish(make_share(b, at=now - timedelta(days=1)))
    publish(make_share(personas.teammate, at=now - timedelta(days=1)))
    return challenge, a, b


def test_end_freezes_ranks_winners_goal_and_pays_once(personas):
    ScoringRule.objects.create(
        organization=personas.organization, event="challenge_completed", points=20
    )
    challenge, a, b = _ended_with_results(personas)
    # A page read ends it and freezes the results at once; the beat task pays.
    assert services.challenges_advance(announce=False) == (0, 1)
    assert not PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS).exists()
    assert services.challenges_advance() == (0, 0)
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.ENDED and challenge.results_frozen_at
    assert challenge.results_paid_at is not None
    assert not challenge.results.filter(paid_at__isnull=True).exists()
    results = {r.user_id: r for r in ChallengeResult.objects.filter(challenge=challenge)}
    assert {u: (int(r.value), r.rank, r.is_winner, r.goal_reached) for u, r in results.items()} == {
        a.pk: (3, 1, True, True),
        b.pk: (2, 2, False, True),
        personas.teammate.pk: (1, 3, False, False),
    }
    entries = PointEntry.objects.filter(source_key__startswith=f"challenge:{challenge.pk}:")
    assert sorted((e.user_id, e.reason, e.points) for e in entries) == sorted(
        [
            (a.pk, PointReason.CHALLENGE_BONUS, 50),
            (a.pk, PointReason.CHALLENGE_COMPLETED, 20),
            (b.pk, PointReason.CHALLENGE_COMPLETED, 20),
        ]
    )
    assert list(BadgeAward.objects.values_list("user_id", "key")) == [
        (a.pk, f"challenge_winner:{challenge.pk}:{a.pk}")
    ]
    won = Notification.objects.get(kind=services.KIND_RESULTS, recipient=a)
    assert "You won" in won.title and won.body == "A trophy"
    # A second run (beat and a page read) finds nothing to do.
    assert services.challenge_end(challenge_id=challenge.pk) is False
    assert services.challenge_results_pay(challenge_id=challenge.pk) == 0
    assert services.challenges_advance() == (0, 0)
    assert entries.count() == 3
    assert Notification.objects.filter(kind=services.KIND_RESULTS, recipient=a).count() == 1


def test_frozen_results_do_not_move_when_late_activity_arrives(personas):
    challenge, a, b = _ended_with_results(personas)
    services.challenges_advance()
    before = list(
        ChallengeResult.objects.filter(challenge=challenge).values_list("user_id", "value")
    )
    # A share dated inside the period, recorded after the end (a late confirmation).
    for _ in range(5):
        publish(make_share(b, at=challenge.ends_at - timedelta(hours=1)))
    challenge.refresh_from_db()
    board = selectors.challenge_board(b, challenge)
    assert board.frozen
    assert [(row.user_id, row.rank) for row in board.rows][:2] == [(a.pk, 1), (b.pk, 2)]
    assert board.winners[0].user_id == a.pk
    after = list(
        ChallengeResult.objects.filter(challenge=challenge).values_list("user_id", "value")
    )
    assert before == after


def test_hidden_people_are_not_announced_winners_but_complete_the_goal(personas):
    challenge, a, b = _ended_with_results(personas)
    points_hide_from_rankings(user=a, hidden=True)
    services.challenges_advance()
    results = {r.user_id: r for r in ChallengeResult.objects.filter(challenge=challenge)}
    assert results[a.pk].hidden and not results[a.pk].is_winner and results[a.pk].goal_reached
    assert results[a.pk].rank == 1
    assert results[b.pk].is_winner and results[b.pk].rank == 1


def test_team_mode_pays_every_member_of_the_winning_team(personas):
    org = personas.organization
    red = TeamFactory(organization=org, name="Red")
    blue = TeamFactory(organization=org, name="Blue")
    reds = [UserFactory(organization=org, teams=[red]) for _ in range(2)]
    blue_one = UserFactory(organization=org, teams=[blue])
    now = timezone.now()
    challenge = make_challenge(
        org,
        mode="team",
        teams=[red, blue],
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(seconds=1),
        winners_count=1,
        bonus_points=10,
    )
    publish(make_share(reds[0], at=now - timedelta(days=1)))
    publish(make_share(blue_one, at=now - timedelta(days=1)))
    services.challenges_advance()
    results = {r.team_id: r for r in ChallengeResult.objects.filter(challenge=challenge)}
    assert results[blue.pk].is_winner and results[blue.pk].value == 1
    assert not results[red.pk].is_winner and results[red.pk].value == Decimal("0.50")
    paid = PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS)
    assert list(paid.values_list("user_id", flat=True)) == [blue_one.pk]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_end_runs_freeze_and_pay_once(personas):
    challenge, a, _b = _ended_with_results(personas)
    barrier = threading.Barrier(2)
    outcomes: list[tuple[bool, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            ended = services.challenge_end(challenge_id=challenge.pk)
            paid = services.challenge_results_pay(challenge_id=challenge.pk)
            outcomes.append((ended, paid))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(ended for ended, _paid in outcomes) == [False, True]
    # Three results, each claimed and paid by exactly one of the two runners.
    assert sum(paid for _ended, paid in outcomes) == 3
    assert ChallengeResult.objects.filter(challenge=challenge).count() == 3
    assert PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS, user=a).count() == 1
    assert Notification.objects.filter(kind=services.KIND_RESULTS, recipient=a).count() == 1


def test_a_payment_run_that_stops_halfway_is_finished_by_the_next(personas, monkeypatch):
    challenge, a, _b = _ended_with_results(personas)
    services.challenges_advance(announce=False)
    # Results are paid a batch at a time; batches of one make "halfway" one result.
    monkeypatch.setattr(services, "PAY_BATCH", 1)
    real = services.notification_create_many
    calls = {"n": 0}

    def failing_second(**kwargs):
        if kwargs["kind"] == services.KIND_RESULTS:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(services, "notification_create_many", failing_second)
    with pytest.raises(RuntimeError):
        services.challenge_results_pay(challenge_id=challenge.pk)
    # The first result is paid and told; the second rolled back whole.
    assert ChallengeResult.objects.filter(challenge=challenge, paid_at__isnull=False).count() == 1
    assert PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS).count() == 1
    assert PointEntry.objects.filter(reason=PointReason.CHALLENGE_COMPLETED).count() == 1
    monkeypatch.setattr(services, "notification_create_many", real)
    assert services.challenges_advance() == (0, 0)
    challenge.refresh_from_db()
    assert challenge.results_paid_at is not None
    assert PointEntry.objects.filter(reason=PointReason.CHALLENGE_BONUS, user=a).count() == 1
    assert PointEntry.objects.filter(reason=PointReason.CHALLENGE_COMPLETED).count() == 2
    assert Notification.objects.filter(kind=services.KIND_RESULTS).count() == 3
