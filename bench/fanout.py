"""Fan-out of one campaign: a notification (in the app, by email, by push) to a whole
company, the way notification_create_many does it, beside the per-person loop it replaced.

    .venv/bin/python -m bench.fanout [--people 10000] [--legacy-people 2000]

In a throw-away database (`portevoix_bench_fanout_<pid>`, dropped afterwards) it writes one
organisation of `--people` employees: 2 % inactive, 10 % who turned this kind's email off,
20 % with a device for web push (VAPID keys set for the run), 5 % of those who turned its
push off. Then it times, with the queries and the tasks handed to the broker (Redis
database 11, every key under the run's prefix, counted in the queue and deleted; no worker
runs: the figure is the fan-out, not the sending):

- `bulk`: notification_create_many to everyone (kind `challenges.launched`: email on by
  default, pushable), commit included (the tasks are sent on commit);
- `per_person_loop`: the implementation it replaced, notification_create per person in
  one transaction, to `--legacy-people` of them (it grows linearly; per person figures
  are given to compare).

Target (issue 14): 10,000 people in ≤ 60 s, rows and tasks created in bulk.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.throwaway import (
    DEFAULT_SERVER,
    ROOT,
    environment,
    product_env,
    redis_clean,
    throwaway_database,
)

KIND = "challenges.launched"
TARGET_SECONDS = 60.0
TARGET_PEOPLE = 10_000


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=TARGET_PEOPLE)
    parser.add_argument("--legacy-people", type=int, default=2000)
    parser.add_argument("--server-url", default=DEFAULT_SERVER, help="PostgreSQL server")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", default="fanout", help="results file name")
    args = parser.parse_args(argv)
    if args.people < 1 or args.legacy_people < 0:
        parser.error("--people must be at least 1 and --legacy-people at least 0")
    return args


def _build(people: int, run_id: str) -> list[int]:
    from django.contrib.auth.hashers import make_password

    from notifications.models import EmailPreference, PushPreference, PushSubscription
    from organizations.models import Organization, Role, User

    organization = Organization.objects.create(name="Fan-out bench", slug=run_id[:50])
    password = make_password(None)
    users = User.objects.bulk_create(
        (
            User(
                email=f"person{index}@{run_id}.bench",
                organization=organization,
                role=Role.EMPLOYEE,
                language="fr" if index % 2 else "en",
                is_active=index % 50 != 0,
                password=password,
            )
            for index in range(people)
        ),
        batch_size=2000,
    )
    EmailPreference.objects.bulk_create(
        EmailPreference(user=user, kind=KIND, email=False) for user in users[3::10]
    )
    with_device = users[1::5]
    PushSubscription.objects.bulk_create(
        (
            PushSubscription(
                organization=organization,
                user=user,
                endpoint=f"https://push.example.test/{run_id}/{user.pk}",
                p256dh="B" * 87,
                auth="A" * 22,
            )
            for user in with_device
        ),
        batch_size=2000,
    )
    PushPreference.objects.bulk_create(
        PushPreference(user=user, kind=KIND, push=False) for user in with_device[::20]
    )
    return [user.pk for user in users]


def _queued(redis_url: str, prefix: str) -> dict[str, int]:
    """Messages waiting in the broker's default queue, by task name."""
    import redis

    client = redis.Redis.from_url(redis_url)
    counts: dict[str, int] = {}
    for raw in client.lrange(f"{prefix}celery", 0, -1):
        name = json.loads(raw)["headers"]["task"].rsplit(".", 1)[-1]
        counts[name] = counts.get(name, 0) + 1
    client.delete(f"{prefix}celery")
    return counts


