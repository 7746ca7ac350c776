"""Benchmark of the tracked-link redirect, /s/<code>, against bare redirects in the same run.

Run by hand from the repository root (not part of the test suite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portevoix \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/click_redirect.py

It creates a throwaway test database (`test_<name>`, dropped at the end), one share link,
and times each scenario through Django's test client (the whole middleware stack, no
network socket). Without REDIS_URL it starts a private redis-server on a free port when
one is installed. Results go to bench/results/click_redirect.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponseRedirect  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import include, path  # noqa: E402

from advocacy.models import TrackedLink  # noqa: E402
from advocacy.services import clicks  # noqa: E402

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
BOT = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"


def bare_redirect(request, code):
    """The floor: a redirect through the same middleware, with no database at all."""
    response = HttpResponseRedirect("https://www.example.org/news/1?utm_source=x")
    response["Cache-Control"] = "no-store"
    return response


def lookup_redirect(request, code):
    """The redirect with its one query (the link) but no click capture."""
    link = clicks.link_by_code(code)
    response = HttpResponseRedirect(clicks.link_target(link))
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("bench/bare/<str:code>", bare_redirect),
    path("bench/lookup/<str:code>", lookup_redirect),
    path("", include("config.urls")),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis() -> tuple[str, subprocess.Popen | None]:
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url, None
    binary = shutil.which("redis-server")
    if binary is None:
        return "", None
    import redis

    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            probe.ping()
            return url, process
        except redis.RedisError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("redis-server did not start")


def _make_link() -> TrackedLink:
    from tests.advocacy.conftest import make_content, share_now
    from tests.factories import OrganizationFactory, TeamFactory, UserFactory

    organization = OrganizationFactory()
    team = TeamFactory(organization=organization)
    user = UserFactory(organization=organization, teams=[team])
    content = make_content(organization, link="https://www.example.org/news/1?ref=bench")
    [share] = share_now(user, content, networks=("facebook",))
    return share.tracked_link


def _time(client: Client, url: str, agent: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        response = client.get(url, headers={"User-Agent": agent})
        samples.append((time.perf_counter_ns() - started) / 1000)
        if response.status_code != 302:
            raise SystemExit(f"{url} answered {response.status_code}")
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(samples),
        "mean_us": round(statistics.fmean(samples), 1),
        "median_us": round(statistics.median(samples), 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per scenario")
    parser.add_argument("--rounds", type=int, default=5, help="scenarios interleaved")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()

    redis_url, redis_process = _start_redis()
    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with override_settings(
            ROOT_URLCONF=__name__, CLICK_STREAM_KEY=f"bench-clicks-{os.getpid()}"
        ):
            results = _run(redis_url, args.requests, args.rounds)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        teardown_test_environment()
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
    _write(results, Path(args.out))


def _run(redis_url: str, requests: int, rounds: int) -> dict:
    link = _make_link()
    client = Client()
    code = link.code
    scenarios: dict[str, tuple[str, str, str | None]] = {
        # name: (url, user agent, REDIS_URL for the run; None = no click capture involved)
        "bare_redirect": (f"/bench/bare/{code}", BROWSER, None),
        "lookup_redirect": (f"/bench/lookup/{code}", BROWSER, None),
        "tracked_bot_not_counted": (f"/s/{code}", BOT, ""),
        "tracked_direct_write": (f"/s/{code}", BROWSER, ""),
    }
    if redis_url:
        scenarios["tracked_redis_stream"] = (f"/s/{code}", BROWSER, redis_url)
    samples: dict[str, list[float]] = {name: [] for name in scenarios}
    per_round = max(1, requests // rounds)
    for url, agent, redis_for_run in scenarios.values():  # warm up
        settings.REDIS_URL = redis_for_run or ""
        _time(client, url, agent, 50)
    for _ in range(rounds):
        for name, (url, agent, redis_for_run) in scenarios.items():
            settings.REDIS_URL = redis_for_run or ""
            samples[name] += _time(client, url, agent, per_round)

    drain = {}
    if redis_url:
        # Everything the stream scenario queued, stored the way the beat task does.
        settings.REDIS_URL = redis_url
        queued = clicks.clicks_pending()
        started = time.perf_counter()
        stored = clicks.clicks_drain(consumer="bench", min_idle_ms=0, max_batches=10_000)
        elapsed = time.perf_counter() - started
        drain = {
            "events": stored,
            "queued": queued,
            "seconds": round(elapsed, 3),
            "events_per_second": round(stored / elapsed) if elapsed else None,
            "left_in_stream": clicks.clicks_pending(),
        }
        import redis

        redis.Redis.from_url(redis_url).delete(settings.CLICK_STREAM_KEY)

    summaries = {name: _summary(values) for name, values in samples.items()}
    bare = summaries["bare_redirect"]["median_us"]
    lookup = summaries["lookup_redirect"]["median_us"]
    for summary in summaries.values():
        summary["ratio_to_bare_median"] = round(summary["median_us"] / bare, 2)
        summary["ratio_to_lookup_median"] = round(summary["median_us"] / lookup, 2)
    redis_version = ""
    if redis_url:
        import redis

        redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    return {"scenarios": summaries, "drain": drain, "redis_version": redis_version}


def _write(results: dict, out: Path) -> None:
    redis_version = results.pop("redis_version")
    results["environment"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "redis": redis_version or "none",
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "client": "django.test.Client, in process, full middleware stack",
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "click_redirect.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# /s/<code> redirect benchmark",
        "",
        *(f"- {key}: {value}" for key, value in results["environment"].items()),
        "",
        "| scenario | n | median µs | mean µs | p95 µs | p99 µs | ÷ bare | ÷ lookup |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in results["scenarios"].items():
        lines.append(
            f"| {name} | {s['n']} | {s['median_us']} | {s['mean_us']} | {s['p95_us']} | "
            f"{s['p99_us']} | {s['ratio_to_bare_median']} | {s['ratio_to_lookup_median']} |"
        )
    if results["drain"]:
        d = results["drain"]
        lines += [
            "",
            f"Drain: {d['events']} events stored in {d['seconds']} s "
            f"({d['events_per_second']} events/s), {d['left_in_stream']} left in the stream.",
        ]
    (out / "click_redirect.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
