"""Benchmark: a challenge's results paid and announced at company scale (issue 14: at most
5 queries per 100 people; 50,000 people in 60 s or less).

    .venv/bin/python -m bench.challenge_results --scale small|medium [--database-url URL]
        [--redis-url redis://127.0.0.1:6379/12] [--baseline-people 300] [--out bench/results]

Works on a throw-away copy of a generated database (`portevoix_bench_<scale>`, copied with
CREATE DATABASE ... TEMPLATE, dropped afterwards; the generator makes no challenges), with
Redis keys under a prefix of its own (removed afterwards) and tasks kept in memory. In the
large organisation it creates an individual challenge over everyone on the points of the
last 30 days of the data (goal: the median participant's points, 100 winners, a bonus),
ends it (results frozen) and times `challenge_results_pay` with its statements counted:
ledger entries, Score totals, levels, badges, notifications, the Redis boards moved after
commit (both Redis sets built beforehand). Then it runs the payment again with every claim
undone, to show that nobody is paid twice. The baseline, in the same run, is the payment
one person at a time as it was before (points_award, badge_award, notification_create per
person) over the first `--baseline-people` results of a twin challenge.
Writes bench/results/challenge_results.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench import bench_copies

ROOT = Path(__file__).resolve().parent.parent
TARGET_QUERIES_PER_100 = 5
TARGET_PEOPLE, TARGET_SECONDS = 50_000, 60


class Counter:
    """Statements sent (transaction control and savepoints apart)."""

    def __init__(self) -> None:
        self.statements = 0
        self.savepoints = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            self.savepoints += 1
        else:
            self.statements += 1
        return execute(sql, params, many, context)


def _timed(step):  # type: ignore[no-untyped-def]
    from django.db import connection

    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        value = step()
        seconds = time.perf_counter() - started
    return value, seconds, counter


def _challenge(organization, title: str):  # type: ignore[no-untyped-def]
    from django.db.models import Max

    from challenges import campaign_metrics as metrics
    from challenges.models import Challenge, ChallengeMetric, ChallengeStatus, PointEntry

    end = PointEntry.objects.filter(organization=organization).aggregate(last=Max("occurred_at"))[
        "last"
    ] + timedelta(seconds=1)
    challenge = Challenge.objects.create(
        organization=organization,
        title=title,
        starts_at=end - timedelta(days=30),
        ends_at=end,
        metric=ChallengeMetric.POINTS,
        winners_count=100,
        bonus_points=50,
        prize="A day off",
        goal=1,
        status=ChallengeStatus.ACTIVE,
    )
    values = sorted(v for v in metrics.values_by_user(challenge, None).values() if v > 0)
    Challenge.objects.filter(pk=challenge.pk).update(goal=values[len(values) // 2] if values else 1)
    return challenge


def _pay_one_at_a_time(challenge, limit: int) -> int:  # type: ignore[no-untyped-def]
    """The payment as it was: per result, its own transaction, and per person
    points_award, badge_award and notification_create (the baseline)."""
    from django.db import transaction
    from django.urls import reverse
    from django.utils import timezone, translation

    from challenges import campaign_metrics as metrics
    from challenges.models import BadgeKind, ChallengeResult, PointReason, ScoringEvent
    from challenges.services.badges import badge_award
    from challenges.services.points import points_award, scoring_points
    from notifications.services import notification_create
    from organizations.models import User

    now = timezone.now()
    completion = scoring_points(
        organization_id=challenge.organization_id, event=ScoringEvent.CHALLENGE_COMPLETED
    )
    prefix = metrics.bonus_key_prefix(challenge.pk)
    pending = challenge.results.filter(paid_at__isnull=True).order_by("pk")
    handled = 0
    for result_id in list(pending.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            if not ChallengeResult.objects.filter(pk=result_id, paid_at__isnull=True).update(
                paid_at=now
            ):
                continue
            result = ChallengeResult.objects.get(pk=result_id)
            for person in User.objects.filter(pk__in={result.user_id}, is_active=True):
                earns = result.is_winner if challenge.winners_count else result.goal_reached
                if earns:
                    points_award(
                        user=person,
                        reason=PointReason.CHALLENGE_BONUS,
                        points=challenge.bonus_points,
                        source_key=f"{prefix}bonus:{person.pk}",
                        occurred_at=challenge.ends_at,
                        note=challenge.title,
                    )
                if result.goal_reached:
                    points_award(
                        user=person,
                        reason=PointReason.CHALLENGE_COMPLETED,
                        points=completion,
                        source_key=f"{prefix}completed:{person.pk}",
                        occurred_at=challenge.ends_at,
                        note=challenge.title,
                    )
                if result.is_winner:
                    badge_award(
                        user=person,
                        badge=BadgeKind.CHALLENGE_WINNER,
                        key=f"challenge_winner:{challenge.pk}:{person.pk}",
                        awarded_at=challenge.ends_at,
                    )
                with translation.override(person.language):
                    notification_create(
                        recipient=person,
                        kind="challenges.results",
                        title=f"The results of “{challenge.title}” are out",
                        url=reverse("challenge_detail", args=[challenge.pk]),
                    )
            handled += 1
    return handled


def _run(baseline_people: int) -> dict:
    from django.db.models import Count, Sum
    from django.utils import timezone

    from challenges.models import BadgeAward, Challenge, ChallengeResult, PointEntry, Score
    from challenges.services import leaderboards
    from challenges.services.campaigns import challenge_end, challenge_results_pay
    from notifications.models import Notification
    from organizations.models import Organization

    organization = (
        Organization.objects.annotate(people=Count("members")).order_by("-people", "pk").first()
    )
    assert organization is not None
    now = timezone.now()
    leaderboards.leaderboards_rebuild_all(now=now)  # the sets the payment moves
    challenge = _challenge(organization, "Bench results")
    twin = _challenge(organization, "Bench results, one at a time")
    for each in (challenge, twin):
        challenge_end(challenge_id=each.pk, now=each.ends_at + timedelta(minutes=1))
    results = ChallengeResult.objects.filter(challenge=challenge).count()
    entries_before = PointEntry.objects.count()
    notifications_before = Notification.objects.count()
    lifetime_before = Score.objects.filter(organization=organization).aggregate(
        total=Sum("lifetime_points")
    )["total"]
    handled, seconds, counter = _timed(lambda: challenge_results_pay(challenge_id=challenge.pk))
    paid_entries = PointEntry.objects.count() - entries_before
    paid_points = PointEntry.objects.filter(
        source_key__startswith=f"challenge:{challenge.pk}:"
    ).aggregate(total=Sum("points"))["total"]
    lifetime_after = Score.objects.filter(organization=organization).aggregate(
        total=Sum("lifetime_points")
    )["total"]
    told = Notification.objects.count() - notifications_before
    # Every claim undone: the ledger's keys still pay nobody twice.
    ChallengeResult.objects.filter(challenge=challenge).update(paid_at=None)
    Challenge.objects.filter(pk=challenge.pk).update(results_paid_at=None)
    entries_mid = PointEntry.objects.count()
    _again, rerun_seconds, rerun_counter = _timed(
        lambda: challenge_results_pay(challenge_id=challenge.pk)
    )
    rerun_new_entries = PointEntry.objects.count() - entries_mid
    lifetime_rerun = Score.objects.filter(organization=organization).aggregate(
        total=Sum("lifetime_points")
    )["total"]
    baseline_count, baseline_seconds, baseline_counter = _timed(
        lambda: _pay_one_at_a_time(Challenge.objects.get(pk=twin.pk), baseline_people)
    )
    per_person = seconds / max(handled, 1)
    baseline_per_person = baseline_seconds / max(baseline_count, 1)
    return {
        "organization_people": organization.people,
        "results": results,
        "after": {
            "results_paid": handled,
            "seconds": round(seconds, 3),
            "statements": counter.statements,
            "savepoints": counter.savepoints,
            "statements_per_100_people": round(100 * counter.statements / max(handled, 1), 3),
            "entries_written": paid_entries,
            "badges": BadgeAward.objects.filter(key__startswith=f"challenge_winner:{challenge.pk}:")
            .only("pk")
            .count(),
            "notifications_created": told,
            "score_totals_moved_by": lifetime_after - lifetime_before,
            "points_in_ledger": paid_points,
            "ms_per_person": round(1000 * per_person, 3),
            "projected_seconds_for_50000": round(per_person * TARGET_PEOPLE, 1),
        },
        "rerun_with_claims_undone": {
            "seconds": round(rerun_seconds, 3),
            "statements": rerun_counter.statements,
            "new_entries": rerun_new_entries,
            "score_totals_moved_by": lifetime_rerun - lifetime_after,
        },
        "baseline_one_at_a_time": {
            "results_paid": baseline_count,
            "seconds": round(baseline_seconds, 3),
            "statements": baseline_counter.statements,
            "savepoints": baseline_counter.savepoints,
            "statements_per_100_people": round(
                100 * baseline_counter.statements / max(baseline_count, 1), 1
            ),
            "ms_per_person": round(1000 * baseline_per_person, 3),
            "projected_seconds_for_50000": round(baseline_per_person * TARGET_PEOPLE, 1),
        },
        "speedup_per_person": round(baseline_per_person / per_person, 1) if per_person else None,
    }


def _markdown(results: dict) -> str:
    after, base = results["after"], results["baseline_one_at_a_time"]
    rerun = results["rerun_with_claims_undone"]
    ok_queries = after["statements_per_100_people"] <= TARGET_QUERIES_PER_100
    ok_time = after["projected_seconds_for_50000"] <= TARGET_SECONDS
    lines = [
        "# Challenge results paid and announced",
        "",
        f"Scale `{results['scale']}`: the large organisation, {results['organization_people']} "
        f"people; an individual challenge on points over 30 days, {results['results']} results "
        "(100 winners, goal at the median).",
        "",
        "| run | results | seconds | statements | per 100 people | ms per person "
        "| projected for 50,000 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| one at a time (before, same run) | {base['results_paid']} | {base['seconds']} "
        f"| {base['statements']} | {base['statements_per_100_people']} | {base['ms_per_person']} "
        f"| {base['projected_seconds_for_50000']} s |",
        f"| set-based (after) | {after['results_paid']} | {after['seconds']} "
        f"| {after['statements']} | {after['statements_per_100_people']} "
        f"| {after['ms_per_person']} | {after['projected_seconds_for_50000']} s |",
        "",
        f"Targets: ≤ {TARGET_QUERIES_PER_100} queries per 100 people "
        f"({'met' if ok_queries else 'missed'}); {TARGET_PEOPLE:,} people in ≤ {TARGET_SECONDS} s "
        f"({'met' if ok_time else 'missed'}, projected linearly). Speed-up per person: "
        f"{results['speedup_per_person']}×. Savepoints apart from the statements "
        f"({after['savepoints']} after, {base['savepoints']} before).",
        "",
        f"Written: {after['entries_written']} ledger entries ({after['points_in_ledger']} points; "
        f"the Score totals moved by {after['score_totals_moved_by']}), {after['badges']} badges, "
        f"{after['notifications_created']} notifications (results, badges, levels); Redis people "
        "and team boards moved in one pipeline after commit.",
        "",
        f"Re-run with every claim undone: {rerun['new_entries']} new entries, Score totals moved "
        f"by {rerun['score_totals_moved_by']} ({rerun['seconds']} s, {rerun['statements']} "
        "statements; the results are announced again, since the claim is what guards that).",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--baseline-people", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    source = bench_copies.source_target(scale=args.scale, database_url=args.database_url)
    prefix = f"bench-results-{os.getpid()}"
    with bench_copies.database_copy(source, "results") as copy:
        bench_copies.point_django_at(database_url=copy.url, redis_url=args.redis_url, prefix=prefix)
        import django

        django.setup()
        try:
            results = _run(args.baseline_people)
        finally:
            from django.db import connections

            connections.close_all()
            bench_copies.forget_redis(args.redis_url, prefix)
    text = bench_copies.results_write(
        results,
        name="challenge_results",
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
