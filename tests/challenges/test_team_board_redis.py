"""The team board from Redis: per-team sorted sets moved with each entry in the same
script as the person's score, equal to the database's answer (tree, hidden people,
corrections, half-up rounding), rebuilt when memberships change, and read without
touching the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from challenges import points_selectors as selectors
from challenges.services.points import points_award, points_hide_from_rankings, points_reverse
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _needs_redis(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")


def _award(user, points, key):
    return points_award(
        user=user, reason="adjustment", points=points, source_key=key, occurred_at=NOW
    )


def _rows(board):
    return [(r.rank, r.key, r.points, r.name, r.members, r.is_me) for r in board.rows]


def _both(user, settings, **kwargs):
    with time_machine.travel(NOW, tick=False):
        from_redis = selectors.leaderboard_for(user, board=selectors.BOARD_TEAMS, **kwargs)
        url, settings.REDIS_URL = settings.REDIS_URL, ""
        try:
            from_database = selectors.leaderboard_for(user, board=selectors.BOARD_TEAMS, **kwargs)
        finally:
            settings.REDIS_URL = url
    return from_redis, from_database


@pytest.fixture
def tree(personas):
    org = personas.organization
    sales = TeamFactory(organization=org, name="Sales")
    paris = TeamFactory(organization=org, name="Paris", parent=sales)
    lyon = TeamFactory(organization=org, name="Lyon", parent=sales)
    tech = TeamFactory(organization=org, name="Tech")
    p1, p2 = (UserFactory(organization=org, teams=[paris]) for _ in range(2))
    l1 = UserFactory(organization=org, teams=[lyon, tech])
    t1, _t2, _t3 = (UserFactory(organization=org, teams=[tech]) for _ in range(3))
    with time_machine.travel(NOW, tick=False):
        _award(p1, 30, "p1")
        _award(p2, 7, "p2")
        _award(l1, 12, "l1")
        _award(t1, 1, "t1")  # Tech: 13 over 4 members = 3.25 → 3.3 (half up)
    return {"sales": sales, "paris": paris, "lyon": lyon, "tech": tech, "p1": p1, "l1": l1}


@pytest.mark.parametrize("period", ["week", "all"])
def test_the_redis_team_board_gives_the_database_answer(
    personas, tree, settings, period, django_capture_on_commit_callbacks
):
    from_redis, from_database = _both(tree["l1"], settings, period=period)
    assert (from_redis.source, from_database.source) == ("redis", "database")
    assert _rows(from_redis) == _rows(from_database)
    by_name = {row.name: row.points for row in from_redis.rows}
    assert by_name["Tech"] == 3.3 and by_name["Sales › Paris"] == 18.5
    assert [(r.rank, r.key) for r in from_redis.my_teams] == [
        (r.rank, r.key) for r in from_database.my_teams
    ]
    # Moved after commit, in the same script as the person's score: hidden people count
    # for their team, corrections take points away.
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            points_hide_from_rankings(user=tree["p1"], hidden=True)
        selectors.leaderboard_for(tree["l1"], board=selectors.BOARD_TEAMS, period=period)
        with django_capture_on_commit_callbacks(execute=True):
            _award(tree["p1"], 5, "p1-more")
            _award(tree["l1"], 40, "l1-more")
            points_reverse(source_key="p2", reversal_key="rp2")
    from_redis, from_database = _both(tree["l1"], settings, period=period)
    assert from_redis.source == "redis"
    assert _rows(from_redis) == _rows(from_database)
    assert from_redis.rows[0].name == "Sales › Lyon"


def test_a_new_member_rebuilds_the_team_sets(personas, tree, settings):
    before, _database = _both(tree["l1"], settings)
    assert {r.name: r.members for r in before.rows}["Sales"] == 3
    newcomer = UserFactory(organization=personas.organization, teams=[tree["lyon"]])
    with time_machine.travel(NOW, tick=False):
        _award(newcomer, 8, "newcomer")
    after, from_database = _both(tree["l1"], settings)
    assert {r.name: r.members for r in after.rows}["Sales"] == 4
    assert _rows(after) == _rows(from_database)


def test_the_redis_team_board_reads_no_table(personas, tree, django_assert_max_num_queries):
    caller = type(tree["l1"]).objects.select_related("organization").get(pk=tree["l1"].pk)
    with time_machine.travel(NOW, tick=False):
        selectors.leaderboard_for(caller, board=selectors.BOARD_TEAMS)  # builds the sets
        with django_assert_max_num_queries(0):
            board = selectors.leaderboard_for(caller, board=selectors.BOARD_TEAMS)
            page = list(board.rows[0:50])
    assert board.source == "redis" and len(page) == 4
    assert [row.is_me for row in page].count(True) == 3  # Lyon, Sales and Tech
