"""What goes in a person's digest: the posts aimed at them (teams and the teams above),
their language first, only what is new since their last digest, nothing they already
shared, nothing of another organisation; challenges, points and rank movement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from advocacy.models import ShareStatus
from content.models import ContentStatus
from digests.models import DeliveryStatus, DigestDelivery
from digests.selectors import MAX_ITEMS, DigestBuilder, digest_for
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.content.factories import ContentFactory
from tests.digests.conftest import daily_at_nine, post, shared
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def titles(digest) -> list[str]:
    return [item.title for item in digest.items]


def test_posts_aimed_at_my_teams_and_the_teams_above(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    sales = TeamFactory(organization=org, name="Sales")
    paris = TeamFactory(organization=org, name="Paris", parent=sales)
    lyon = TeamFactory(organization=org, name="Lyon", parent=sales)
    seller = UserFactory(organization=org, teams=[paris])
    post(org, title="For everyone")
    post(org, title="For sales", audience_teams=[sales])
    post(org, title="For Lyon", audience_teams=[lyon])
    post(org, title="For communication", audience_teams=[personas.team])
    post(personas.other_organization, title="Another organisation's")

    assert sorted(titles(digest_for(seller))) == ["For everyone", "For sales"]
    assert sorted(titles(digest_for(personas.teammate))) == ["For communication", "For everyone"]


def test_my_language_first_then_newest(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    post(org, title="French, newest", language="fr", hours_ago=1)
    post(org, title="English, older", language="en", hours_ago=5)
    post(org, title="English, newer", language="en", hours_ago=2)
    post(org, title="Pinned French", language="fr", hours_ago=6, pinned=True)

    digest = digest_for(personas.teammate)  # speaks English

    assert titles(digest) == ["Pinned French", "English, newer", "English, older", "French, newest"]


def test_only_published_posts_new_since_the_last_digest(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    me = personas.teammate
    post(org, title="Before the last digest", hours_ago=20)
    post(org, title="After it", hours_ago=2)
    post(org, title="Draft", status=ContentStatus.DRAFT)
    post(org, title="Scheduled", hours_ago=-2)
    post(org, title="Expired", expires_at=timezone.now() - timedelta(minutes=1), hours_ago=3)
    DigestDelivery.objects.create(
        organization=org,
        user=me,
        period_key="d:2026-12-06",
        status=DeliveryStatus.SENT,
        created_at=timezone.now() - timedelta(days=1),
        covered_until=timezone.now() - timedelta(hours=10),
    )

    assert titles(digest_for(me)) == ["After it"]


def test_first_digest_looks_back_one_period(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    post(org, title="Two days old", hours_ago=48)
    post(org, title="Yesterday", hours_ago=20)

    assert titles(digest_for(personas.teammate)) == ["Yesterday"]


def test_posts_already_shared_or_written_by_me_are_left_out(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    me = personas.teammate
    done = post(org, title="Shared")
    failed = post(org, title="Share failed")
    post(org, title="Mine", author=me)
    post(org, title="Still to share")
    shared(me, done)
    shared(me, failed, status=ShareStatus.FAILED)

    assert sorted(titles(digest_for(me))) == ["Share failed", "Still to share"]


def test_nothing_new_would_not_send(personas, clock):
    daily_at_nine(personas.organization)
    post(personas.other_organization, title="Elsewhere")

    digest = digest_for(personas.teammate)

    assert digest.items == []
    assert digest.would_send is False


def test_items_carry_points_challenge_and_a_signed_share_link(personas, clock, settings):
    settings.SITE_URL = "https://portevoix.example"
    org = personas.organization
    daily_at_nine(org)
    content = post(org, title="Launch")
    make_challenge(org, title="Launch week", goal=4)

    digest = digest_for(personas.teammate)

    item = digest.items[0]
    assert item.points_text.startswith("Earns ")
    assert item.challenge_text == "Counts for “Launch week”"
    assert item.share_url.startswith("https://portevoix.example/digest/share/")
    assert item.content_url == f"https://portevoix.example/content/{content.pk}/"
    assert [(c.title, c.goal, c.value) for c in digest.challenges] == [("Launch week", 4, 0)]


def test_challenges_outside_my_audience_are_left_out(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    elsewhere = TeamFactory(organization=org)
    make_challenge(org, title="Theirs", teams=[elsewhere])
    make_challenge(org, title="Ours", teams=[personas.team])

    assert [c.title for c in digest_for(personas.teammate).challenges] == ["Ours"]


def test_points_and_rank_movement_since_the_last_digest(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    me = personas.teammate
    give_points(personas.owner, 50)
    give_points(me, 30)
    DigestDelivery.objects.create(
        organization=org,
        user=me,
        period_key="d:2026-12-06",
        status=DeliveryStatus.SENT,
        created_at=timezone.now() - timedelta(days=1),
        covered_until=timezone.now() - timedelta(days=1),
        points=10,
        rank=4,
    )

    digest = digest_for(me)

    assert (digest.points, digest.points_gained, digest.rank, digest.rank_change) == (30, 20, 2, 2)
    assert digest.rank_up == 2


def test_at_most_a_few_posts_and_a_count_of_the_rest(personas, clock):
    org = personas.organization
    daily_at_nine(org)
    for index in range(MAX_ITEMS + 3):
        post(org, title=f"Post {index}", hours_ago=1 + index / 10)

    digest = digest_for(personas.teammate)

    assert len(digest.items) == MAX_ITEMS
    assert digest.more == 3


def test_one_builder_mixes_organisations(personas, clock):
    daily_at_nine(personas.organization)
    post(personas.organization, title="Ours")
    ContentFactory(organization=personas.other_organization, title="Theirs", language="en")
    people = [personas.teammate, personas.outsider]

    digests = DigestBuilder().build(people)

    assert titles(digests[personas.teammate.pk]) == ["Ours"]
    assert titles(digests[personas.outsider.pk]) == ["Theirs"]