def _measure(name: str, user_ids: list[int], redis_url: str, prefix: str) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Notification
    from notifications.services import notification_create, notification_create_many
    from organizations.models import User

    _queued(redis_url, prefix)
    people = list(User.objects.filter(pk__in=user_ids).order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if name == "bulk":
            notification_create_many(
                recipients=people, kind=KIND, title="New challenge: Spring", body="Share!"
            )
        else:
            with transaction.atomic():
                for person in people:
                    notification_create(
                        recipient=person, kind=KIND, title="New challenge: Spring", body="Share!"
                    )
        seconds = time.perf_counter() - started
    rows = Notification.objects.filter(recipient_id__in=user_ids).count()
    tasks = _queued(redis_url, prefix)
    Notification.objects.all().delete()
    count = len(people)
    return {
        "people": count,
        "seconds": round(seconds, 2),
        "ms_per_person": round(seconds / count * 1000, 3),
        "queries": len(queries),
        "queries_per_100_people": round(len(queries) / count * 100, 2),
        "notification_rows": rows,
        "tasks_enqueued": tasks,
        "tasks_total": sum(tasks.values()),
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    run_id = f"bench-fanout-{os.getpid()}"
    prefix = f"{run_id}:"
    with throwaway_database(args.server_url, "fanout") as database_url:
        os.environ.update(
            product_env(database_url=database_url, redis_url=args.redis_url, run_id=run_id)
        )
        try:
            import django

            django.setup()
            from django.conf import settings

            from notifications.push import vapid_keys_generate

            public, private = vapid_keys_generate()
            settings.WEBPUSH_VAPID_PUBLIC_KEY = public
            settings.WEBPUSH_VAPID_PRIVATE_KEY = private
            settings.WEBPUSH_VAPID_SUBJECT = "mailto:bench@portevoix.test"
            import bench.celery_app  # noqa: F401 - the broker keys under the run's prefix

            started = time.perf_counter()
            user_ids = _build(args.people, run_id)
            print(f"{args.people} people written in {time.perf_counter() - started:.1f} s")
            scenarios = {"bulk": _measure("bulk", user_ids, args.redis_url, prefix)}
            print(f"bulk: {scenarios['bulk']}", flush=True)
            if args.legacy_people:
                legacy = _measure("loop", user_ids[: args.legacy_people], args.redis_url, prefix)
                scenarios["per_person_loop"] = legacy
                print(f"per-person loop: {legacy}", flush=True)
        finally:
            from django.db import connections

            connections.close_all()
            redis_clean(args.redis_url, run_id)
    bulk = scenarios["bulk"]
    # The target is for 10,000 people; a smaller run is scaled linearly to compare.
    projected = bulk["seconds"] * TARGET_PEOPLE / bulk["people"]
    results = {
        "benchmark": "fanout",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "kind": KIND,
        "population": {
            "people": args.people,
            "inactive": "2 %",
            "email_off": "10 %",
            "with_a_device": "20 %",
            "push_off_among_them": "5 %",
        },
        "scenarios": scenarios,
        "target_seconds_for_10000": TARGET_SECONDS,
        "projected_seconds_for_10000": round(projected, 2),
        "meets_target": projected <= TARGET_SECONDS,
        "environment": environment(),
    }
    if "per_person_loop" in scenarios:
        loop = scenarios["per_person_loop"]
        results["speedup_per_person"] = round(loop["ms_per_person"] / bulk["ms_per_person"], 1)
    _write(results, args.results, args.name)
    return results


def _write(results: dict[str, Any], folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Fan-out of one campaign",
        "",
        f"- when: {results['when']}; {results['environment']['machine']}; load average "
        f"{results['environment']['load_average']}",
        f"- kind `{results['kind']}` (email on by default, pushable); population: "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in results["population"].items()),
        "- no worker: the figures are the fan-out (rows written, tasks handed to Redis on "
        "commit), not the sending",
        "",
        "| scenario | people | seconds | ms per person | queries | per 100 people | rows | tasks |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario, row in results["scenarios"].items():
        tasks = ", ".join(f"{k} {v}" for k, v in sorted(row["tasks_enqueued"].items())) or "0"
        lines.append(
            f"| {scenario} | {row['people']} | {row['seconds']} | {row['ms_per_person']} | "
            f"{row['queries']} | {row['queries_per_100_people']} | {row['notification_rows']} "
            f"| {tasks} |"
        )
    lines += [
        "",
        f"10,000 people (projected from this run): {results['projected_seconds_for_10000']} s "
        f"(target ≤ {results['target_seconds_for_10000']:g} s: "
        f"{'met' if results['meets_target'] else 'missed'})"
        + (
            f"; {results['speedup_per_person']}× faster per person than the loop."
            if "speedup_per_person" in results
            else ""
        ),
    ]
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    results = run()
    return 0 if results["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
