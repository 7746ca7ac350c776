"""Benchmark of a challenge computed from the raw rows: the live board (progress bars and
ranking), the list progress of one person across many challenges, and the end (results
frozen, bonus paid), on an organisation of a few thousand people.

Run by hand from the repository root (not part of the test suite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portevoix \
    .venv/bin/python bench/challenge_board.py [--people 2000 --shares-each 25]

It creates a throwaway test database (`test_<name>`, dropped at the end), writes the
shares and their activity with bulk_create, and times each step (median of several
rounds) with its query count, against `bare_read` in the same run: the raw rows the live
board counts (the activity of the organisation in the challenge period, `user_id` and
`share_id`), fetched with one plain `values_list` query and dropped. The board aggregates
them in SQL instead, so a ratio below 1 is possible. The bare read is timed before and
after the other steps; `÷ bare` uses the median of both. Results go to
bench/results/challenge_board.{json,md}.
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

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def _seed(people: int, shares_each: int) -> dict:
    from advocacy.models import Activity, ActivityKind, Share, ShareMode, ShareStatus
    from challenges.models import Challenge, ChallengeMetric, ChallengeMode, ChallengeStatus
    from content.models import Content, Network
    from organizations.models import Organization, Team, User

    rng = random.Random(5)  # noqa: S311  (reproducible data, not secrets)
    org = Organization.objects.create(name="Bench", slug="bench-challenges")
    departments = [Team.objects.create(organization=org, name=f"Dept {i}") for i in range(5)]
    teams = [
        Team.objects.create(organization=org, name=f"Team {i}", parent=departments[i % 5])
        for i in range(40)
    ]
    users = User.objects.bulk_create(
        [
            User(email=f"bench{i}@example.test", organization=org, password="!")  # noqa: S106  (unusable)
            for i in range(people)
        ]
    )
    User.teams.through.objects.bulk_create(
        [User.teams.through(user_id=u.pk, team_id=teams[i % 40].pk) for i, u in enumerate(users)]
    )
    contents = Content.objects.bulk_create(
        [
            Content(
                organization=org, kind="text", title=f"C{i}", hashtags=["#bench"] if i % 2 else []
            )
            for i in range(max(10, shares_each))
        ]
    )
    now = timezone.now()
    shares, activities = [], []
    for user in users:
        count = rng.randint(0, shares_each * 2)
        picks = rng.sample(range(len(contents)), min(count, len(contents)))
        for index in picks:
            at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 20))
            shares.append(
                Share(
                    organization=org,
                    user=user,
                    content=contents[index],
                    network=Network.LINKEDIN,
                    mode=ShareMode.LINK,
                    text="x",
                    status=ShareStatus.PUBLISHED,
                    scheduled_at=at,
                    published_at=at,
                )
            )
    Share.objects.bulk_create(shares, batch_size=5000)
    for share in shares:
        activities.append(
            Activity(
                organization=org,
                kind=ActivityKind.SHARE_LINK_CONFIRMED,
                source_key=f"bench:{share.pk}",
                user_id=share.user_id,
                share=share,
                content_id=share.content_id,
                network=share.network,
                occurred_at=share.published_at,
            )
        )
    Activity.objects.bulk_create(activities, batch_size=5000)
    common = {
        "organization": org,
        "starts_at": now - timedelta(days=21),
        "status": ChallengeStatus.ACTIVE,
    }
    live = Challenge.objects.create(
        title="Live", ends_at=now + timedelta(days=7), goal=20, winners_count=3, **common
    )
    team = Challenge.objects.create(
        title="Teams",
        ends_at=now + timedelta(days=7),
        mode=ChallengeMode.TEAM,
        winners_count=1,
        **common,
    )
    team.audience_teams.set(departments[:3])
    tagged = Challenge.objects.create(
        title="Tagged", ends_at=now + timedelta(days=7), hashtag="#bench", winners_count=3, **common
    )
    many = [
        Challenge.objects.create(
            title=f"List {i}",
            ends_at=now + timedelta(days=7),
            goal=5,
            metric=[ChallengeMetric.SHARES, ChallengeMetric.CLICKS, ChallengeMetric.POINTS][i % 3],
            **common,
        )
        for i in range(20)
    ]
    ending = Challenge.objects.create(
        title="Ending",
        ends_at=now - timedelta(minutes=1),
        winners_count=3,
        bonus_points=50,
        goal=10,
        **common,
    )
    return {
        "org": org,
        "user": users[len(users) // 2],
        "live": live,
        "team": team,
        "tagged": tagged,
        "many": many,
        "ending": ending,
        "shares": len(shares),
    }


def _time(step, rounds: int) -> dict:
    timings, queries = _samples(step, rounds)
    return {"median_ms": round(statistics.median(timings), 1), "queries": queries}


def _samples(step, rounds: int) -> tuple[list[float], int]:
    timings, queries = [], 0
    for _ in range(rounds):
        # Counted by a wrapper, not the debug log (which keeps 9000 queries at most).
        calls = [0]

        def count(execute, sql, params, many, context, calls=calls):
            calls[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            step()
            timings.append((time.perf_counter() - started) * 1000)
        queries = calls[0]
    return timings, queries


def _run(people: int, shares_each: int, rounds: int) -> dict:
    from advocacy.models import Activity
    from challenges import campaign_selectors as selectors
    from challenges.models import Challenge
    from challenges.services.campaigns import challenge_end, challenge_results_pay

    data = _seed(people, shares_each)
    user = data["user"]

    def board(challenge):
        fresh = selectors.challenge_for_user(user, challenge.pk)
        return lambda: selectors.challenge_board(user, fresh)

    live = data["live"]

    def bare_read():
        # The floor: every raw row the live board counts, fetched and dropped.
        list(
            Activity.objects.filter(
                organization_id=live.organization_id,
                occurred_at__gte=live.starts_at,
                occurred_at__lt=live.ends_at,
            ).values_list("user_id", "share_id")
        )

    bare_before, _queries = _samples(bare_read, rounds)
    listed = list(selectors.challenge_list(user, tab="active"))
    scenarios = {
        "live_board_individual": _time(board(data["live"]), rounds),
        "live_board_team": _time(board(data["team"]), rounds),
        "live_board_hashtag_scope": _time(board(data["tagged"]), rounds),
        f"list_progress_{len(listed)}_challenges": _time(
            lambda: selectors.progress_for(listed, user), rounds
        ),
    }
    scenarios["end_and_freeze"] = _time(lambda: challenge_end(challenge_id=data["ending"].pk), 1)
    scenarios["pay_and_announce_results"] = _time(
        lambda: challenge_results_pay(challenge_id=data["ending"].pk), 1
    )
    ended = Challenge.objects.get(pk=data["ending"].pk)
    scenarios["frozen_board"] = _time(board(ended), rounds)
    bare_after, bare_queries = _samples(bare_read, rounds)
    bare = {
        "median_ms": round(statistics.median(bare_before + bare_after), 1),
        "queries": bare_queries,
        "median_before_ms": round(statistics.median(bare_before), 1),
        "median_after_ms": round(statistics.median(bare_after), 1),
    }
    scenarios = {"bare_read": bare, **scenarios}
    for step in scenarios.values():
        step["ratio_to_bare_median"] = round(step["median_ms"] / bare["median_ms"], 2)
    return {
        "people": people,
        "shares": data["shares"],
        "bare_rows": Activity.objects.filter(
            organization_id=live.organization_id,
            occurred_at__gte=live.starts_at,
            occurred_at__lt=live.ends_at,
        ).count(),
        "results_frozen": ended.results.count(),
        "scenarios": scenarios,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--shares-each", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args.people, args.shares_each, args.rounds)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
    results["environment"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "database": connection.vendor,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "challenge_board.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Challenge board benchmark",
        "",
        f"{results['people']} people, {results['shares']} shares in the period, "
        f"{results['results_frozen']} results frozen at the end.",
        "",
        "| step | median ms | queries | ÷ bare |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {s['median_ms']} | {s['queries']} | {s['ratio_to_bare_median']} |"
            for name, s in results["scenarios"].items()
        ),
        "",
        f"`bare_read`: the {results['bare_rows']} activity rows of the period (what the live "
        "board counts), one `values_list` query, fetched and dropped; median of "
        f"{results['scenarios']['bare_read']['median_before_ms']} ms before the steps and "
        f"{results['scenarios']['bare_read']['median_after_ms']} ms after. "
        "`end_and_freeze` and `pay_and_announce_results` are one run each.",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
    ]
    (out / "challenge_board.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
