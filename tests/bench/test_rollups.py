"""bench.rollups at the tiny scale, in a throw-away generated database: it runs, measures
every scenario and writes its results. It never checks how fast (bench/results holds the
measurements)."""

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


def test_rollups_benchmark_runs_and_reports(tmp_path):
    url = (
        databases.Target.parse(os.environ["DATABASE_URL"])
        .with_name(f"{databases.PREFIX}test_rollups_{os.getpid()}")
        .url
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.rollups",
                "--scale",
                "tiny",
                "--database-url",
                url,
                "--rounds",
                "1",
                "--out",
                str(tmp_path),
            ],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        databases.drop(databases.Target.parse(url))
    result = json.loads((tmp_path / "rollups.json").read_text())["scales"]["tiny"]
    assert result["volume"]["clicks"] > 0
    scenarios = result["scenarios"]
    assert set(scenarios) == {
        "bare_read",
        "python_full",
        "sql_full",
        "incremental_nothing_new",
        "incremental_one_hour",
    }
    assert all(s["median_s"] >= 0 and s["rounds"] == 1 for s in scenarios.values())
    assert "rows written" in scenarios["sql_full"]["notes"]
    assert "| sql_full |" in (tmp_path / "rollups.md").read_text()
