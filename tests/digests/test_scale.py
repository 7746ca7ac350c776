"""Digests are built for whole batches without a query per person: 10,000 people in a
bounded number of queries, the same number for 100 people as for 1,000."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from challenges.models import PointEntry, PointReason, Score
from digests.selectors import DigestBuilder
from digests.services import RECORD_EVERY, digests_send_due
from organizations.models import Organization, User
from tests.challenges.challenge_factories import make_challenge
from tests.digests.conftest import daily_at_nine, post
from tests.factories import OrganizationFactory, TeamFactory

pytestmark = pytest.mark.django_db

PASSWORD = make_password("unused")


def crowd(organization: Organization, count: int, *, prefix: str) -> list[User]:
    """`count` people in two teams, a third of them with points: bulk written."""
    north = TeamFactory(organization=organization, name=f"{prefix} north")
    south = TeamFactory(organization=organization, name=f"{prefix} south")
    users = User.objects.bulk_create(
        [
            User(
                email=f"{prefix}{index}@example.test",
                first_name=f"Person {index}",
                organization=organization,
                language="en" if index % 2 else "fr",
                password=PASSWORD,
            )
            for index in range(count)
        ],
        batch_size=2000,
    )
    User.teams.through.objects.bulk_create(
        [
            User.teams.through(user_id=user.pk, team_id=(north if index % 2 else south).pk)
            for index, user in enumerate(users)
        ],
        batch_size=2000,
    )
    scored = users[::3]
    Score.objects.bulk_create(
        [
            Score(user=user, organization=organization, lifetime_points=index * 5 + 1)
            for index, user in enumerate(scored)
        ],
        batch_size=2000,
    )
    PointEntry.objects.bulk_create(
        [
            PointEntry(
                organization=organization,
                user=user,
                reason=PointReason.ADJUSTMENT,
                points=1,
                spendable_delta=1,
                source_key=f"crowd:{prefix}:{user.pk}",
                occurred_at=user.date_joined,
            )
            for user in scored
        ],
        batch_size=2000,
    )
    post(organization, title="For the north", audience_teams=[north])
    post(organization, title="For everyone")
    make_challenge(organization, title="Share week", teams=[south], goal=3)
    make_challenge(organization, title="Clicks", metric="clicks")
    return list(User.objects.filter(pk__in=[u.pk for u in users]).select_related("organization"))


def queries_to_build(people: list[User]) -> tuple[int, dict]:
    builder = DigestBuilder()
    with CaptureQueriesContext(connection) as queries:
        digests = builder.build(people)
    return len(queries), digests


def test_same_queries_for_100_and_1000_people(clock):
    small = crowd(OrganizationFactory(), 100, prefix="small")
    large = crowd(OrganizationFactory(), 1000, prefix="large")

    small_count, _small_digests = queries_to_build(small)
    large_count, large_digests = queries_to_build(large)

    assert small_count == large_count
    assert len(large_digests) == 1000
    north = next(u for u in large if u.first_name == "Person 1")
    south = next(u for u in large if u.first_name == "Person 0")
    assert sorted(i.title for i in large_digests[north.pk].items) == [
        "For everyone",
        "For the north",
    ]
    assert [i.title for i in large_digests[south.pk].items] == ["For everyone"]
    assert [c.title for c in large_digests[south.pk].challenges] == ["Share week", "Clicks"]


def test_ten_thousand_people_in_one_batch(clock, django_assert_max_num_queries):
    people = crowd(OrganizationFactory(), 10_000, prefix="big")

    with django_assert_max_num_queries(25):
        digests = DigestBuilder().build(people)

    assert len(digests) == 10_000
    assert all(d.would_send for d in digests.values())
    ranked = [d for d in digests.values() if d.rank is not None]
    assert len(ranked) == len(people[::3])
    assert min(d.rank for d in ranked) == 1


def test_the_job_queries_per_batch_not_per_person(clock):
    organization = OrganizationFactory()
    daily_at_nine(organization)
    crowd(organization, 450, prefix="job")

    with CaptureQueriesContext(connection) as queries:
        result = digests_send_due(batch_size=200)

    assert result.sent == 450 and len(mail.outbox) == 450
    # Three batches: the organisation's reads once, a fixed number per batch, and the sent
    # rows recorded every RECORD_EVERY emails (so that a killed worker resends few).
    recordings = 450 // RECORD_EVERY + 3
    assert len(queries) < 120 + 4 * recordings
    assert len(queries) < 450  # fewer than one a person
