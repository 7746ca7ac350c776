"""Benchmark: leaderboards at company scale from Redis (issue 14: p95 ≤ 5 ms each for the
page, my rank with neighbours and the team board at 50,000 people; a rebuild from 5 M
ledger entries ≤ 30 s).

    .venv/bin/python -m bench.leaderboards --scale small|medium [--database-url URL]
        [--redis-url redis://127.0.0.1:6379/12] [--rounds 200] [--out bench/results]

Reads a generated database (`portevoix_bench_<scale>`, never written) with Redis keys under
a prefix of its own (removed afterwards). In the large organisation, with a mid-ranked
caller, it times in-process, interleaved round by round: the people page (page 1 of 50,
named), my rank with two neighbours each side, and the team board's first page (named,
with member counts and my teams), each from Redis and from the database fallback (the
baseline, same run); then the rebuild of every set (people, hidden people, teams; three
periods) from the ledger, and the SQL sum of the whole ledger per person for scale.
Writes bench/results/leaderboards.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from bench import bench_copies

ROOT = Path(__file__).resolve().parent.parent
PAGE = 50
TARGET_P95_MS, TARGET_REBUILD_S = 5.0, 30.0


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
        "rounds": len(ordered),
    }


def _run(rounds: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from challenges import points_selectors as selectors
    from challenges.models import PointEntry, Score
    from challenges.services import leaderboards
    from organizations.models import Organization, User

    organization = (
        Organization.objects.annotate(people=Count("members")).order_by("-people", "pk").first()
    )
    assert organization is not None
    ranked = list(
        Score.objects.filter(organization=organization, lifetime_points__gt=0)
        .order_by("-lifetime_points", "user_id")
        .values_list("user_id", flat=True)
    )
    caller = User.objects.select_related("organization").get(pk=ranked[len(ranked) // 2])
    now = timezone.now()

    def people_page() -> None:
        board = selectors.leaderboard_for(caller, now=now)
        selectors.standings_named([*board.rows[0:PAGE], *board.neighbours])

    def my_rank() -> None:
        board = leaderboards.people_board(
            organization_id=organization.pk,
            period="all",
            time_zone=organization.time_zone,
            now=now,
        )
        window = board.around(caller.pk, selectors.NEIGHBOURS)
        assert window is not None

    def team_page() -> None:
        board = selectors.leaderboard_for(caller, board=selectors.BOARD_TEAMS, now=now)
        rows = board.rows[0:PAGE]
        assert rows and board.my_teams is not None

    cases = {"people_page": people_page, "my_rank_neighbours": my_rank, "team_board": team_page}
    redis_url = settings.REDIS_URL
    for case in cases.values():
        case()  # builds the sets
    samples: dict[str, list[float]] = {}
    database_rounds = max(5, rounds // 10)
    for index in range(rounds):
        for name, case in cases.items():
            for source in ("redis", "database"):
                if source == "database" and index >= database_rounds:
                    continue
                settings.REDIS_URL = redis_url if source == "redis" else ""
                started = time.perf_counter()
                case()
                samples.setdefault(f"{name}_{source}", []).append(
                    (time.perf_counter() - started) * 1000
                )
    settings.REDIS_URL = redis_url
    checks = {
        "team_board_source": selectors.leaderboard_for(
            caller, board=selectors.BOARD_TEAMS, now=now
        ).source
    }
    rebuild = []
    for _ in range(3):
        started = time.perf_counter()
        structure = leaderboards.team_structure(organization.pk)
        for period in leaderboards.PERIODS:
            leaderboards.leaderboard_rebuild(
                organization_id=organization.pk,
                period=period,
                now=now,
                time_zone=organization.time_zone,
                structure=structure,
            )
        rebuild.append(time.perf_counter() - started)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, SUM(points) FROM challenges_pointentry "
            "WHERE organization_id = %s GROUP BY user_id",
            [organization.pk],
        )
        cursor.fetchall()
    ledger_sum = time.perf_counter() - started
    entries = PointEntry.objects.filter(organization=organization).count()
    teams = organization.teams.count()
    scenarios = {name: _stats(values) for name, values in samples.items()}
    for name in cases:
        redis, database = scenarios[f"{name}_redis"], scenarios[f"{name}_database"]
        redis["database_over_redis_median"] = round(database["median_ms"] / redis["median_ms"], 1)
    rebuild_median = statistics.median(rebuild)
    return {
        "organization_people": organization.people,
        "teams": teams,
        "ledger_entries": entries,
        "scenarios": scenarios,
        "checks": checks,
        "rebuild_all_sets_seconds": round(rebuild_median, 3),
        "ledger_sum_by_person_seconds": round(ledger_sum, 3),
        "rebuild_projected_for_5m_entries_seconds": round(
            rebuild_median * 5_000_000 / max(entries, 1), 1
        ),
    }


def _markdown(results: dict) -> str:
    lines = [
        "# Leaderboards from Redis",
        "",
        f"Scale `{results['scale']}`: the large organisation, {results['organization_people']} "
        f"people in {results['teams']} teams, {results['ledger_entries']} ledger entries; a "
        "mid-ranked caller; in-process, interleaved; the database fallback is the baseline.",
        "",
        "| read | Redis p50 ms | Redis p95 ms | database p50 ms | database p95 ms "
        "| database ÷ Redis | target |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("people_page", "my_rank_neighbours", "team_board"):
        redis = results["scenarios"][f"{name}_redis"]
        database = results["scenarios"][f"{name}_database"]
        met = "met" if redis["p95_ms"] <= TARGET_P95_MS else "missed"
        lines.append(
            f"| {name} | {redis['median_ms']} | {redis['p95_ms']} | {database['median_ms']} "
            f"| {database['p95_ms']} | {redis['database_over_redis_median']}× "
            f"| p95 ≤ {TARGET_P95_MS} ms ({met} here) |"
        )
    lines += [
        "",
        f"Rebuild of every set (people, hidden, teams; 3 periods): "
        f"{results['rebuild_all_sets_seconds']} s; linear projection to 5 M entries "
        f"{results['rebuild_projected_for_5m_entries_seconds']} s (target ≤ {TARGET_REBUILD_S} s). "
        f"Summing the whole ledger per person in SQL: {results['ledger_sum_by_person_seconds']} s.",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    source = bench_copies.source_target(scale=args.scale, database_url=args.database_url)
    prefix = f"bench-leaderboards-{os.getpid()}"
    bench_copies.point_django_at(database_url=source.url, redis_url=args.redis_url, prefix=prefix)
    import django

    django.setup()
    try:
        results = _run(args.rounds)
    finally:
        bench_copies.forget_redis(args.redis_url, prefix)
    text = bench_copies.results_write(
        results,
        name="leaderboards",
        scale=args.scale,
        database=source.name,
        out=args.out,
        markdown=_markdown,
    )
    print(text)
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
