"""The caller's points: the profile section on /me/, the history page, the privacy toggle,
and /api/v1/me/points/; scoped to the caller, paginated, with bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Score
from challenges.services.badges import badge_award
from challenges.services.points import points_award, points_spend
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db


def _history(user, count: int) -> None:
    start = timezone.now() - timedelta(days=count)
    for index in range(count):
        points_award(
            user=user,
            reason="share_published",
            points=10,
            source_key=f"share:{user.pk}:{index}",
            occurred_at=start + timedelta(days=index),
        )


def test_the_profile_shows_points_level_badges_streak_and_rank(personas):
    user = personas.teammate
    _history(user, 6)  # 60 points: Messenger, six daily shares
    points_spend(user=user, points=15, source_key="redeem:1")
    badge_award(user=user, badge="challenge_winner", key="cw:1", awarded_at=timezone.now())
    response = client_for(user).get(reverse("profile"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "My points" in body
    assert ">60<" in body and ">45<" in body  # lifetime, spendable
    assert "Messenger" in body and "90 points to Relay" in body
    assert "First share" in body and "Challenge winner" in body
    assert "#1" in body
    assert reverse("points_history") in body


def test_the_profile_section_costs_a_bounded_number_of_queries(
    personas, django_assert_max_num_queries
):
    _history(personas.teammate, 30)
    client = client_for(personas.teammate)
    client.get(reverse("profile"))
    # The profile page's own queries plus a fixed number for the points section.
    with django_assert_max_num_queries(25):
        response = client.get(reverse("profile"))
    assert response.status_code == 200


def test_the_history_is_paginated_and_only_the_caller_s(personas):
    _history(personas.teammate, 25)
    _history(personas.owner, 3)
    client = client_for(personas.teammate)
    first = client.get(reverse("points_history"))
    second = client.get(reverse("points_history"), {"page": 2})
    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 5
    owners = {e.user_id for e in first.context["page"].object_list}
    owners |= {e.user_id for e in second.context["page"].object_list}
    assert owners == {personas.teammate.pk}
    assert "Share published" in first.content.decode()


def test_an_empty_history_invites_to_share(personas):
    response = client_for(personas.teammate).get(reverse("points_history"))
    assert response.status_code == 200
    assert "No points yet" in response.content.decode()


def test_the_privacy_toggle_hides_and_shows_the_employee(personas):
    client = client_for(personas.teammate)
    response = client.post(reverse("points_privacy"), {"hidden": "on", "next": "/me/"})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert Score.objects.get(user=personas.teammate).hidden_from_rankings is True
    client.post(reverse("points_privacy"), {"next": "https://evil.example/"})
    assert Score.objects.get(user=personas.teammate).hidden_from_rankings is False
    assert client.get(reverse("points_privacy")).status_code == 405


def test_pages_need_a_signed_in_member(client):
    for name in ("points_history", "leaderboard"):
        assert client.get(reverse(name)).status_code == 302
    assert client.post(reverse("points_privacy"), {"hidden": "on"}).status_code == 302


# --- API ----------------------------------------------------------------------------------


def test_the_api_gives_totals_level_badges_streak_rank_and_history(personas):
    user = personas.teammate
    _history(user, 25)
    points_spend(user=user, points=50, source_key="redeem:1")
    body = api_client_for(user).get(reverse("api_my_points"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["lifetime_points"], body["spendable_points"]) == (250, 200)
    assert body["level"]["current"]["name"] == "Relay"
    assert body["level"]["next"] == {"threshold": 400, "name": "Ambassador"}
    assert [b["badge"] for b in body["badges"]] == ["first_share", "shares_10", "streak_4_weeks"]
    assert body["longest_streak_weeks"] >= 4
    assert body["rank"] == {"rank": 1, "points": 250.0}
    history = body["history"]
    assert history["count"] == 26 and len(history["results"]) == 20
    assert history["results"][0]["reason"] == "redemption"
    assert history["results"][0]["spendable_delta"] == -50
    second = api_client_for(user).get(history["next"]).json()
    assert len(second["history"]["results"]) == 6


def test_the_api_privacy_switch_and_its_validation(personas):
    client = api_client_for(personas.teammate)
    answer = client.patch(reverse("api_my_points"), {"hidden_from_rankings": True}, format="json")
    assert answer.status_code == 200 and answer.json()["hidden_from_rankings"] is True
    bad = client.patch(reverse("api_my_points"), {"hidden_from_rankings": "maybe"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "hidden_from_rankings"
    assert Score.objects.get(user=personas.teammate).hidden_from_rankings is True
    assert client.get(reverse("api_my_points"), {"page": 5}).status_code == 404


def test_the_api_shows_only_the_caller_s_points(personas):
    _history(personas.teammate, 3)
    outsider = api_client_for(personas.outsider).get(reverse("api_my_points")).json()
    assert outsider["lifetime_points"] == 0 and outsider["history"]["count"] == 0
    assert outsider["rank"] is None


def test_the_api_costs_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    _history(personas.teammate, 40)
    client = api_client_for(personas.teammate)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api_my_points"))
    assert response.status_code == 200


def test_an_account_without_organisation_is_refused(db):
    from tests.factories import UserFactory

    loner = UserFactory(organization=None)
    assert api_client_for(loner).get(reverse("api_my_points")).status_code == 403
    assert client_for(loner).get(reverse("points_history")).status_code == 404
