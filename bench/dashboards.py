"""Benchmark of the analytics dashboards on a generated organisation.

Run by hand from the repository root (not part of the test suite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portevoix \
    .venv/bin/python bench/dashboards.py [--people 2000] [--days 90] [--requests 20] [--rounds 4]

It creates a throwaway database (`bench_dashboards_<pid>`, dropped at the end), an
organisation with a team tree, `--people` employees and `--days` of daily rollups, then
times through Django's test client (the whole middleware stack) the dashboard page for an
org admin and for a department manager, the htmx update, the API summary and the team
CSV, counting the queries of each, interleaved in `--rounds` rounds with two floors served
by a URLconf of this script: `bare_page` (a logged-in page that renders base.html and
nothing else) for the pages and the CSV, `bare_api` (a DRF APIView with the analytics
permission that answers a constant) for the API rows. Ratios are of medians against the
floor of the row. Results go to bench/results/dashboards.{json,md}.
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
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.decorators import login_required  # noqa: E402
from django.db import connection  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import include, path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from analytics.models import DailyRollup  # noqa: E402
from analytics.selectors import organization_today  # noqa: E402
from content.models import Content  # noqa: E402
from organizations.api import HasOrganization  # noqa: E402
from organizations.models import Organization, Role, Team, User  # noqa: E402


@login_required
def bare_page(request):
    """The floor of the pages: the same login and layout (base.html), no dashboard query."""
    return render(request, "base.html", {})


class BareApiView(APIView):
    """The floor of the API rows: the same authentication and permission, a constant."""

    permission_classes = [HasOrganization]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare/", bare_page),
    path("bench/bare-api/", BareApiView.as_view()),
    path("", include("config.urls")),
]


def _generate(people: int, days: int, seed: int = 6) -> dict:
    rng = random.Random(seed)  # noqa: S311 (generated data, not secrets)
    org = Organization.objects.create(name="Bench Corp", slug="bench", time_zone="Europe/Paris")
    departments = [
        Team.objects.create(organization=org, name=f"Department {d}", kind="department")
        for d in range(4)
    ]
    teams = [
        Team.objects.create(organization=org, name=f"Team {d}.{t}", parent=department)
        for d, department in enumerate(departments)
        for t in range(5)
    ]
    admin = User.objects.create_user("admin@bench.test", "x", organization=org, role=Role.ORG_ADMIN)
    manager = User.objects.create_user(
        "manager@bench.test", "x", organization=org, role=Role.MANAGER
    )
    departments[0].managers.add(manager)
    users = User.objects.bulk_create(
        User(email=f"p{n}@bench.test", organization=org, first_name=f"P{n}", last_name="Bench")
        for n in range(people)
    )
    links = [
        User.teams.through(user_id=u.pk, team_id=teams[n % len(teams)].pk)
        for n, u in enumerate(users)
    ]
    # One in ten belongs to a second team, as in real organisations.
    links += [
        User.teams.through(user_id=u.pk, team_id=teams[(n + 7) % len(teams)].pk)
        for n, u in enumerate(users)
        if n % 10 == 0
    ]
    User.teams.through.objects.bulk_create(links)
    contents = Content.objects.bulk_create(
        Content(organization=org, kind="link", title=f"Post {n}", author=admin, status="approved")
        for n in range(200)
    )
    today = organization_today(org)
    # Regulars share most days, occasional people now and then, a third never.
    appetite = [rng.choice([0.0, 0.0, 0.03, 0.08, 0.3]) for _ in users]
    rows = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        for user, p in zip(users, appetite, strict=True):
            if p and rng.random() < p:
                shares = rng.randint(1, 2)
                clicks = rng.randint(0, 15)
                impressions = rng.randint(0, 2000)
                rows.append(
                    DailyRollup(
                        organization=org,
                        day=day,
                        user_id=user.pk,
                        content=rng.choice(contents),
                        network=rng.choice(["linkedin", "x", "facebook"]),
                        shares=shares,
                        clicks=clicks,
                        unique_clicks=clicks,
                        reactions=rng.randint(0, 20),
                        comments=rng.randint(0, 4),
                        reshares=rng.randint(0, 3),
                        impressions=impressions,
                        potential_reach=rng.randint(100, 3000),
                        emv=(
                            Decimal(impressions) * Decimal("0.03") + clicks * Decimal("1.5")
                        ).quantize(Decimal("0.01")),
                    )
                )
    DailyRollup.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    if connection.vendor == "postgresql":
        # Fresh tables have no statistics yet; autovacuum would gather them in production,
        # and without them the planner walks the rollups once per person.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"admin": admin, "manager": manager, "rollup_rows": DailyRollup.objects.count()}


def _time(get, n: int) -> tuple[list[float], int]:
    samples = []
    queries = 0
    for index in range(n):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = get()
            samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        if index == 0:
            queries = len(ctx.captured_queries)
    return samples, queries


def _summary(samples: list[float], queries: int) -> dict:
    samples = sorted(samples)
    return {
        "n": len(samples),
        "queries": queries,
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=20, help="per scenario")
    parser.add_argument("--rounds", type=int, default=4, help="scenarios interleaved")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    setup_test_environment()
    # A name of its own, so a test database of the same server is never clobbered.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_dashboards_{os.getpid()}"
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        world = _generate(args.people, args.days)
        generated_s = round(time.perf_counter() - started, 1)
        admin, manager = Client(), Client()
        admin.force_login(world["admin"], backend="django.contrib.auth.backends.ModelBackend")
        manager.force_login(world["manager"], backend="django.contrib.auth.backends.ModelBackend")
        api = APIClient()
        api.force_authenticate(world["admin"])
        # name: (request, the floor its ratio is taken against)
        scenarios = {
            "bare_page": lambda: admin.get("/bench/bare/"),
            "bare_api": lambda: api.get("/bench/bare-api/"),
            "page_admin_30d": lambda: admin.get("/dashboards/", {"period": "30d"}),
            "page_admin_90d": lambda: admin.get("/dashboards/", {"period": "90d"}),
            "page_manager_90d": lambda: manager.get("/dashboards/", {"period": "90d"}),
            "htmx_update_admin_7d": lambda: admin.get(
                "/dashboards/", {"period": "7d"}, headers={"HX-Request": "true"}
            ),
            "api_summary_90d": lambda: api.get("/api/v1/analytics/summary/", {"period": "90d"}),
            "api_teams_90d": lambda: api.get("/api/v1/analytics/teams/", {"period": "90d"}),
            "csv_teams_90d": lambda: admin.get("/dashboards/export/teams.csv", {"period": "90d"}),
        }
        with override_settings(ROOT_URLCONF=__name__):
            results = _measure(scenarios, args.requests, args.rounds)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        teardown_test_environment()
    _write(
        {
            "data": {
                "people": args.people,
                "days": args.days,
                "rollup_rows": world["rollup_rows"],
                "generated_in_s": generated_s,
            },
            "scenarios": results,
        },
        Path(args.out),
    )


def _baseline(name: str) -> str:
    return "bare_api" if name.startswith(("api_", "bare_api")) else "bare_page"


def _measure(scenarios: dict, requests: int, rounds: int) -> dict:
    for get in scenarios.values():
        get()  # warm up
    samples: dict[str, list[float]] = {name: [] for name in scenarios}
    queries: dict[str, int] = {}
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, get in scenarios.items():
            taken, counted = _time(get, per_round)
            samples[name] += taken
            queries.setdefault(name, counted)
    results = {name: _summary(samples[name], queries[name]) for name in scenarios}
    for name, summary in results.items():
        floor = _baseline(name)
        summary["baseline"] = floor
        summary["ratio_to_bare_median"] = round(
            summary["median_ms"] / results[floor]["median_ms"], 2
        )
    return results


def _write(results: dict, out: Path) -> None:
    results["environment"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "client": "django.test.Client, in process, full middleware stack",
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboards.json").write_text(json.dumps(results, indent=2) + "\n")
    data = results["data"]
    lines = [
        "# Dashboards benchmark",
        "",
        f"{data['people']} employees in 20 teams, {data['days']} days, "
        f"{data['rollup_rows']} daily rollup rows.",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
        "",
        "| scenario | n | queries | median ms | p95 ms | max ms | ÷ bare | bare is |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in results["scenarios"].items():
        lines.append(
            f"| {name} | {s['n']} | {s['queries']} | {s['median_ms']} | {s['p95_ms']} | "
            f"{s['max_ms']} | {s['ratio_to_bare_median']} | {s['baseline']} |"
        )
    lines += [
        "",
        "Ratios are of medians, interleaved in one run: pages, htmx and CSV against "
        "`bare_page` (login and base.html, no dashboard query), API rows against `bare_api` "
        "(a DRF APIView with the same permission answering a constant).",
    ]
    (out / "dashboards.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
