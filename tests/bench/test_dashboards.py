"""bench.dashboards at the tiny scale, in a throw-away generated database: it runs, times
every scenario, checks the raw-event baseline against the rollups and writes its results.
It never checks how fast (bench/results holds the measurements)."""

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
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the benchmark reads a generated PostgreSQL database",
)
SCENARIOS = {
    f"{name}_{mode}"
    for name in ("api_summary", "api_teams", "page_manager", "page_comms")
    for mode in ("uncached", "cached")
} | {"bare_page", "bare_api", "raw_events_manager", "raw_events_comms"}


def test_dashboards_benchmark_runs_and_reports(tmp_path):
    url = (
        databases.Target.parse(os.environ["DATABASE_URL"])
        .with_name(f"{databases.PREFIX}test_dashboards_{os.getpid()}")
        .url
    )
    command = [
        sys.executable, "-m", "bench.dashboards", "--scale", "tiny", "--database-url", url,
        "--requests", "2", "--rounds", "1", "--out", str(tmp_path),
        "--redis-url", os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/12",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        databases.drop(databases.Target.parse(url))
    result = json.loads((tmp_path / "dashboards.json").read_text())["scales"]["tiny"]
    scenarios = result["scenarios"]
    assert set(scenarios) == SCENARIOS
    assert all(s["p50_ms"] > 0 and s["p95_ms"] >= s["p50_ms"] for s in scenarios.values())
    assert all(isinstance(s["queries"], int) and s["queries"] > 0 for s in scenarios.values())
    # A cached read asks the database less than a computed one.
    assert (
        scenarios["page_manager_cached"]["queries"] < scenarios["page_manager_uncached"]["queries"]
    )
    assert scenarios["api_summary_uncached"]["floor"] == "bare_api"
    assert scenarios["page_comms_cached"]["baseline"] == "raw_events_comms"
    same = result["same_answer"]
    assert same["manager"]["equal"] and same["comms"]["equal"], same
    assert same["cached_equals_uncached"]
    assert result["volume"]["clicks"] > 0 and result["volume"]["rollup_rows"] > 0
    markdown = (tmp_path / "dashboards.md").read_text()
    assert "| page_manager_cached |" in markdown and "## tiny" in markdown
