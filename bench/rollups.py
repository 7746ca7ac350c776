"""Benchmark of the analytics rollup job, against a bare read of the same raw events in the
same run.

Run by hand from the repository root (not part of the test suite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portevoix \
    .venv/bin/python bench/rollups.py [--shares 3000] [--rounds 3]

It creates a throwaway test database (`test_<name>`, dropped at the end), 90 days of
generated history for one organisation (shares, clicks, metric snapshots, written with
bulk inserts), then times, interleaved over a few rounds:

- `bare_read`: the floor, reading every raw row the fill reads (no computation, no write);
- `full_fill`: `rollups_fill(rebuild=True)`, every day rebuilt;
- `incremental_nothing_new`: `rollups_fill()` with no event since the watermark;
- `incremental_late_clicks`: `rollups_fill()` after late clicks on ten shares (the
  buckets of their days only).

Results go to bench/results/rollups.{json,md}; compare ratios from one run.
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
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from advocacy.models import Click, Share, ShareMode, ShareStatus, TrackedLink  # noqa: E402
from advocacy.networks.metrics import sandbox_curve  # noqa: E402
from analytics.models import DailyRollup, MetricPoll, MetricSnapshot  # noqa: E402
from analytics.services.polling import poll_next_at  # noqa: E402
from analytics.services.rollups import rollups_fill  # noqa: E402

DAYS = 90


def _generate(shares: int, seed: int = 7) -> tuple[int, dict[str, int]]:
    from tests.content.factories import ContentFactory
    from tests.factories import OrganizationFactory, UserFactory

    rng = random.Random(seed)  # noqa: S311 - generated data
    organization = OrganizationFactory(time_zone="Europe/Paris")
    users = [UserFactory(organization=organization) for _ in range(max(10, shares // 15))]
    contents = [ContentFactory(organization=organization) for _ in range(max(5, shares // 50))]
    now = timezone.now()
    rows, seen = [], set()
    while len(rows) < shares:
        user, content = rng.choice(users), rng.choice(contents)
        network = rng.choice(["linkedin", "linkedin", "x", "facebook"])
        if (user.pk, content.pk, network) in seen:
            continue
        seen.add((user.pk, content.pk, network))
        api = network != "facebook" and rng.random() < 0.6
        at = now - timedelta(minutes=rng.randint(60, DAYS * 24 * 60))
        rows.append(
            Share(
                organization=organization,
                user=user,
                content=content,
                network=network,
                mode=ShareMode.API if api else ShareMode.LINK,
                text="bench",
                status=ShareStatus.PUBLISHED,
                scheduled_at=at,
                published_at=at,
                external_id=uuid.uuid4().hex[:12] if api else "",
            )
        )
    Share.objects.bulk_create(rows, batch_size=1000)
    created = list(Share.objects.filter(organization=organization))
    links = TrackedLink.objects.bulk_create(
        [
            TrackedLink(
                organization=organization,
                share=share,
                code=uuid.uuid4().hex[:12],
                destination="https://www.example.org/",
                utm_source=share.network,
                utm_campaign="bench",
            )
            for share in created
        ],
        batch_size=1000,
    )
    clicks, snapshots, polls = [], [], []
    for share, link in zip(created, links, strict=True):
        for index in range(int(rng.expovariate(1 / 10))):
            clicks.append(
                Click(
                    event_id=uuid.uuid4(),
                    organization=organization,
                    link=link,
                    share=share,
                    content_id=share.content_id,
                    sharer_id=share.user_id,
                    network=share.network,
                    visitor=f"{share.pk}-{index % 7}",
                    is_self=rng.random() < 0.02,
                    clicked_at=min(
                        now, share.published_at + timedelta(hours=rng.expovariate(1 / 20))
                    ),
                )
            )
        if share.mode != ShareMode.API:
            continue
        moment, taken = poll_next_at(published_at=share.published_at, after=share.published_at), []
        while moment is not None and moment <= now:
            counts = sandbox_curve(
                share.external_id,
                f"acc-{share.user_id}",
                (moment - share.published_at).total_seconds(),
            )
            taken.append(
                MetricSnapshot(
                    organization=organization,
                    share=share,
                    network=share.network,
                    fetched_at=moment,
                    **counts,
                )
            )
            moment = poll_next_at(published_at=share.published_at, after=moment)
        snapshots += taken
        polls.append(
            MetricPoll(
                organization=organization,
                share=share,
                followers=taken[0].followers if taken else None,
            )
        )
    Click.objects.bulk_create(clicks, batch_size=2000)
    MetricSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    MetricPoll.objects.bulk_create(polls, batch_size=2000)
    MetricSnapshot.objects.filter(organization=organization).update(
        recorded_at=timezone.now() - timedelta(hours=1)
    )
    Click.objects.filter(organization=organization).update(
        recorded_at=timezone.now() - timedelta(hours=1)
    )
    Share.objects.filter(organization=organization).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    return organization.pk, {
        "shares": len(created),
        "clicks": len(clicks),
        "snapshots": len(snapshots),
    }


def _bare_read(organization_id: int) -> int:
    """Every raw row the fill reads, fetched and dropped."""
    count = 0
    count += len(
        list(
            Share.objects.filter(organization_id=organization_id).values_list(
                "pk", "user_id", "content_id", "network", "mode", "published_at"
            )
        )
    )
    count += len(
        list(
            Click.objects.filter(organization_id=organization_id).values_list(
                "sharer_id", "content_id", "network", "clicked_at", "visitor"
            )
        )
    )
    count += len(
        list(
            MetricSnapshot.objects.filter(organization_id=organization_id).values_list(
                "share_id", "fetched_at", "impressions", "reactions", "comments", "reshares"
            )
        )
    )
    return count


def _late_clicks(organization_id: int, rng: random.Random) -> None:
    shares = list(
        Share.objects.filter(organization_id=organization_id).select_related("tracked_link")[:10]
    )
    Click.objects.bulk_create(
        Click(
            event_id=uuid.uuid4(),
            organization_id=organization_id,
            link=share.tracked_link,
            share=share,
            content_id=share.content_id,
            sharer_id=share.user_id,
            network=share.network,
            visitor=f"late-{rng.random()}",
            clicked_at=share.published_at + timedelta(minutes=5),
        )
        for share in shares
    )


def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shares", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args.shares, args.rounds)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        teardown_test_environment()
    _write(results, Path(args.out))


def _run(shares: int, rounds: int) -> dict:
    organization_id, volume = _generate(shares)
    rng = random.Random(11)  # noqa: S311 - generated data
    rollups_fill(organization_id=organization_id)  # warm up, and the first watermark
    samples: dict[str, list[float]] = {
        name: []
        for name in ("bare_read", "full_fill", "incremental_nothing_new", "incremental_late_clicks")
    }
    days = filled = 0
    for _ in range(rounds):
        seconds, _rows = _timed(lambda: _bare_read(organization_id))
        samples["bare_read"].append(seconds)
        seconds, days = _timed(lambda: rollups_fill(organization_id=organization_id, rebuild=True))
        samples["full_fill"].append(seconds)
        seconds, _none = _timed(lambda: rollups_fill(organization_id=organization_id))
        samples["incremental_nothing_new"].append(seconds)
        _late_clicks(organization_id, rng)
        # Run as if minutes had passed: the fill leaves the last few minutes for later.
        later = timezone.now() + timedelta(minutes=6)
        seconds, filled = _timed(
            lambda at=later: rollups_fill(organization_id=organization_id, now=at)
        )
        samples["incremental_late_clicks"].append(seconds)
    bare = statistics.median(samples["bare_read"])
    events = volume["shares"] + volume["clicks"] + volume["snapshots"]
    scenarios = {}
    for name, values in samples.items():
        median = statistics.median(values)
        scenarios[name] = {
            "rounds": len(values),
            "median_s": round(median, 3),
            "min_s": round(min(values), 3),
            "ratio_to_bare_read": round(median / bare, 2),
        }
    scenarios["full_fill"]["days"] = days
    scenarios["full_fill"]["events_per_second"] = round(events / scenarios["full_fill"]["median_s"])
    scenarios["incremental_late_clicks"]["days"] = filled
    return {
        "volume": {
            **volume,
            "days": DAYS,
            "rollup_rows": DailyRollup.objects.filter(organization_id=organization_id).count(),
        },
        "scenarios": scenarios,
    }


def _write(results: dict, out: Path) -> None:
    results["environment"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "rollups.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Rollup job benchmark",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
        "",
        "Volume: " + ", ".join(f"{key} {value}" for key, value in results["volume"].items()),
        "",
        "| scenario | rounds | median s | min s | ÷ bare read | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, s in results["scenarios"].items():
        notes = ", ".join(f"{key} {s[key]}" for key in ("days", "events_per_second") if key in s)
        lines.append(
            f"| {name} | {s['rounds']} | {s['median_s']} | {s['min_s']} | "
            f"{s['ratio_to_bare_read']} | {notes} |"
        )
    (out / "rollups.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
