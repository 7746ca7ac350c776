"""Points totals per organisation: a person who belongs to two organisations has a Score
row in each (lifetime and spendable points, level, streak, counts, badges, the ranking
choice), and every page, API, leaderboard and reward of one organisation reads its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import BadgeAward, PointEntry, RedemptionStatus, Score
from challenges.services import campaigns as campaign_services
from challenges.services import rewards as reward_services
from challenges.services.points import points_hide_from_rankings
from organizations import memberships
from organizations.models import Membership, Organization, Role, User
from organizations.services import api_token_issue
from tests.challenges.challenge_factories import give_points, make_challenge, make_reward
from tests.challenges.conftest import make_share, publish
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOME_POINTS = 137
OTHER_POINTS = 58


@pytest.fixture(autouse=True)
def _anchored_clock(time_machine):
    # A Wednesday, the same on every day the suite runs (streaks count weeks).
    time_machine.move_to(datetime(2026, 3, 11, 10, 0, tzinfo=UTC), tick=True)


def in_organization(person: User, organization: Organization) -> User:
    """A fresh copy of the person working in `organization` (as a request would)."""
    fresh = User.objects.select_related("organization").get(pk=person.pk)
    assert memberships.user_as_member_of(fresh, organization.pk)
    return fresh


@pytest.fixture
def agent(personas) -> User:
    """At home in Acme (employee), a member of Other Corp through a Membership, with
    points earned in each."""
    person = UserFactory(
        email="agent@agency.test",
        first_name="Alix",
        last_name="Agence",
        organization=personas.organization,
        role=Role.EMPLOYEE,
        teams=[personas.team],
    )
    Membership.objects.create(
        user=person, organization=personas.other_organization, role=Role.EMPLOYEE
    )
    person.teams.add(personas.other_team)
    give_points(in_organization(person, personas.organization), HOME_POINTS, key="home-gift")
    give_points(in_organization(person, personas.other_organization), OTHER_POINTS, key="gift")
    return person


def token_client(user: User, organization: str | None = None) -> APIClient:
    _instance, token = api_token_issue(user=user)
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if organization is not None:
        headers["HTTP_X_ORGANIZATION"] = organization
    client.credentials(**headers)
    return client


def switch(client, organization: Organization):
    response = client.post("/organizations/switch/", {"organization": organization.pk})
    assert response.status_code == 302
    return response


def totals(user: User) -> dict[int, tuple[int, int]]:
    return {
        score.organization_id: (score.lifetime_points, score.spendable_points)
        for score in Score.objects.filter(user=user)
    }


def test_a_person_in_two_organisations_has_a_total_in_each(personas, agent):
    assert totals(agent) == {
        personas.organization.pk: (HOME_POINTS, HOME_POINTS),
        personas.other_organization.pk: (OTHER_POINTS, OTHER_POINTS),
    }
    # The ledger agrees, organisation by organisation.
    for organization_id, (lifetime, _spendable) in totals(agent).items():
        entries = PointEntry.objects.filter(user=agent, organization_id=organization_id)
        assert sum(entry.points for entry in entries) == lifetime


def test_one_row_per_person_and_organisation(personas, agent):
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(user=agent, organization=personas.other_organization)


def test_a_share_counts_streaks_and_badges_in_its_organisation_only(
    personas, agent, django_capture_on_commit_callbacks
):
    share = make_share(in_organization(agent, personas.other_organization))
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
    other = Score.objects.get(user=agent, organization=personas.other_organization)
    home = Score.objects.get(user=agent, organization=personas.organization)
    assert (other.share_count, other.current_streak_weeks) == (1, 1)
    assert (home.share_count, home.current_streak_weeks) == (0, 0)
    assert list(BadgeAward.objects.filter(user=agent).values_list("organization_id", "badge")) == [
        (personas.other_organization.pk, "first_share")
    ]
    # The first share at home earns home's own first-share badge.
    share = make_share(in_organization(agent, personas.organization))
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
    home.refresh_from_db()
    assert home.share_count == 1
    assert set(
        BadgeAward.objects.filter(user=agent, badge="first_share").values_list(
            "organization_id", flat=True
        )
    ) == {personas.organization.pk, personas.other_organization.pk}


def test_the_points_pages_show_the_active_organisations_points(personas, agent):
    client = client_for(agent)
    for url in ("/me/points/", "/me/"):
        page = client.get(url).content.decode()
        assert f'<span class="stat-value">{HOME_POINTS}</span>' in page, url
        assert f'<span class="stat-value">{OTHER_POINTS}</span>' not in page, url

    switch(client, personas.other_organization)
    for url in ("/me/points/", "/me/"):
        page = client.get(url).content.decode()
        assert f'<span class="stat-value">{OTHER_POINTS}</span>' in page, url
        assert f'<span class="stat-value">{HOME_POINTS}</span>' not in page, url


def test_each_organisations_leaderboard_ranks_its_own_points(personas, agent):
    give_points(personas.outsider, 100, key="outsider-gift")
    give_points(personas.teammate, 20, key="teammate-gift")
    client = client_for(agent)
    page = client.get("/leaderboard/").content.decode()
    assert "#1" in page and f"{HOME_POINTS} points" in page

    switch(client, personas.other_organization)
    page = client.get("/leaderboard/").content.decode()
    assert "#2" in page and f"{OTHER_POINTS} points" in page
    assert f"{HOME_POINTS} points" not in page


def test_the_api_answers_for_the_organisation_chosen(personas, agent):
    give_points(personas.outsider, 100, key="outsider-gift")
    home = token_client(agent).get("/api/v1/me/points/").json()
    assert (home["lifetime_points"], home["spendable_points"]) == (HOME_POINTS, HOME_POINTS)
    assert home["rank"] == {"rank": 1, "points": HOME_POINTS}
    assert [row["points"] for row in home["history"]["results"]] == [HOME_POINTS]

    other = token_client(agent, "other").get("/api/v1/me/points/").json()
    assert (other["lifetime_points"], other["spendable_points"]) == (OTHER_POINTS, OTHER_POINTS)
    assert other["rank"] == {"rank": 2, "points": OTHER_POINTS}
    assert [row["points"] for row in other["history"]["results"]] == [OTHER_POINTS]

    board = token_client(agent, "other").get("/api/v1/leaderboards/").json()
    assert [(row["id"], row["points"]) for row in board["results"]] == [
        (personas.outsider.pk, 100),
        (agent.pk, OTHER_POINTS),
    ]
    board = token_client(agent).get("/api/v1/leaderboards/").json()
    assert [(row["id"], row["points"]) for row in board["results"]] == [(agent.pk, HOME_POINTS)]


def test_hiding_from_rankings_is_chosen_in_each_organisation(personas, agent):
    give_points(personas.outsider, 100, key="outsider-gift")
    points_hide_from_rankings(user=in_organization(agent, personas.other_organization), hidden=True)
    assert not Score.objects.get(
        user=agent, organization=personas.organization
    ).hidden_from_rankings

    other = token_client(agent, "other").get("/api/v1/leaderboards/").json()
    assert [row["id"] for row in other["results"]] == [personas.outsider.pk]
    assert other["hidden"] is True
    home = token_client(agent).get("/api/v1/leaderboards/").json()
    assert [row["id"] for row in home["results"]] == [agent.pk]
    assert home["hidden"] is False

    response = token_client(agent).patch(
        "/api/v1/me/points/", {"hidden_from_rankings": True}, format="json"
    )
    assert response.status_code == 200
    hidden = dict(
        Score.objects.filter(user=agent).values_list("organization_id", "hidden_from_rankings")
    )
    assert hidden == {personas.organization.pk: True, personas.other_organization.pk: True}


def test_a_reward_is_paid_from_the_active_organisations_points(personas, agent):
    cheap = make_reward(personas.other_organization, title="Agency mug", cost=50)
    dear = make_reward(personas.other_organization, title="Agency day off", cost=100)
    client = client_for(agent)
    switch(client, personas.other_organization)
    assert f"{OTHER_POINTS}" in client.get("/rewards/").content.decode()

    # 137 points at home do not pay for a reward of Other Corp's.
    response = client.post(f"/rewards/{dear.pk}/redeem/", follow=True)
    assert response.status_code == 200
    assert not dear.redemptions.exists()
    assert totals(agent)[personas.other_organization.pk] == (OTHER_POINTS, OTHER_POINTS)

    response = client.post(f"/rewards/{cheap.pk}/redeem/")
    assert response.status_code == 302 and response["Location"] == "/rewards/mine/"
    assert totals(agent) == {
        personas.organization.pk: (HOME_POINTS, HOME_POINTS),
        personas.other_organization.pk: (OTHER_POINTS, OTHER_POINTS - 50),
    }
    spend = PointEntry.objects.get(user=agent, reason="redemption")
    assert spend.organization_id == personas.other_organization.pk

    # Refused by Other Corp's admin: the points come back in Other Corp, not at home.
    redemption = agent.redemptions.get()
    reward_services.redemption_refuse(actor=personas.outsider, redemption=redemption)
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.REFUSED
    assert totals(agent) == {
        personas.organization.pk: (HOME_POINTS, HOME_POINTS),
        personas.other_organization.pk: (OTHER_POINTS, OTHER_POINTS),
    }


def test_the_export_lists_every_score_of_the_person(
    personas, agent, django_capture_on_commit_callbacks
):
    import io
    import zipfile

    from django.core.files.storage import default_storage

    from privacy.services.exports import data_export_build, data_export_request

    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=agent)
    export = data_export_build(export_id=export.pk)
    with default_storage.open(export.file.name, "rb") as handle:
        bundle = zipfile.ZipFile(io.BytesIO(handle.read()))
    rows = json.loads(bundle.read("score.json"))
    assert sorted((row["organization_id"], row["lifetime_points"]) for row in rows) == sorted(
        [(personas.organization.pk, HOME_POINTS), (personas.other_organization.pk, OTHER_POINTS)]
    )


def test_a_challenge_pays_a_member_in_the_challenges_organisation(personas, agent):
    """A member through a Membership takes part in the organisation's challenges, is
    ranked on what they earned there only, and is paid there."""
    now = timezone.now()
    challenge = make_challenge(
        personas.other_organization,
        metric="points",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(minutes=1),
        winners_count=1,
        bonus_points=30,
    )
    yesterday = now - timedelta(days=1)
    there = in_organization(agent, personas.other_organization)
    give_points(there, 20, key="challenge-agent", at=yesterday)
    give_points(personas.outsider, 10, key="challenge-outsider", at=yesterday)
    # Points earned at home during the challenge do not count in Other Corp's.
    give_points(in_organization(agent, personas.organization), 500, key="home", at=yesterday)

    campaign_services.challenges_advance()

    winner = challenge.results.get(is_winner=True)
    assert winner.user_id == agent.pk
    assert totals(agent) == {
        personas.organization.pk: (HOME_POINTS + 500, HOME_POINTS + 500),
        personas.other_organization.pk: (OTHER_POINTS + 20 + 30, OTHER_POINTS + 20 + 30),
    }
    bonus = PointEntry.objects.get(user=agent, reason="challenge_bonus")
    assert bonus.organization_id == personas.other_organization.pk
    badge = BadgeAward.objects.get(user=agent, badge="challenge_winner")
    assert badge.organization_id == personas.other_organization.pk


def test_levels_are_reached_and_announced_in_each_organisation(personas):
    from challenges.models import Level
    from notifications.models import Notification

    Level.objects.create(
        organization=personas.other_organization, threshold=50, name_en="Voice", name_fr="Voix"
    )
    Level.objects.create(
        organization=personas.organization, threshold=100, name_en="Echo", name_fr="Écho"
    )
    person = UserFactory(organization=personas.organization, role=Role.EMPLOYEE, language="en")
    Membership.objects.create(
        user=person, organization=personas.other_organization, role=Role.EMPLOYEE
    )
    give_points(in_organization(person, personas.other_organization), 60, key="there")
    give_points(in_organization(person, personas.organization), 60, key="home")
    levels = dict(
        Score.objects.filter(user=person).values_list("organization_id", "level_threshold")
    )
    # 60 points reach Other Corp's first level, not Acme's (at 100).
    assert levels == {personas.other_organization.pk: 50, personas.organization.pk: 0}
    titles = list(
        Notification.objects.filter(recipient=person, kind="challenges.level_up").values_list(
            "title", flat=True
        )
    )
    assert titles == ["You reached a new level: Voice"]

    give_points(in_organization(person, personas.organization), 40, key="home-more")
    assert Score.objects.get(user=person, organization=personas.organization).level_threshold == 100
    assert Notification.objects.filter(recipient=person, kind="challenges.level_up").count() == 2


def test_leaving_the_programme_hides_in_every_organisation_and_joining_restores(personas, agent):
    from privacy.services.participation import participation_join, participation_leave

    there = in_organization(agent, personas.other_organization)
    points_hide_from_rankings(user=there, hidden=True)
    participation_join(user=there, charter_version=1)

    participation_leave(user=in_organization(agent, personas.organization), erase=False)

    def hidden() -> dict[int, bool]:
        return dict(
            Score.objects.filter(user=agent).values_list("organization_id", "hidden_from_rankings")
        )

    assert hidden() == {personas.organization.pk: True, personas.other_organization.pk: True}
    participation_join(user=in_organization(agent, personas.organization), charter_version=1)
    # Each organisation's choice from before leaving: listed at home, hidden in Other Corp.
    assert hidden() == {personas.organization.pk: False, personas.other_organization.pk: True}
