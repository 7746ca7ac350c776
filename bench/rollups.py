"""Benchmark of the analytics rollup job on a generated scale, against baselines measured
in the same run.

    .venv/bin/python -m bench.rollups --scale small|medium|full [--database-url URL]
        [--rounds 3] [--python-baseline auto|yes|no] [--out bench/results]

It reads the scale's database (`portevoix_bench_<scale>`, generated when missing) and
times, for the large organisation:

- `bare_read`: every raw row the fill aggregates (shares, non-self clicks, snapshots),
  fetched into Python and dropped: the floor of any row-by-row job;
- `python_full` (baseline, the job before issue 14): the old row-by-row job over every
  day, its rows written then rolled back (analytics/services/rollups_portable.py, what SQLite runs); on by
  default up to the small scale, `--python-baseline yes` at medium (minutes);
- `sql_full`: `rollups_fill(rebuild=True)`, every bucket deleted and refilled in SQL;
- `incremental_nothing_new`: `rollups_fill()` with nothing since the watermark;
- `incremental_one_hour`: `rollups_fill()` after one busy hour of traffic (clicks at ten
  times the average hourly rate, and the snapshots of an hour's polling), rolled back
  afterwards so the database is left as it was.

Results: bench/results/rollups.json (one entry per scale) and rollups.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.scale_data import environment, open_scale, write_results

ROOT = Path(__file__).resolve().parent.parent
HOURS_OF_HISTORY = 2 * 365 * 24  # the generator spreads shares over two years
BUSY_HOUR = 10  # a busy hour against the average one


class _Rollback(Exception):
    pass


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _bare_read(org: int) -> int:
    from django.db import connection

    from advocacy.models import Click, Share
    from analytics.models import MetricSnapshot

    count = 0
    with connection.cursor() as cursor:
        for queryset in (
            Share.objects.filter(organization_id=org, published_at__isnull=False).values_list(
                "pk", "user_id", "content_id", "network", "mode", "published_at"
            ),
            Click.objects.filter(organization_id=org, is_self=False).values_list(
                "sharer_id", "content_id", "network", "clicked_at", "visitor"
            ),
            MetricSnapshot.objects.filter(organization_id=org).values_list(
                "share_id", "fetched_at", "impressions", "reactions", "comments", "reshares"
            ),
        ):
            sql, params = queryset.query.sql_with_params()
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(10_000):
                count += len(rows)
    return count


def _python_full(org: int) -> int:
    """The old job over every day, in its 31-day runs: each run computed row by row, its
    buckets deleted and written with bulk_create, as it did; rolled back at the end."""
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from analytics.models import DailyRollup
    from analytics.services.rollups import _chunks, _dirty_days
    from analytics.services.rollups_portable import rollup_rows as python_rollup_rows
    from analytics.services.settings import analytics_settings_get
    from organizations.models import Organization

    organization = Organization.objects.get(pk=org)
    zone = ZoneInfo(organization.time_zone)
    rates = analytics_settings_get(organization_id=org)
    days = _dirty_days(organization, zone, low=None, high=_now())
    written = 0
    with transaction.atomic():
        for chunk in _chunks(days):
            rows = python_rollup_rows(organization, zone, chunk, rates)
            DailyRollup.objects.filter(organization_id=org, day__in=chunk).delete()
            DailyRollup.objects.bulk_create(rows, batch_size=500)
            written += len(rows)
        transaction.set_rollback(True)
    return written


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _one_hour_of_traffic(org: int, clicks: int, snapshots: int) -> tuple[int, int]:
    """Copies of the latest clicks and snapshots, new ids, stamped in the data's last hour
    and recorded now (as the click drain and the poller record them)."""
    from django.db.models import Max

    from advocacy.models import Click
    from analytics.models import MetricSnapshot

    last = Click.objects.filter(organization_id=org).aggregate(at=Max("clicked_at"))["at"]
    new_clicks = []
    for index, click in enumerate(
        Click.objects.filter(organization_id=org).order_by("-clicked_at")[:clicks]
    ):
        click.pk = None
        click.event_id = uuid.uuid4()
        click.visitor = f"bench-hour-{index % 97}"
        click.clicked_at = last - timedelta(seconds=(index * 3600) // max(clicks, 1))
        new_clicks.append(click)
    Click.objects.bulk_create(new_clicks, batch_size=2000)
    new_snapshots = []
    for snapshot in MetricSnapshot.objects.filter(organization_id=org).order_by("-fetched_at")[
        :snapshots
    ]:
        snapshot.pk = None
        snapshot.fetched_at = last
        new_snapshots.append(snapshot)
    MetricSnapshot.objects.bulk_create(new_snapshots, batch_size=2000)
    return len(new_clicks), len(new_snapshots)


def _incremental_one_hour(org: int, clicks: int, snapshots: int) -> tuple[float, int, tuple]:
    from django.db import transaction

    from analytics.services.rollups import rollups_fill

    measured: dict[str, Any] = {}
    try:
        with transaction.atomic():
            measured["added"] = _one_hour_of_traffic(org, clicks, snapshots)
            # As if the next beat came six minutes later: the fill trails the clock by five.
            later = _now() + timedelta(minutes=6)
            measured["seconds"], measured["days"] = _timed(
                lambda: rollups_fill(organization_id=org, now=later)
            )
            raise _Rollback
    except _Rollback:
        pass
    return measured["seconds"], measured["days"], measured["added"]


def run(scale: str, database_url: str | None, rounds: int, python_baseline: str) -> dict:
    manifest = open_scale(scale, database_url)
    from django.db import connection

    from advocacy.models import Click, Share
    from analytics.models import DailyRollup, MetricSnapshot
    from analytics.services.rollups import rollups_fill

    org = manifest["accounts"]["organization_id"]
    volume = {
        "shares": Share.objects.filter(organization_id=org, published_at__isnull=False).count(),
        "clicks": Click.objects.filter(organization_id=org).count(),
        "snapshots": MetricSnapshot.objects.filter(organization_id=org).count(),
    }
    hour_clicks = max(100, volume["clicks"] * BUSY_HOUR // HOURS_OF_HISTORY)
    hour_snapshots = max(20, volume["snapshots"] * BUSY_HOUR // HOURS_OF_HISTORY)
    with_python = python_baseline == "yes" or (
        python_baseline == "auto" and scale in ("tiny", "small")
    )
    names = ["bare_read", "python_full", "sql_full", "incremental_nothing_new"]
    names.append("incremental_one_hour")
    samples: dict[str, list[float]] = {name: [] for name in names}
    notes: dict[str, Any] = {}
    for round_ in range(rounds):
        seconds, rows = _timed(lambda: _bare_read(org))
        samples["bare_read"].append(seconds)
        notes["bare_read"] = f"{rows:,} rows"
        if with_python and (round_ == 0 or scale in ("tiny", "small")):
            seconds, rows = _timed(lambda: _python_full(org))
            samples["python_full"].append(seconds)
            notes["python_full"] = f"{rows:,} rows written (rolled back)"
        seconds, days = _timed(lambda: rollups_fill(organization_id=org, rebuild=True))
        samples["sql_full"].append(seconds)
        rollup_rows = DailyRollup.objects.filter(organization_id=org).count()
        notes["sql_full"] = f"{days} days, {rollup_rows:,} rows written"
        seconds, _days = _timed(lambda: rollups_fill(organization_id=org))
        samples["incremental_nothing_new"].append(seconds)
        seconds, days, added = _incremental_one_hour(org, hour_clicks, hour_snapshots)
        samples["incremental_one_hour"].append(seconds)
        notes["incremental_one_hour"] = f"+{added[0]} clicks, +{added[1]} snapshots, {days} days"
    connection.close()
    bare = statistics.median(samples["bare_read"])
    python = statistics.median(samples["python_full"]) if samples["python_full"] else None
    scenarios = {}
    for name, values in samples.items():
        if not values:
            continue
        median = statistics.median(values)
        scenarios[name] = {
            "rounds": len(values),
            "median_s": round(median, 3),
            "min_s": round(min(values), 3),
            "ratio_to_bare_read": round(median / bare, 2),
            "ratio_to_python_full": round(median / python, 3) if python else None,
            "notes": notes.get(name, ""),
        }
    clicks_per_s = volume["clicks"] / scenarios["sql_full"]["median_s"]
    return {
        "volume": volume,
        "scenarios": scenarios,
        # 10 M clicks at this rate: the full-scale target is 120 s (a linear estimate;
        # measure with --scale full to know).
        "sql_full_clicks_per_second": round(clicks_per_s),
        "sql_full_estimated_10m_clicks_s": round(10_000_000 / clicks_per_s, 1),
        "environment": environment(),
    }


def render(scales: dict[str, dict]) -> str:
    lines = [
        "# Rollup job benchmark",
        "",
        "`python -m bench.rollups --scale <scale>`: the large organisation of the generated",
        "database. Baselines from the same run: `bare_read` (every raw row fetched and",
        "dropped) and `python_full` (the row-by-row Python job this replaced, its writes",
        "rolled back). Targets (full scale): full rebuild of 10 M clicks ≤ 120 s, an",
        "incremental run after one hour of traffic ≤ 5 s.",
        "",
    ]
    for scale, result in scales.items():
        volume = ", ".join(f"{k} {v:,}" for k, v in result["volume"].items())
        env = result["environment"]
        lines += [
            f"## {scale}: {volume}",
            "",
            f"{env['when']}, {env['machine']}, PostgreSQL {env['postgresql']}, "
            f"load average {env['load_average']}",
            "",
            "| scenario | rounds | median s | min s | ÷ bare read | ÷ python | notes |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for name, s in result["scenarios"].items():
            ratio = s["ratio_to_python_full"]
            lines.append(
                f"| {name} | {s['rounds']} | {s['median_s']} | {s['min_s']} | "
                f"{s['ratio_to_bare_read']} | {'' if ratio is None else ratio} | {s['notes']} |"
            )
        lines += [
            "",
            f"SQL rebuild: {result['sql_full_clicks_per_second']:,} clicks/s; 10 M clicks at "
            f"that rate ≈ {result['sql_full_estimated_10m_clicks_s']} s (target 120 s).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["tiny", "small", "medium", "full"], default="small")
    parser.add_argument("--database-url", help="default: postgres://…/portevoix_bench_<scale>")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-baseline", choices=["auto", "yes", "no"], default="auto")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    result = run(args.scale, args.database_url, max(1, args.rounds), args.python_baseline)
    print(write_results(Path(args.out), "rollups", args.scale, result, render))
    return 0


if __name__ == "__main__":
    sys.exit(main())
