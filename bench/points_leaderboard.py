"""Benchmark of the leaderboards and the points ledger.

Run by hand from the repository root (not part of the test suite):

    PORTEVOIX_ENV=test DATABASE_URL=postgres://postgres@127.0.0.1:5432/portevoix \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/points_leaderboard.py \
    [--people 5000] [--entries 100000]

It creates a throwaway test database (`test_<name>`, dropped at the end), one
organisation with `--people` employees in 40 teams and `--entries` ledger entries spread
over 90 days, then times what a leaderboard page costs (the board with a mid-ranked
caller's rank and neighbours, one page of 50 named): people of the organisation (page 1
and page 40, all time; this month), the people of one team, and the team board, each
served from the Redis sets and from the database fallback in the same run (the ratio is
in the results); then a full rebuild of the sets from the ledger, and `points_award` one
entry at a time. Results go to bench/results/points_leaderboard.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from challenges import points_selectors as selectors  # noqa: E402
from challenges.models import PointEntry, Score  # noqa: E402
from challenges.services import leaderboards  # noqa: E402
from challenges.services.points import points_award  # noqa: E402
from organizations.models import Organization, Team, User  # noqa: E402

UNUSABLE = "!"  # Django's marker of an unusable password
PAGE_SIZE = 50


def _seed(people: int, entries: int) -> tuple[Organization, User]:
    rng = random.Random(5)  # noqa: S311  (repeatable data, not secrets)
    organization = Organization.objects.create(name="Bench", slug="bench-points")
    teams = Team.objects.bulk_create(
        [Team(organization=organization, name=f"Team {i}") for i in range(40)]
    )
    users = User.objects.bulk_create(
        [
            User(email=f"p{i}@bench.test", organization=organization, password=UNUSABLE)
            for i in range(people)
        ]
    )
    User.teams.through.objects.bulk_create(
        [User.teams.through(user_id=u.pk, team_id=teams[i % 40].pk) for i, u in enumerate(users)]
    )
    now = timezone.now()
    rows = []
    for index in range(entries):
        # Skewed towards the first people, yet nearly everyone scores: a long ranking.
        user = users[int(people * rng.random() ** 3)]
        rows.append(
            PointEntry(
                organization=organization,
                user=user,
                reason="share_published",
                points=rng.choice((1, 1, 1, 8, 10)),
                spendable_delta=0,
                source_key=f"bench:{index}",
                occurred_at=now - timedelta(minutes=rng.randrange(90 * 24 * 60)),
            )
        )
    PointEntry.objects.bulk_create(rows, batch_size=5000)
    totals = PointEntry.objects.values("user_id").annotate(t=Sum("points"))
    Score.objects.bulk_create(
        [
            Score(user_id=row["user_id"], organization=organization, lifetime_points=row["t"])
            for row in totals
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have, after a bulk load
    return organization, users[0]


def _time(function, rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(sorted(samples)[int(len(samples) * 0.9) - 1], 2),
        "rounds": rounds,
    }


def _page(user: User, board: str, period: str, page: int, team_id: int | None = None) -> None:
    """What the page and the API do: the board, then one page of it named."""
    result = selectors.leaderboard_for(user, board=board, period=period, team_id=team_id)
    start = (page - 1) * PAGE_SIZE
    rows = list(result.rows[start : start + PAGE_SIZE])
    if board == "organisation":
        selectors.standings_named([*rows, *result.neighbours])


def _run(people: int, entries: int, rounds: int) -> dict:
    organization, user = _seed(people, entries)
    user.organization = organization
    # A caller in the middle of the ranking, with neighbours on both sides.
    caller = User.objects.select_related("organization").get(email=f"p{people // 2}@bench.test")
    team_id = Team.objects.filter(organization=organization).values_list("pk", flat=True)[0]
    results: dict = {"people": people, "entries": entries, "scenarios": {}}
    redis_url = settings.REDIS_URL
    cases = [
        ("organisation_all_page1", "organisation", "all", 1, None),
        ("organisation_all_page40", "organisation", "all", 40, None),
        ("organisation_month_page1", "organisation", "month", 1, None),
        ("organisation_all_one_team", "organisation", "all", 1, team_id),
        ("team_all", "team", "all", 1, None),
    ]
    for name, board, period, page, team in cases:

        def read(b=board, p=period, n=page, t=team) -> None:
            _page(caller, b, p, n, t)

        if redis_url:
            read()  # builds the sets
            results["scenarios"][f"{name}_redis"] = _time(read, rounds)
        settings.REDIS_URL = ""
        results["scenarios"][f"{name}_database"] = _time(read, rounds)
        settings.REDIS_URL = redis_url
    if redis_url:
        results["scenarios"]["rebuild_all_periods"] = _time(
            lambda: [
                leaderboards.leaderboard_rebuild(
                    organization_id=organization.pk, period=period, time_zone="Europe/Paris"
                )
                for period in leaderboards.PERIODS
            ],
            max(3, rounds // 5),
        )
    counter = iter(range(10**9))
    award = _time(
        lambda: points_award(
            user=user,
            reason="adjustment",
            points=1,
            source_key=f"award:{next(counter)}",
            occurred_at=timezone.now(),
        ),
        rounds * 5,
    )
    award["per_second"] = round(1000 / award["median_ms"], 1)
    results["scenarios"]["points_award"] = award
    leaderboards.leaderboards_forget(organization_id=organization.pk)
    return results


def _write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results["environment"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "database": connection.vendor,
        "redis": bool(settings.REDIS_URL),
    }
    (out / "points_leaderboard.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Leaderboards and ledger",
        "",
        f"{results['people']} people, {results['entries']} ledger entries.",
        "",
        "| scenario | median ms | p90 ms |",
        "|---|---|---|",
    ]
    scenarios = results["scenarios"]
    for name, figures in scenarios.items():
        lines.append(f"| {name} | {figures['median_ms']} | {figures['p90_ms']} |")
    ratios = [
        (name.removesuffix("_redis"), scenarios[other]["median_ms"] / figures["median_ms"])
        for name, figures in scenarios.items()
        if name.endswith("_redis")
        and (other := name.removesuffix("_redis") + "_database") in scenarios
    ]
    if ratios:
        lines += ["", "| read | database ÷ Redis (median) |", "|---|---|"]
        lines += [f"| {name} | {ratio:.1f}× |" for name, ratio in ratios]
        results["database_over_redis"] = {name: round(ratio, 2) for name, ratio in ratios}
    (out / "points_leaderboard.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args.people, args.entries, args.rounds)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
    _write(results, Path(args.out))


if __name__ == "__main__":
    main()
