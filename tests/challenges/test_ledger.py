"""The points ledger: one event pays once (signal sent twice, activity replayed, two
threads at once), reversals are new entries, spendable and lifetime points stay apart."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from advocacy.models import Activity, ActivityKind
from advocacy.signals import activity_recorded
from challenges.models import PointEntry, PointReason, Score
from challenges.services.points import (
    NotEnoughPoints,
    points_award,
    points_refund,
    points_reverse,
    points_spend,
)
from challenges.services.scoring import points_for_activity, points_replay
from tests.challenges.conftest import make_share, publish
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _score(user) -> Score:
    return Score.objects.get(user=user)


def test_a_published_share_pays_the_default_once_even_when_the_signal_is_sent_twice(
    personas, django_capture_on_commit_callbacks
):
    share = make_share(personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        activity = publish(share)
    assert activity is not None
    activity_recorded.send(sender=Activity, activity=activity)  # delivered again

    entries = PointEntry.objects.filter(user=personas.teammate)
    assert [(e.reason, e.points, e.spendable_delta) for e in entries] == [
        (PointReason.SHARE_PUBLISHED, 10, 10)
    ]
    score = _score(personas.teammate)
    assert (score.lifetime_points, score.spendable_points, score.share_count) == (10, 10, 1)


def test_the_same_activity_replayed_pays_nothing_more(personas, django_capture_on_commit_callbacks):
    share = make_share(personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
    activity = Activity.objects.get(share=share)
    assert points_for_activity(activity=activity) is None
    assert points_replay(organization=personas.organization) == 0
    assert _score(personas.teammate).lifetime_points == 10


def test_a_share_confirmed_by_link_pays_the_link_rule(personas, django_capture_on_commit_callbacks):
    share = make_share(personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        publish(share, kind=ActivityKind.SHARE_LINK_CONFIRMED)
    entry = PointEntry.objects.get(user=personas.teammate)
    assert (entry.reason, entry.points, entry.share_id) == ("share_link_confirmed", 8, share.pk)


def test_a_recalled_share_is_reversed_by_a_new_negative_entry_once(
    personas, django_capture_on_commit_callbacks
):
    share = make_share(personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
        publish(share, kind=ActivityKind.SHARE_RECALLED, at=timezone.now())
    activity = Activity.objects.get(share=share, kind=ActivityKind.SHARE_RECALLED)
    activity_recorded.send(sender=Activity, activity=activity)  # twice

    entries = list(PointEntry.objects.filter(user=personas.teammate).order_by("pk"))
    assert [(e.reason, e.points) for e in entries] == [
        ("share_published", 10),
        ("share_recalled", -10),
    ]
    assert entries[1].reversal_of_id == entries[0].pk
    score = _score(personas.teammate)
    assert (score.lifetime_points, score.spendable_points, score.share_count) == (0, 0, 0)


def test_a_reversal_never_takes_spent_points_below_zero(personas):
    user = personas.teammate
    now = timezone.now()
    points_award(user=user, reason="share_published", points=10, source_key="s:1", occurred_at=now)
    points_spend(user=user, points=8, source_key="redeem:1")
    entry = points_reverse(source_key="s:1", reversal_key="rev:1")
    assert (entry.points, entry.spendable_delta) == (-10, -2)
    score = _score(user)
    assert (score.lifetime_points, score.spendable_points) == (0, 0)
    assert points_reverse(source_key="s:1", reversal_key="rev:again") is None
    assert points_reverse(source_key="missing", reversal_key="rev:2") is None


def test_spending_moves_only_spendable_points_and_refuses_a_short_balance(personas):
    user = personas.teammate
    points_award(
        user=user, reason="share_published", points=30, source_key="s:1", occurred_at=timezone.now()
    )
    spent = points_spend(user=user, points=20, source_key="redeem:1")
    assert points_spend(user=user, points=20, source_key="redeem:1") == spent  # idempotent
    with pytest.raises(NotEnoughPoints) as refused:
        points_spend(user=user, points=20, source_key="redeem:2")
    assert refused.value.field == "points"
    assert not PointEntry.objects.filter(source_key="redeem:2").exists()
    assert points_refund(user=user, points=20, source_key="refund:1") is not None
    assert points_refund(user=user, points=20, source_key="refund:1") is None
    score = _score(user)
    assert (score.lifetime_points, score.spendable_points) == (30, 30)


def test_an_employee_without_points_cannot_spend(personas):
    with pytest.raises(NotEnoughPoints):
        points_spend(user=personas.teammate, points=1, source_key="redeem:x")


def test_the_ledger_is_append_only(personas):
    entry = points_award(
        user=personas.teammate,
        reason="share_published",
        points=5,
        source_key="s:1",
        occurred_at=timezone.now(),
    )
    entry.points = 500
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        PointEntry.objects.filter(pk=entry.pk).update(points=500)
    with pytest.raises(ValueError):
        points_award(
            user=personas.teammate,
            reason="share_published",
            points=-5,
            source_key="s:2",
            occurred_at=timezone.now(),
        )


def test_zero_points_write_nothing(personas):
    assert (
        points_award(
            user=personas.teammate,
            reason="click",
            points=0,
            source_key="c:1",
            occurred_at=timezone.now(),
        )
        is None
    )
    assert not PointEntry.objects.exists()


def _in_threads(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_of_the_same_source_write_one_entry():
    organization = OrganizationFactory()
    user = UserFactory(organization=organization)
    now = timezone.now()

    results = _in_threads(
        4,
        lambda i: points_award(
            user=user,
            reason="share_published",
            points=10,
            source_key="share:concurrent",
            occurred_at=now - timedelta(minutes=i),
        ),
    )
    assert sum(1 for r in results if r is not None) == 1
    assert PointEntry.objects.filter(source_key="share:concurrent").count() == 1
    assert Score.objects.get(user=user).lifetime_points == 10
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_never_overdraw():
    organization = OrganizationFactory()
    user = UserFactory(organization=organization)
    points_award(
        user=user, reason="adjustment", points=50, source_key="a:1", occurred_at=timezone.now()
    )

    def spend(index: int) -> str:
        try:
            points_spend(user=user, points=20, source_key=f"redeem:{index}")
        except NotEnoughPoints:
            return "refused"
        return "spent"

    results = _in_threads(5, spend)
    assert sorted(results) == ["refused"] * 3 + ["spent"] * 2
    assert Score.objects.get(user=user).spendable_points == 10
    assert PointEntry.objects.filter(reason=PointReason.REDEMPTION).count() == 2


def test_an_employee_of_another_organisation_is_not_paid_for_a_share_of_this_one(
    personas, django_capture_on_commit_callbacks
):
    share = make_share(personas.teammate)
    personas.teammate.organization = personas.other_organization
    personas.teammate.save()
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
    assert not PointEntry.objects.exists()


def test_removing_a_person_or_an_organisation_takes_their_ledger_along(personas):
    for user in (personas.teammate, personas.outsider):
        points_award(
            user=user,
            reason="adjustment",
            points=5,
            source_key=f"a:{user.pk}",
            occurred_at=timezone.now(),
        )
        points_reverse(source_key=f"a:{user.pk}", reversal_key=f"r:{user.pk}")
    personas.teammate.delete()
    personas.other_organization.delete()
    assert not PointEntry.objects.exists()
    assert not Score.objects.exists()


def test_a_share_recalled_after_its_author_left_is_still_reversed(personas):
    user = personas.teammate
    points_award(
        user=user,
        reason="share_published",
        points=10,
        source_key="s:left",
        occurred_at=timezone.now(),
    )
    user.organization = None
    user.save()
    entry = points_reverse(source_key="s:left", reversal_key="r:left", reason="share_recalled")
    assert entry is not None and entry.organization_id == personas.organization.pk
    assert Score.objects.get(user=user).lifetime_points == 0
