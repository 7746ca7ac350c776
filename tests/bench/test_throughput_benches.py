"""The publishing and fan-out benchmarks at a tiny scale, each in a process of its own as
it is run by hand: they run, check what they must and write their report. Never their
speed (measurements live in bench/results)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres")
    or not os.environ.get("REDIS_URL", "").startswith("redis"),
    reason="the benchmarks need PostgreSQL and Redis",
)


def _server_url() -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))


def _redis_url() -> str:
    # A database of its own: the test suite flushes REDIS_URL's before each test.
    return urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path="/11"))


def _bench(module: str, tmp_path: Path, *args: str) -> dict:
    # A session of its own: at the deadline the benchmark's fake and worker are stopped too.
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--server-url", _server_url(), "--redis-url",
         _redis_url(), "--results", str(tmp_path), "--name", "smoke", *args],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        _stop_session(process.pid)
        raise
    # Exit status 1 means a target was missed: at this scale that says nothing.
    assert process.returncode in (0, 1), output
    assert (tmp_path / "smoke.md").read_text().startswith("# ")
    return json.loads((tmp_path / "smoke.json").read_text())


def _stop_session(session_id: int) -> None:
    """Stop the benchmark and every process it started (each in a group of its own)."""
    for pid in map(int, filter(None, subprocess.run(
        ["ps", "-o", "pid=", "-s", str(session_id)], capture_output=True, text=True
    ).stdout.split())):  # fmt: skip
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in map(int, filter(None, subprocess.run(
        ["pgrep", "-f", f"bench-publishing-{session_id}"], capture_output=True, text=True
    ).stdout.split())):  # fmt: skip
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _leftover_databases(label: str) -> list[str]:
    import psycopg2

    connection = psycopg2.connect(_server_url())
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [f"portevoix_bench_{label}_%"],
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def test_publishing_bench_publishes_each_share_once_and_reports(tmp_path):
    before = set(_leftover_databases("publishing"))
    results = _bench(
        "bench.publishing", tmp_path,
        "--shares", "20", "--latency-ms", "10", "--concurrency", "4", "--per-account", "5",
    )  # fmt: skip
    check = results["check"]
    assert (check["shares"], check["published"], check["posts_received"]) == (20, 20, 20)
    assert (check["duplicates"], check["lost"]) == (0, 0)
    assert check["database_agrees"] is True
    assert results["theoretical_limit_s"] == pytest.approx(20 * 0.010 / 4)
    assert results["limit_from"] == "latency ÷ concurrency"
    assert results["wall_s"] > 0 and results["ratio"] > 0
    assert results["profile_in_process"]["queries_per_share"] > 0
    assert results["sweeper_during_run"]["queries"] > 0
    assert results["celery_worker_rss_mb"]["main"] > 0
    # Its database was dropped.
    assert set(_leftover_databases("publishing")) == before


def test_the_limit_includes_the_rate_limits_when_they_bind():
    from bench.publishing import _limit_bound

    # Three shares per account at two a second: the second window opens after 1 s.
    assert _limit_bound(6, 3, "2/1", "1000/60") == 1.0
    # 10,000 shares at 600 a minute for the app: 16 more windows after the first.
    assert _limit_bound(10_000, 10, "30/60", "600/60") == 16 * 60.0
    assert _limit_bound(10_000, 10, "30/60", "1000000/60") == 0.0


def test_fanout_bench_counts_rows_queries_and_batched_tasks(tmp_path):
    results = _bench("bench.fanout", tmp_path, "--people", "50", "--legacy-people", "10")
    bulk, loop = results["scenarios"]["bulk"], results["scenarios"]["per_person_loop"]
    assert bulk["notification_rows"] == 50 and loop["notification_rows"] == 10
    # 49 active people, 5 of whom turned the email off: 44 emails in one batch task.
    assert bulk["tasks_enqueued"].get("send_notification_emails") == 1
    assert "send_notification_email" not in bulk["tasks_enqueued"]
    assert loop["tasks_enqueued"]["send_notification_email"] > 1
    assert bulk["queries"] < loop["queries"]
    assert results["projected_seconds_for_10000"] > 0
