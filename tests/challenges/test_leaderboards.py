"""Leaderboards: ties, periods in the organisation's time zone, privacy opt-out, team
rankings per member, Redis sets equal to the database's answer (rebuilt, moved
incrementally, and with Redis down), scoping, and bounded queries on the page and API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from challenges import points_selectors as selectors
from challenges.models import Score
from challenges.services import leaderboards
from challenges.services.points import points_award, points_hide_from_rankings, points_reverse
from tests.conftest import api_client_for, client_for, free_port
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def _award(user, points: int, key: str, at: datetime = NOW):
    return points_award(
        user=user, reason="adjustment", points=points, source_key=key, occurred_at=at
    )


def _table(board: selectors.Leaderboard) -> list[tuple[int, int, float]]:
    return [(row.rank, row.key, row.points) for row in board.rows]


@pytest.fixture
def people(personas):
    """Five colleagues with points: two tied at the top."""
    org = personas.organization
    a, b, c, d = (UserFactory(organization=org, teams=[personas.team]) for _ in range(4))
    with time_machine.travel(NOW, tick=False):
        _award(a, 30, "a")
        _award(b, 30, "b")
        _award(c, 10, "c")
        _award(d, 5, "d")
        _award(personas.teammate, 20, "t")
    return a, b, c, d


def test_equal_points_share_a_rank_in_a_stable_order(personas, people):
    a, b, c, d = people
    with time_machine.travel(NOW, tick=False):
        board = selectors.leaderboard_for(personas.teammate)
    first, second = sorted([a.pk, b.pk])
    assert _table(board) == [
        (1, first, 30),
        (1, second, 30),
        (3, personas.teammate.pk, 20),
        (4, c.pk, 10),
        (5, d.pk, 5),
    ]
    assert board.me.rank == 3
    assert [row.key for row in board.neighbours] == [
        first,
        second,
        personas.teammate.pk,
        c.pk,
        d.pk,
    ]


def test_periods_follow_the_organisation_time_zone(personas, people):
    a, _b, _c, _d = people
    # Sunday 15 March 23:30 UTC is Monday 16 March 00:30 in Paris: this week, there.
    _award(a, 7, "late-sunday", datetime(2026, 3, 15, 23, 30, tzinfo=UTC))
    _award(a, 100, "february", datetime(2026, 2, 27, 12, tzinfo=UTC))
    _award(a, 3, "early-sunday", datetime(2026, 3, 15, 22, 30, tzinfo=UTC))  # still last week
    with time_machine.travel(NOW, tick=False):
        week = selectors.leaderboard_for(personas.teammate, period="week")
        month = selectors.leaderboard_for(personas.teammate, period="month")
        ever = selectors.leaderboard_for(personas.teammate, period="all")
    points = {
        name: {r.key: r.points for r in b.rows}[a.pk]
        for name, b in [("week", week), ("month", month), ("all", ever)]
    }
    assert points == {"week": 37, "month": 40, "all": 140}


def test_a_hidden_person_is_left_out_but_sees_their_own_rank(personas, people):
    a, b, c, _d = people
    points_hide_from_rankings(user=a, hidden=True)
    with time_machine.travel(NOW, tick=False):
        others = selectors.leaderboard_for(personas.teammate)
        mine = selectors.leaderboard_for(a)
    assert a.pk not in [row.key for row in others.rows]
    assert [row.rank for row in others.rows] == [1, 2, 3, 4]
    assert others.rows[0].key == b.pk
    assert all(a.pk != row.key for row in others.neighbours)
    assert (mine.hidden, mine.me.rank, mine.me.points) == (True, 1, 30)
    assert a.pk not in [row.key for row in mine.rows]
    # Back in the rankings.
    points_hide_from_rankings(user=a, hidden=False)
    with time_machine.travel(NOW, tick=False):
        assert a.pk in [r.key for r in selectors.leaderboard_for(c).rows]


def test_a_hidden_person_is_not_on_the_page_or_in_the_api(personas, people):
    a, *_ = people
    a.first_name, a.last_name = "Zébulon", "Hidden"
    a.save()
    points_hide_from_rankings(user=a, hidden=True)
    with time_machine.travel(NOW, tick=False):
        page = client_for(personas.teammate).get(reverse("leaderboard"))
        api = api_client_for(personas.teammate).get(reverse("api_leaderboards")).json()
        own = api_client_for(a).get(reverse("api_leaderboards")).json()
    assert "Zébulon" not in page.content.decode()
    assert a.pk not in [row["id"] for row in api["results"]]
    assert (own["hidden"], own["me"]["rank"], own["me"]["id"]) == (True, 1, a.pk)


def test_teams_are_ranked_per_member_so_a_small_team_can_win(personas):
    org = personas.organization
    big = TeamFactory(organization=org, name="Big")
    small = TeamFactory(organization=org, name="Small")
    sub = TeamFactory(organization=org, name="Paris", parent=small)
    trio = [UserFactory(organization=org, teams=[big]) for _ in range(3)]
    solo = UserFactory(organization=org, teams=[sub])
    for index, user in enumerate(trio):
        _award(user, 40, f"big{index}")  # 120 for 3 members: 40 each
    _award(solo, 50, "solo")  # 50 for 1 member (counted in Small through its sub-team)
    UserFactory(organization=org, teams=[big], is_active=False)  # not a member any more
    board = selectors.leaderboard_for(solo, board=selectors.BOARD_TEAMS)
    rows = [(row.rank, row.name, row.points, row.members) for row in board.rows]
    # A sub-team is named with its parent: several departments have a "Paris".
    assert rows == [(1, "Small", 50.0, 1), (1, "Small › Paris", 50.0, 1), (3, "Big", 40.0, 3)]
    assert [row.name for row in board.my_teams] == ["Small", "Small › Paris"]
    below = selectors.leaderboard_for(solo, board=selectors.BOARD_TEAMS, team_id=small.pk)
    assert [row.name for row in below.rows] == ["Small › Paris"]


def test_a_team_filter_narrows_the_people_board(personas, people):
    other_team = TeamFactory(organization=personas.organization, name="Elsewhere")
    loner = UserFactory(organization=personas.organization, teams=[other_team])
    _award(loner, 99, "loner")
    board = selectors.leaderboard_for(personas.teammate, team_id=personas.team.pk)
    assert loner.pk not in [row.key for row in board.rows]
    assert len(board.rows) == 5


# --- Redis and the database agree ---------------------------------------------------------


def _both(user, **kwargs) -> tuple[selectors.Leaderboard, selectors.Leaderboard]:
    from django.conf import settings

    with time_machine.travel(NOW, tick=False):
        from_redis = selectors.leaderboard_for(user, **kwargs)
        url = settings.REDIS_URL
        settings.REDIS_URL = ""
        try:
            from_database = selectors.leaderboard_for(user, **kwargs)
        finally:
            settings.REDIS_URL = url
    return from_redis, from_database


@pytest.mark.parametrize("period", ["week", "month", "all"])
def test_the_rebuilt_redis_set_gives_the_database_answer(personas, people, period, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    _a, b, c, _d = people
    _award(c, 50, "c-old", NOW - timedelta(days=40))
    _award(b, 8, "b-earlier-this-month", NOW - timedelta(days=10))
    points_reverse(source_key="a", reversal_key="ra")
    from_redis, from_database = _both(personas.teammate, period=period)
    assert (from_redis.source, from_database.source) == ("redis", "database")
    assert _table(from_redis) == _table(from_database)
    assert (from_redis.me.rank, from_redis.me.points) == (
        from_database.me.rank,
        from_database.me.points,
    )


def test_increments_after_commit_keep_redis_equal_to_the_database(
    personas, people, settings, django_capture_on_commit_callbacks
):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    _a, _b, _c, d = people
    with time_machine.travel(NOW, tick=False):
        selectors.leaderboard_for(personas.teammate, period="week")  # builds the sets
        selectors.leaderboard_for(personas.teammate, period="all")
        with django_capture_on_commit_callbacks(execute=True):
            _award(d, 60, "d-more")
            points_reverse(source_key="b", reversal_key="rb")
    for period in ("week", "all"):
        from_redis, from_database = _both(personas.teammate, period=period)
        assert from_redis.source == "redis"
        assert _table(from_redis) == _table(from_database)
        assert from_redis.rows[0].key == d.pk


def test_the_rebuild_command_writes_every_set(personas, people, settings):
    from django.core.management import call_command

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    with time_machine.travel(NOW, tick=False):
        call_command("points_leaderboards_rebuild")
        key = leaderboards.leaderboard_key(
            organization_id=personas.organization.pk,
            period="all",
            moment=NOW,
            zone=leaderboards.ZoneInfo("Europe/Paris"),
        )
        stored = leaderboards._client().zrange(key, 0, -1, withscores=True)
    assert {int(m): int(s) for m, s in stored} == dict(
        Score.objects.filter(organization=personas.organization).values_list(
            "user_id", "lifetime_points"
        )
    )


def test_with_redis_down_the_database_answers_the_same(personas, people, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    with time_machine.travel(NOW, tick=False):
        healthy = selectors.leaderboard_for(personas.teammate, period="month")
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens
        down = selectors.leaderboard_for(personas.teammate, period="month")
        response = api_client_for(personas.teammate).get(reverse("api_leaderboards"))
    assert (healthy.source, down.source) == ("redis", "database")
    assert _table(healthy) == _table(down)
    assert response.status_code == 200
    assert response.json()["source"] == "database"


# --- scoping, input and queries -----------------------------------------------------------


def test_another_organisation_never_appears_and_its_team_is_a_404(personas, people):
    _award(personas.outsider, 1000, "outsider")
    with time_machine.travel(NOW, tick=False):
        board = selectors.leaderboard_for(personas.teammate)
        outsider_view = api_client_for(personas.outsider).get(reverse("api_leaderboards")).json()
    assert personas.outsider.pk not in [row.key for row in board.rows]
    assert [row["id"] for row in outsider_view["results"]] == [personas.outsider.pk]
    client = api_client_for(personas.teammate)
    answer = client.get(reverse("api_leaderboards"), {"team": personas.other_team.pk})
    assert answer.status_code == 404
    page = client_for(personas.teammate).get(
        reverse("leaderboard"), {"team": personas.other_team.pk}
    )
    assert page.status_code == 404


def test_bad_filters_get_a_problem_naming_the_field(personas):
    response = api_client_for(personas.teammate).get(
        reverse("api_leaderboards"), {"period": "decade"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "period"
    assert (
        api_client_for(personas.teammate).get(reverse("api_leaderboards"), {"page": 99}).status_code
        == 404
    )
    assert (
        client_for(personas.teammate).get(reverse("leaderboard"), {"board": "galaxy"}).status_code
        == 404
    )


def test_anonymous_callers_are_refused(client):
    assert client.get(reverse("leaderboard")).status_code == 302
    from rest_framework.test import APIClient

    assert APIClient().get(reverse("api_leaderboards")).status_code in (401, 403)


def test_the_empty_leaderboard_invites_to_share(personas):
    response = client_for(personas.teammate).get(reverse("leaderboard"))
    assert response.status_code == 200
    assert "No points yet" in response.content.decode()


def _crowd(personas, count: int) -> None:
    org = personas.organization
    teams = [TeamFactory(organization=org) for _ in range(4)]
    for index in range(count):
        user = UserFactory(organization=org, teams=[teams[index % 4]])
        _award(user, index + 1, f"crowd{index}")
    _award(personas.teammate, 3, "me")


@pytest.mark.parametrize("board", ["organisation", "team"])
def test_the_page_costs_the_same_queries_for_10_or_60_people(
    personas, board, django_assert_max_num_queries
):
    _crowd(personas, 10)
    client = client_for(personas.teammate)
    with django_assert_max_num_queries(14):
        small = client.get(reverse("leaderboard"), {"board": board})
    _crowd_more = [UserFactory(organization=personas.organization) for _ in range(50)]
    for index, user in enumerate(_crowd_more):
        _award(user, 100 + index, f"more{index}")
    with django_assert_max_num_queries(14):
        large = client.get(reverse("leaderboard"), {"board": board, "page": 2})
    assert small.status_code == large.status_code == 200


def test_the_api_costs_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        _crowd(personas, 60)
        client = api_client_for(personas.teammate)
        with django_assert_max_num_queries(8):
            response = client.get(reverse("api_leaderboards"), {"period": "week"})
    body = response.json()
    assert body["count"] == 61 and len(body["results"]) == 50
    assert body["next"] and body["me"]["id"] == personas.teammate.pk
    assert len(body["neighbours"]) == 5
    with django_assert_max_num_queries(8):
        teams = client.get(reverse("api_leaderboards"), {"board": "team"})
    assert teams.json()["results"][0]["members"] >= 1
