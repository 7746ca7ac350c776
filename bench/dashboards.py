"""Benchmark of the manager dashboard on a generated scale, against floors and a raw-event
baseline measured in the same run.

    .venv/bin/python -m bench.dashboards --scale tiny|small|medium [--database-url URL]
        [--requests 20] [--rounds 3] [--days 30] [--redis-url URL] [--out bench/results]

It reads the scale's database (`portevoix_bench_<scale>`, generated when missing; migrations
added since its generation are applied in place) and times in process, through Django's
test client and the whole middleware stack, over the `--days` days before the data's
anchor (a custom period, as `make bench` asks):

- `api_summary` and `api_teams`: GET /api/v1/analytics/summary/ and teams/ for the
  manager of the first division (a session, as a browser sends it);
- `page_manager`: the dashboard page for that manager; `page_comms`: for an editor of the
  comms team (the whole organisation);
- each of them twice: `uncached` (a dummy cache: every request computes its answer) and
  `cached` (Redis, warmed by one request first: what a second reader gets until the next
  rollup run lands);
- before timing, migrations added since the generation are applied in place and the
  tables autovacuum would have analysed are analysed (the benchmark server runs with
  autovacuum off; production does not);
- floors: `bare_page` (a logged-in page rendering base.html), `bare_api` (a DRF view with
  the same permission answering a constant);
- baseline `raw_events_manager` / `raw_events_comms`: the same headline numbers (shares,
  share-link confirmations, clicks and active ambassadors, this period and the previous
  one) aggregated from the Share and Click rows directly, in process (no HTTP). The run
  checks that they equal the API's answer.

Requests are interleaved in `--rounds` rounds of `--requests` each; p50/p95 over every
sample; the query count of one request of each. Results: bench/results/dashboards.json
(one entry per scale) and dashboards.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.scale_data import environment, open_scale, write_results

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"api_ms": 50, "page_ms": 150, "speedup_vs_raw": 10}
HOST = "127.0.0.1"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _migrate_in_place() -> list[str]:
    """Apply migrations added after the database was generated (an index, a column): the
    rows stay, the schema catches up. Returns the migrations applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", "--noinput", verbosity=0)
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _statistics_current() -> list[str]:
    """ANALYZE the tables that autovacuum would have analysed by now (its default trigger:
    50 rows + 10 % of the table changed since the last ANALYZE). The benchmark server runs
    with autovacuum off, and the generator builds the rollups after its own ANALYZE: the
    planner would read an empty rollup table's statistics, which production never does
    for long."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public' "
            "AND n_mod_since_analyze > 50 + 0.1 * n_live_tup ORDER BY relname"
        )
        stale = [name for (name,) in cursor.fetchall()]
        for name in stale:
            cursor.execute(f'ANALYZE "{name}"')
    return stale


def raw_summary(organization_id: int, scope: Any, start: date, end: date, zone: str) -> dict:
    """Headline numbers of [start, end] and of the period of the same length before it,
    aggregated from the raw rows: shares by mode (published in the organisation's days),
    clicks that are not the sharer's own, and the people who shared. The baseline the
    rollups must beat; one query per table, as a careful hand-written report would."""
    from django.db.models import Count, Q

    from advocacy.models import Click, Share, ShareMode
    from organizations.models import User

    tz = ZoneInfo(zone)
    days = (end - start).days + 1
    previous_start = start - timedelta(days=days)

    def bound(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), tzinfo=tz)

    now_q = {"gte": bound(start), "lt": bound(end + timedelta(days=1))}
    before_q = {"gte": bound(previous_start), "lt": bound(start)}
    shares = Share.objects.filter(
        organization_id=organization_id,
        published_at__gte=before_q["gte"],
        published_at__lt=now_q["lt"],
    )
    clicks = Click.objects.filter(
        organization_id=organization_id,
        is_self=False,
        clicked_at__gte=before_q["gte"],
        clicked_at__lt=now_q["lt"],
    )
    if scope.team_ids is not None:
        people = User.teams.through.objects.filter(team_id__in=scope.team_ids).values("user_id")
        shares = shares.filter(user_id__in=people)
        clicks = clicks.filter(sharer_id__in=people)
    result: dict[str, Any] = {}
    for prefix, window in (("now", now_q), ("before", before_q)):
        in_window = Q(published_at__gte=window["gte"], published_at__lt=window["lt"])
        result |= shares.aggregate(
            **{
                f"{prefix}_api_shares": Count("pk", filter=in_window & Q(mode=ShareMode.API)),
                f"{prefix}_link_confirmations": Count(
                    "pk", filter=in_window & ~Q(mode=ShareMode.API)
                ),
                f"{prefix}_active": Count("user_id", distinct=True, filter=in_window),
            }
        )
        result |= clicks.aggregate(
            **{
                f"{prefix}_clicks": Count(
                    "pk", filter=Q(clicked_at__gte=window["gte"], clicked_at__lt=window["lt"])
                )
            }
        )
    return result


def _same_answer(raw: dict, api: dict) -> dict[str, Any]:
    """The raw baseline against the API summary's figures."""
    pairs = {
        "now_api_shares": api["totals"]["api_shares"],
        "now_link_confirmations": api["totals"]["link_confirmations"],
        "now_clicks": api["totals"]["clicks"],
        "now_active": api["active_ambassadors"],
        "before_api_shares": api["previous_totals"]["api_shares"],
        "before_link_confirmations": api["previous_totals"]["link_confirmations"],
        "before_clicks": api["previous_totals"]["clicks"],
        "before_active": api["previous_active_ambassadors"],
    }
    differences = {
        key: {"raw": raw[key], "rollups": value}
        for key, value in pairs.items()
        if raw[key] != value
    }
    return {"equal": not differences, "differences": differences, "raw": raw}


def run(
    scale: str,
    database_url: str | None,
    *,
    requests: int,
    rounds: int,
    days: int,
    redis_url: str,
) -> dict[str, Any]:
    manifest = open_scale(scale, database_url)
    migrated = _migrate_in_place()
    analysed = _statistics_current()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from analytics import selectors
    from organizations.models import Organization, Role, User

    accounts = manifest["accounts"]
    org = Organization.objects.get(pk=accounts["organization_id"])
    manager = User.objects.get(pk=accounts["manager"])
    comms = (
        User.objects.filter(organization_id=org.pk, role=Role.EDITOR, is_active=True)
        .order_by("pk")
        .first()
    ) or User.objects.get(pk=accounts["admin"])
    anchor = datetime.fromisoformat(manifest["params"]["anchor"])
    first, last = (anchor - timedelta(days=days)).date(), (anchor - timedelta(days=1)).date()
    query = f"?period=custom&start={first}&end={last}"
    prefix = f"bench-dashboards-{os.getpid()}"
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    dummy_cache = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    def client_for(user: User) -> Client:
        client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    manager_client, comms_client = client_for(manager), client_for(comms)
    html = {"Accept": "text/html"}
    api = {"Accept": "application/json"}
    requests_of: dict[str, tuple[Client, str, dict[str, str]]] = {
        "api_summary": (manager_client, f"/api/v1/analytics/summary/{query}", api),
        "api_teams": (manager_client, f"/api/v1/analytics/teams/{query}", api),
        "page_manager": (manager_client, f"/dashboards/{query}", html),
        "page_comms": (comms_client, f"/dashboards/{query}", html),
    }
    floors: dict[str, tuple[Client, str, dict[str, str]]] = {
        "bare_page": (manager_client, "/bench/bare/", html),
        "bare_api": (manager_client, "/bench/bare-api/", api),
    }
    manager_scope = selectors.dashboard_scope(manager)
    comms_scope = selectors.dashboard_scope(comms)
    raw_calls: dict[str, Callable[[], dict]] = {
        "raw_events_manager": lambda: raw_summary(
            org.pk, manager_scope, first, last, org.time_zone
        ),
        "raw_events_comms": lambda: raw_summary(org.pk, comms_scope, first, last, org.time_zone),
    }

    def get(name: str, client: Client, path: str, headers: dict[str, str]) -> Any:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {path} answered {response.status_code}")
        return response

    samples: dict[str, list[float]] = {}
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    answers: dict[str, Any] = {}
    modes = {"uncached": dummy_cache, "cached": redis_cache}
    settings_override = {
        "ROOT_URLCONF": "bench.dashboards_urls",
        "ALLOWED_HOSTS": [*settings.ALLOWED_HOSTS, HOST, "testserver"],
    }
    try:
        with override_settings(**settings_override):
            for round_ in range(rounds):
                for mode, caches in modes.items():
                    with override_settings(CACHES=caches):
                        for name, (client, path, headers) in requests_of.items():
                            key = f"{name}_{mode}"
                            get(key, client, path, headers)  # warms the cache (cached mode)
                            if round_ == 0:
                                with CaptureQueriesContext(connection) as captured:
                                    response = get(key, client, path, headers)
                                queries[key] = len(captured.captured_queries)
                                sizes[key] = len(response.content)
                                if name == "api_summary":
                                    answers[mode] = response.json()
                            for _ in range(requests):
                                started = time.perf_counter()
                                get(key, client, path, headers)
                                samples.setdefault(key, []).append(time.perf_counter() - started)
                for name, (client, path, headers) in floors.items():
                    if round_ == 0:
                        with CaptureQueriesContext(connection) as captured:
                            get(name, client, path, headers)
                        queries[name] = len(captured.captured_queries)
                    for _ in range(requests):
                        started = time.perf_counter()
                        get(name, client, path, headers)
                        samples.setdefault(name, []).append(time.perf_counter() - started)
                for name, call in raw_calls.items():
                    if round_ == 0:
                        with CaptureQueriesContext(connection) as captured:
                            answers[name] = call()
                        queries[name] = len(captured.captured_queries)
                    # Fewer repeats: at medium one call takes seconds.
                    for _ in range(max(1, requests // 4)):
                        started = time.perf_counter()
                        call()
                        samples.setdefault(name, []).append(time.perf_counter() - started)
            with override_settings(CACHES=dummy_cache):
                comms_api = get(
                    "api_summary_comms", comms_client, f"/api/v1/analytics/summary/{query}", api
                ).json()
    finally:
        _redis_clean(redis_url, prefix)
    same = {
        "manager": _same_answer(answers["raw_events_manager"], answers["uncached"]),
        "comms": _same_answer(answers["raw_events_comms"], comms_api),
        "cached_equals_uncached": answers["cached"] == answers["uncached"],
    }
    connection.close()
    scenarios: dict[str, dict[str, Any]] = {}
    for name, values in samples.items():
        ms = [value * 1000 for value in values]
        scenarios[name] = {
            "requests": len(ms),
            "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(_percentile(ms, 0.95), 2),
            "queries": queries.get(name),
            "bytes": sizes.get(name),
        }
    for name, row in scenarios.items():
        floor = "bare_api" if name.startswith("api_") else "bare_page"
        if name.startswith("raw_") or name.startswith("bare_"):
            continue
        row["floor"] = floor
        row["ratio_to_floor_p50"] = round(row["p50_ms"] / scenarios[floor]["p50_ms"], 2)
        raw = "raw_events_comms" if name.startswith("page_comms") else "raw_events_manager"
        row["baseline"] = raw
        row["speedup_vs_raw_p50"] = round(scenarios[raw]["p50_ms"] / row["p50_ms"], 2)
    from advocacy.models import Click, Share
    from analytics.models import DailyRollup

    return {
        "period": {"start": str(first), "end": str(last), "days": days},
        "accounts": {"manager": manager.email, "comms": comms.email},
        "volume": {
            "people": User.objects.filter(organization_id=org.pk).count(),
            "shares": Share.objects.filter(organization_id=org.pk).count(),
            "clicks": Click.objects.filter(organization_id=org.pk).count(),
            "rollup_rows": DailyRollup.objects.filter(organization_id=org.pk).count(),
        },
        "manager_scope_teams": len(manager_scope.team_ids or ()),
        "migrations_applied_in_place": migrated,
        "tables_analysed_first": analysed,
        "same_answer": same,
        "scenarios": scenarios,
        "targets": TARGETS,
        "environment": environment(),
    }


def _redis_clean(redis_url: str, prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    except Exception as error:
        print(f"could not clean the Redis keys {prefix}:*: {error}", file=sys.stderr)


def render(scales: dict[str, dict]) -> str:
    lines = [
        "# Manager dashboard benchmark",
        "",
        "`python -m bench.dashboards --scale <scale>`: in process through Django's test",
        "client (whole middleware stack), the large organisation of the generated database.",
        "Floors from the same run: `bare_page` (logged-in page rendering base.html) for the",
        "pages, `bare_api` (DRF view, same permission, a constant) for the API. Baseline:",
        "`raw_events_*`, the same headline numbers aggregated from Share and Click rows.",
        "`uncached`: every request computes its answer; `cached`: a reader after the first,",
        "until the next rollup run. Targets (full scale): API p95 ≤ 50 ms, page p95 ≤ 150 ms,",
        "≥ 10× faster than the raw aggregation.",
        "",
    ]
    for scale, result in scales.items():
        volume = ", ".join(f"{k} {v:,}" for k, v in result["volume"].items())
        env = result["environment"]
        period = result["period"]
        same = result["same_answer"]
        lines += [
            f"## {scale}: {volume}",
            "",
            f"{env['when']}, {env['machine']}, PostgreSQL {env['postgresql']}, "
            f"load average {env['load_average']}. Period {period['start']} to {period['end']}"
            f" ({period['days']} days); manager {result['accounts']['manager']} "
            f"({result['manager_scope_teams']} teams), comms {result['accounts']['comms']}.",
            "",
            "| scenario | requests | p50 ms | p95 ms | queries | ÷ floor (p50) | "
            "× faster than raw (p50) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, s in result["scenarios"].items():
            ratio = s.get("ratio_to_floor_p50", "")
            speed = s.get("speedup_vs_raw_p50", "")
            lines.append(
                f"| {name} | {s['requests']} | {s['p50_ms']} | {s['p95_ms']} | "
                f"{'' if s['queries'] is None else s['queries']} | {ratio} | {speed} |"
            )
        lines += [
            "",
            f"Raw baseline equals the rollups' answer: manager {same['manager']['equal']}, "
            f"comms {same['comms']['equal']}; cached answer equals uncached: "
            f"{same['cached_equals_uncached']}.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scale", choices=["tiny", "small", "medium", "full"], default="small")
    parser.add_argument("--database-url", help="default: postgres://…/portevoix_bench_<scale>")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    result = run(
        args.scale,
        args.database_url,
        requests=max(1, args.requests),
        rounds=max(1, args.rounds),
        days=max(1, args.days),
        redis_url=args.redis_url,
    )
    print(write_results(Path(args.out), "dashboards", args.scale, result, render))
    return 0


if __name__ == "__main__":
    sys.exit(main())
