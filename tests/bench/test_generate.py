"""The data generator at its tiny scale, in throw-away databases: counts, the model's
invariants, determinism, and its refusals. It checks that the generator works, never how
fast (measurements live in bench/results)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.test import RequestFactory

from advocacy.services.clicks import click_ignored_reason
from bench import databases, generate

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the generator writes PostgreSQL databases",
)


def _url(name: str) -> str:
    return databases.Target.parse(os.environ["DATABASE_URL"]).with_name(name).url


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.generate", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=240,
    )


def _generate(name: str, manifest: Path, *extra: str) -> dict:
    done = _run(
        "--scale", "tiny", "--database-url", _url(name), "--manifest", str(manifest), *extra
    )
    assert done.returncode == 0, done.stderr
    return json.loads(manifest.read_text())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    name = f"{databases.PREFIX}test_{os.getpid()}"
    folder = tmp_path_factory.mktemp("generated")
    manifest = _generate(name, folder / "a.json")
    connection = psycopg2.connect(_url(name))
    connection.autocommit = True
    yield name, manifest, connection
    connection.close()
    databases.drop(databases.Target.parse(_url(name)))


def _one(connection, query: str, params: tuple = ()) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def test_tiny_scale_counts(generated):
    _name, manifest, connection = generated
    counts = manifest["counts"]
    size, small = generate.SCALES["tiny"], generate.small_size(generate.SCALES["tiny"])
    assert counts["organizations_organization"] == 1 + generate.SMALL_ORGANIZATIONS
    big = manifest["accounts"]["organization_id"]
    assert _one(
        connection, "SELECT count(*) FROM organizations_user WHERE organization_id = %s", (big,)
    ) == (size.people,)
    assert _one(
        connection, "SELECT count(*) FROM content_content WHERE organization_id = %s", (big,)
    ) == (size.contents,)
    assert counts["advocacy_share"] == size.shares + generate.SMALL_ORGANIZATIONS * small.shares
    expected_clicks = size.clicks + generate.SMALL_ORGANIZATIONS * small.clicks
    assert 0.9 * expected_clicks <= counts["advocacy_click"] <= 1.1 * expected_clicks
    # Every share has its tracked link; every stored click its activity.
    assert counts["advocacy_trackedlink"] == counts["advocacy_share"]
    clicks_recorded = _one(
        connection, "SELECT count(*) FROM advocacy_activity WHERE kind = 'click_recorded'"
    )
    assert clicks_recorded == (counts["advocacy_click"],)
    assert counts["analytics_metricsnapshot"] > 0
    assert counts["analytics_dailyrollup"] > 0
    assert counts["challenges_pointentry"] > counts["advocacy_share"] / 2
    # Five levels of teams under each division, and both languages in the library.
    depth = _one(
        connection,
        """WITH RECURSIVE tree AS (
             SELECT id, 1 AS level FROM organizations_team WHERE parent_id IS NULL
             UNION ALL SELECT t.id, tree.level + 1 FROM organizations_team t
             JOIN tree ON t.parent_id = tree.id)
           SELECT max(level) FROM tree""",
    )
    assert depth == (5,)
    languages = _one(connection, "SELECT count(DISTINCT language) FROM content_content")
    assert languages == (2,)


def test_rows_hold_together_across_organisations(generated):
    _name, _manifest, connection = generated
    mismatched = _one(
        connection,
        """SELECT count(*) FROM advocacy_click c
           JOIN advocacy_share s ON s.id = c.share_id
           JOIN advocacy_trackedlink l ON l.id = c.link_id
           JOIN content_content ct ON ct.id = c.content_id
           JOIN organizations_user u ON u.id = c.sharer_id
           WHERE s.organization_id <> c.organization_id OR l.share_id <> c.share_id
              OR l.organization_id <> c.organization_id OR ct.organization_id <> c.organization_id
              OR u.organization_id <> c.organization_id OR s.user_id <> c.sharer_id
              OR s.content_id <> c.content_id OR s.network <> c.network
              OR c.clicked_at < s.published_at OR s.status <> 'published'""",
    )
    assert mismatched == (0,)
    foreign_shares = _one(
        connection,
        """SELECT count(*) FROM advocacy_share s
           JOIN organizations_user u ON u.id = s.user_id
           JOIN content_content ct ON ct.id = s.content_id
           WHERE u.organization_id <> s.organization_id OR ct.organization_id <> s.organization_id
              OR s.published_at < ct.publish_at""",
    )
    assert foreign_shares == (0,)
    # A click is credited to a team its sharer belongs to.
    wrong_team = _one(
        connection,
        """SELECT count(*) FROM advocacy_click c WHERE c.team_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM organizations_user_teams m
             WHERE m.user_id = c.sharer_id AND m.team_id = c.team_id)""",
    )
    assert wrong_team == (0,)


def test_self_clicks_flagged_and_never_paid(generated):
    _name, _manifest, connection = generated
    self_clicks, total = _one(
        connection, "SELECT count(*) FILTER (WHERE is_self), count(*) FROM advocacy_click"
    )
    assert 0 < self_clicks < total / 10
    paid_self = _one(
        connection,
        """SELECT count(*) FROM advocacy_click c JOIN challenges_pointentry e
           ON e.source_key = 'click:' || c.share_id || ':' || c.visitor WHERE c.is_self""",
    )
    assert paid_self == (0,)
    # The rollups (the product's own job) leave self clicks out, and count every other one.
    in_rollups = _one(connection, "SELECT sum(clicks) FROM analytics_dailyrollup")
    assert in_rollups == (total - self_clicks,)


def test_bots_are_drawn_but_never_stored(generated):
    _name, manifest, _connection = generated
    assert manifest["bot_requests"] > 0
    factory = RequestFactory()
    # The generator's bots are the product's bots; its browsers are people.
    for agent in generate.BOT_AGENTS:
        assert click_ignored_reason(factory.get("/s/x", HTTP_USER_AGENT=agent)) == "bot"
    for agent in generate.HUMAN_AGENTS:
        assert click_ignored_reason(factory.get("/s/x", HTTP_USER_AGENT=agent)) == ""


def test_scores_sequences_and_unique_paid_clicks(generated):
    _name, _manifest, connection = generated
    wrong_scores = _one(
        connection,
        """SELECT count(*) FROM challenges_score s LEFT JOIN (
             SELECT user_id, organization_id, sum(points) AS points FROM challenges_pointentry
             GROUP BY user_id, organization_id
           ) e ON e.user_id = s.user_id AND e.organization_id = s.organization_id WHERE s.lifetime_points <> COALESCE(e.points, 0)""",
    )
    assert wrong_scores == (0,)
    over_cap = _one(
        connection,
        """SELECT count(*) FROM (SELECT share_id, (occurred_at AT TIME ZONE 'Europe/Paris')::date
             FROM challenges_pointentry WHERE reason = 'click'
             GROUP BY 1, 2 HAVING count(*) > %s) t""",
        (generate.CLICK_CAP_PER_SHARE_AND_DAY,),
    )
    assert over_cap == (0,)
    for table in ("advocacy_click", "organizations_user", "challenges_pointentry"):
        last, highest = _one(
            connection,
            f"SELECT (SELECT last_value FROM {table}_id_seq), (SELECT max(id) FROM {table})",  # noqa: S608
        )
        assert last >= highest


def test_two_runs_write_the_same_rows(generated, tmp_path):
    _name, first, _connection = generated
    name = f"{databases.PREFIX}test_{os.getpid()}_again"
    try:
        second = _generate(name, tmp_path / "b.json", "--skip-rollups")
    finally:
        databases.drop(databases.Target.parse(_url(name)))
    first_figures = {
        table: (first["counts"][table], first["checksums"][table])
        for table in first["counts"]
        if table != "analytics_dailyrollup"
    }
    second_figures = {
        table: (second["counts"][table], second["checksums"][table])
        for table in second["counts"]
        if table != "analytics_dailyrollup"
    }
    assert first_figures == second_figures
    assert second["counts"]["analytics_dailyrollup"] == 0


def test_refuses_the_application_database():
    done = _run("--scale", "tiny", "--database-url", os.environ["DATABASE_URL"])
    assert done.returncode == 2
    assert "application's database" in done.stderr


def test_refuses_a_database_it_did_not_write():
    name = f"{databases.PREFIX}test_{os.getpid()}_foreign"
    admin = psycopg2.connect(_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        other = psycopg2.connect(_url(name))
        with other, other.cursor() as cursor:
            cursor.execute("CREATE TABLE precious (id int)")
            cursor.execute("INSERT INTO precious VALUES (1)")
        other.close()
        done = _run("--scale", "tiny", "--database-url", _url(name))
        assert done.returncode == 2
        assert "did not write" in done.stderr
        other = psycopg2.connect(_url(name))
        with other, other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM precious")
            assert cursor.fetchone() == (1,)
        other.close()
        # Nor a database outside the generator's names.
        done = _run("--scale", "tiny", "--database-url", _url("portevoix_not_a_bench"))
        assert done.returncode == 2
        assert "portevoix_bench_" in done.stderr
    finally:
        databases.drop(databases.Target.parse(_url(name)))
        admin.close()
