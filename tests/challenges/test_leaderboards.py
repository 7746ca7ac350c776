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
    # Minus the points, members zero-padded, and the marker of a built set last.
    assert stored[-1] == (b"~", float("inf"))
    assert {int(m): -int(s) for m, s in stored[:-1]} == dict(
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
    # The page ignores the foreign team (with a message) and never names it.
    assert page.status_code == 200 and page.context["board"].team is None
    assert personas.other_team.name not in page.content.decode()


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
    page = client_for(personas.teammate).get(reverse("leaderboard"), {"board": "galaxy"})
    assert page.status_code == 200 and page.context["board"].board == "organisation"


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


# --- Redis reads only the page, the count and the caller's window -------------------------


def _view(board: selectors.Leaderboard) -> dict:
    def rows(standings) -> list[tuple[int, int, float, bool]]:
        return [(s.rank, s.key, s.points, s.is_me) for s in standings]

    me = board.me and (board.me.rank, board.me.key, board.me.points)
    return {
        "count": len(board.rows),
        "rows": rows(board.rows),
        "me": me,
        "neighbours": rows(board.neighbours),
        "hidden": board.hidden,
    }


@pytest.fixture
def ladder(personas):
    """Eleven people with runs of ties; the returned list is in ranking order."""
    org = personas.organization
    points = [50, 40, 40, 40, 30, 30, 20, 10, 10, 10, 5]
    users = [UserFactory(organization=org) for _ in points]
    with time_machine.travel(NOW, tick=False):
        for index, (user, amount) in enumerate(zip(users, points, strict=True)):
            _award(user, amount, f"ladder{index}")
    return users


def test_pages_cut_through_ties_and_keep_the_database_ranks(personas, ladder, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    from_redis, from_database = _both(ladder[5])
    whole = _view(from_database)["rows"]
    assert [rank for rank, *_ in whole] == [1, 2, 2, 2, 5, 5, 7, 8, 8, 8, 11]
    with time_machine.travel(NOW, tick=False):
        for size in (2, 3, 4):
            pages = [from_redis.rows[i : i + size] for i in range(0, len(ladder), size)]
            assert [(s.rank, s.key, s.points, s.is_me) for p in pages for s in p] == whole
        # Page 2 of 3 starts inside the 40-point tie: its first row is ranked 2, not 4.
        assert (from_redis.rows[3].rank, from_redis.rows[3].points) == (2, 40)
        assert from_redis.rows[-1].rank == 11 and from_redis.rows[20:30] == []
    assert from_redis.source == "redis"


@pytest.mark.parametrize(
    ("index", "ranks"),
    [(0, [1, 2, 2]), (1, [1, 2, 2, 2]), (10, [8, 8, 11]), (8, [7, 8, 8, 8, 11])],
    ids=["top", "second", "bottom", "inside-a-tie"],
)
def test_neighbours_at_the_top_and_the_bottom_agree(personas, ladder, settings, index, ranks):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    from_redis, from_database = _both(ladder[index])
    assert _view(from_redis) == _view(from_database)
    assert [s.rank for s in from_redis.neighbours] == ranks
    assert [s.key for s in from_redis.neighbours if s.is_me] == [ladder[index].pk]


def test_a_hidden_caller_stands_where_they_would_if_listed(personas, ladder, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    tied = ladder[2]  # 40 points, between two other people with 40
    points_hide_from_rankings(user=tied, hidden=True)
    from_redis, from_database = _both(tied)
    assert _view(from_redis) == _view(from_database)
    assert tied.pk not in [s.key for s in from_redis.rows]
    assert [s.rank for s in from_redis.rows][:5] == [1, 2, 2, 4, 4]
    assert (from_redis.hidden, from_redis.me.rank, from_redis.me.points) == (True, 2, 40)
    assert [s.key for s in from_redis.neighbours] == [p.pk for p in ladder[0:5]]
    # Hidden at the bottom: nobody after them.
    points_hide_from_rankings(user=ladder[10], hidden=True)
    from_redis, from_database = _both(ladder[10])
    assert _view(from_redis) == _view(from_database)
    assert [s.rank for s in from_redis.neighbours] == [7, 7, 10]


def test_an_empty_board_is_empty_in_both(personas, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    from_redis, from_database = _both(personas.teammate, period="week")
    assert _view(from_redis) == _view(from_database)
    assert _view(from_redis) == {
        "count": 0,
        "rows": [],
        "me": None,
        "neighbours": [],
        "hidden": False,
    }
    assert from_redis.source == "redis"


def test_redis_down_in_the_middle_of_a_request_gives_the_database_page(personas, ladder, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    _redis, from_database = _both(ladder[4])
    with time_machine.travel(NOW, tick=False):
        board = selectors.leaderboard_for(ladder[4])  # the caller's window from Redis
        assert board.source == "redis"
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # then Redis goes away
        page = board.rows[3:8]
    assert board.source == "database"
    assert page == from_database.rows[3:8]
    assert _view(board) == _view(from_database)


def test_increments_of_hidden_people_and_back_to_zero_keep_both_equal(
    personas, ladder, settings, django_capture_on_commit_callbacks
):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    hidden, gone = ladder[3], ladder[10]
    points_hide_from_rankings(user=hidden, hidden=True)
    with time_machine.travel(NOW, tick=False):
        selectors.leaderboard_for(hidden)  # builds the sets
        with django_capture_on_commit_callbacks(execute=True):
            _award(hidden, 100, "hidden-more")
            points_reverse(source_key="ladder10", reversal_key="back-to-zero")
    from_redis, from_database = _both(hidden)
    assert _view(from_redis) == _view(from_database)
    assert hidden.pk not in [s.key for s in from_redis.rows]
    assert gone.pk not in [s.key for s in from_redis.rows]
    assert (from_redis.me.rank, from_redis.me.points) == (1, 140)
    assert len(from_redis.rows) == 9


def test_a_deactivated_person_leaves_the_redis_board(personas, ladder, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    with time_machine.travel(NOW, tick=False):
        selectors.leaderboard_for(ladder[1])  # builds the sets
    ladder[0].is_active = False
    ladder[0].save()
    from_redis, from_database = _both(ladder[1])
    assert _view(from_redis) == _view(from_database)
    assert from_redis.rows[0].key == ladder[1].pk


def test_the_api_second_page_starts_with_the_right_rank(personas, settings):
    org = personas.organization
    with time_machine.travel(NOW, tick=False):
        for index in range(55):  # 47 distinct scores, then 8 people tied on 1 point
            _award(UserFactory(organization=org), max(1, 48 - index), f"p{index}")
        client = api_client_for(personas.teammate)
        first = client.get(reverse("api_leaderboards")).json()
        second = client.get(reverse("api_leaderboards"), {"page": 2}).json()
    assert first["count"] == 55 and len(second["results"]) == 5
    assert [row["rank"] for row in first["results"][-3:]] == [48, 48, 48]
    assert [row["rank"] for row in second["results"]] == [48] * 5
    assert second["previous"] and second["next"] is None


def test_a_team_people_board_agrees_with_hidden_members(personas, people, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    a, b, _c, _d = people
    loner = UserFactory(organization=personas.organization)
    _award(loner, 99, "loner")
    points_hide_from_rankings(user=a, hidden=True)
    for caller in (a, b):
        from_redis, from_database = _both(caller, team_id=personas.team.pk)
        assert from_redis.source == "redis"
        assert _view(from_redis) == _view(from_database)
        assert {s.key for s in from_redis.rows}.isdisjoint({a.pk, loner.pk})
    assert (from_redis.me.rank, _view(_both(a, team_id=personas.team.pk)[0])["me"][0]) == (1, 1)
