"""The challenge-results and leaderboards benchmarks at the tiny scale, on a generated
throw-away database: each runs and reports (JSON and markdown), never how fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import databases

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres")
    or not os.environ.get("REDIS_URL"),
    reason="the benchmarks read a generated PostgreSQL database and use Redis",
)


def _url(name: str) -> str:
    return databases.Target.parse(os.environ["DATABASE_URL"]).with_name(name).url


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    name = f"{databases.PREFIX}test_boards_{os.getpid()}"
    manifest = tmp_path_factory.mktemp("generated") / "manifest.json"
    done = _run(
        "bench.generate",
        "--scale",
        "tiny",
        "--database-url",
        _url(name),
        "--manifest",
        str(manifest),
    )
    assert done.returncode == 0, done.stderr
    yield _url(name)
    databases.drop(databases.Target.parse(_url(name)))


def test_the_challenge_results_benchmark_runs_and_reports(tiny, tmp_path):
    done = _run(
        "bench.challenge_results",
        "--database-url",
        tiny,
        "--redis-url",
        os.environ["REDIS_URL"],
        "--baseline-people",
        "5",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "challenge_results.json").read_text())
    after = results["after"]
    assert after["results_paid"] == results["results"] > 0
    assert after["entries_written"] > 0 and after["statements"] > 0
    assert after["score_totals_moved_by"] == after["points_in_ledger"]
    assert results["rerun_with_claims_undone"]["new_entries"] == 0
    assert results["baseline_one_at_a_time"]["results_paid"] == 5
    assert "| set-based (after) |" in (tmp_path / "challenge_results.md").read_text()
    # It wrote into a copy, dropped afterwards: the generated database has no challenge.
    source = databases.Target.parse(tiny).connect()
    try:
        with source.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM challenges_challenge")
            assert cursor.fetchone() == (0,)
    finally:
        source.close()


def test_the_leaderboards_benchmark_runs_and_reports(tiny, tmp_path):
    done = _run(
        "bench.leaderboards",
        "--database-url",
        tiny,
        "--redis-url",
        os.environ["REDIS_URL"],
        "--rounds",
        "5",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "leaderboards.json").read_text())
    for name in ("people_page", "my_rank_neighbours", "team_board"):
        for source in ("redis", "database"):
            assert results["scenarios"][f"{name}_{source}"]["rounds"] >= 5
    assert results["checks"]["team_board_source"] == "redis"
    assert results["rebuild_all_sets_seconds"] > 0
    assert "| team_board |" in (tmp_path / "leaderboards.md").read_text()
