"""Publishing throughput: N due shares through a real Celery worker to the sandbox network
with a fixed latency per call, against the theoretical limit.

    .venv/bin/python -m bench.publishing [--shares 10000] [--latency-ms 100] \
        [--concurrency 50] [--pool threads] [--per-account 10]

What it does, in a throw-away database (`portevoix_bench_publishing_<pid>`, copied from the
generator's migrated template, dropped afterwards) and Redis database 11 (every key under
the run's prefix, deleted afterwards):

1. starts the sandbox network (`tests.fakes.social_network --demo --latency-ms L`) in a
   process of its own;
2. writes one organisation, N ÷ per-account employees each with a connected sandbox
   account, per-account approved contents, and N due API shares (with their tracked links),
   as `share_create` leaves them: scheduled, due now, dispatched;
3. publishes a few extra shares in-process to profile one publication: its queries, and
   the CPU it costs beyond the network wait;
4. puts the N `publish_share` tasks in the queue, then starts the worker (`celery -A
   bench.celery_app worker --pool threads --concurrency C`); the clock starts when the
   worker says it is ready and stops at the last `published_at`;
5. meanwhile runs the sweeper once (what beat runs every minute), timed, with its queries;
6. checks that the fake holds exactly one post per share, that every share is published
   with the post's id and one attempt; reads the worker's RSS; stops everything.

The theoretical limit is N × latency ÷ concurrency, or the configured rate limits' bound
when that is longer: with the defaults here (per account 30/60 s, 10 shares per account;
per app raised to 1,000,000/60 s) the rate limits are not the bottleneck, and the report
says which bound applies.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.throwaway import (
    DEFAULT_SERVER,
    ROOT,
    children_of,
    environment,
    product_env,
    redis_clean,
    rss_mb,
    throwaway_database,
    wait_http,
)

TARGET = 1.25
PROFILED = 20


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shares", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pool", choices=("threads", "prefork"), default="threads")
    parser.add_argument("--per-account", type=int, default=10, help="shares per account")
    parser.add_argument("--account-limit", default="30/60", help="SANDBOX_LIMIT_PER_ACCOUNT")
    parser.add_argument("--app-limit", default="1000000/60", help="SANDBOX_LIMIT_PER_APP")
    parser.add_argument("--server-url", default=DEFAULT_SERVER, help="PostgreSQL server")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", default="publishing", help="results file name")
    parser.add_argument("--timeout", type=float, default=900, help="give up after (s)")
    parser.add_argument(
        "--reuse-connections",
        action="store_true",
        help="keep each worker thread's database connection across tasks (CELERY_DB_REUSE_MAX)",
    )
    args = parser.parse_args(argv)
    if args.shares < 1 or args.concurrency < 1 or args.per_account < 1:
        parser.error("--shares, --concurrency and --per-account must be at least 1")
    if args.latency_ms < 0:
        parser.error("--latency-ms must be 0 or more")
    return args


def _limit_bound(shares: int, per_account: int, account: str, app: str) -> float:
    """The shortest time the rate limits allow for the run (sliding windows: k × limit
    calls need (k - 1) full windows after the first)."""
    from advocacy.ratelimit import Limit

    account_limit, app_limit = Limit.parse(account), Limit.parse(app)
    by_account = (math.ceil(per_account / account_limit.count) - 1) * account_limit.seconds
    by_app = (math.ceil(shares / app_limit.count) - 1) * app_limit.seconds
    return max(by_account, by_app, 0.0)


def _build(shares: int, per_account: int, run_id: str) -> dict[str, Any]:
    """The organisation, its connected employees and their due shares, in bulk."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from advocacy.models import Share, ShareMode, ShareStatus, SocialAccount, TrackedLink
    from advocacy.token_vault import token_encrypt
    from content.models import Content, ContentKind, ContentStatus, Network
    from organizations.models import Organization, Role, User

    now = timezone.now()
    organization = Organization.objects.create(name="Publishing bench", slug=run_id[:50])
    author = User.objects.create(
        email=f"editor@{run_id}.bench",
        organization=organization,
        role=Role.EDITOR,
        password=make_password(None),
    )
    contents = Content.objects.bulk_create(
        Content(
            organization=organization,
            author=author,
            kind=ContentKind.LINK,
            title=f"Benchmark news {index}",
            why_it_matters="Colleagues should know.",
            link_url=f"https://www.example.org/news/{index}",
            language="en",
            status=ContentStatus.APPROVED,
            publish_at=now,
        )
        for index in range(per_account)
    )
    people = math.ceil(shares / per_account)
    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"person{index}@{run_id}.bench",
            organization=organization,
            role=Role.EMPLOYEE,
            password=password,
        )
        # The profiled extras get accounts of their own: their calls must not use up the
        # measured accounts' rate-limit windows.
        for index in range(people + PROFILED)
    )
    accounts = SocialAccount.objects.bulk_create(
        SocialAccount(
            organization=organization,
            user=user,
            network=Network.LINKEDIN,
            adapter="sandbox",
            external_id=f"sbx-bench{index}",
            display_name=user.email,
            # The fake, run with --demo, accepts these tokens without issuing them.
            access_token=token_encrypt(f"sandbox-demo:bench{index}"),
        )
        for index, user in enumerate(users)
    )
    rows = []
    for index in range(shares + PROFILED):
        if index < shares:
            account, content = accounts[index // per_account], contents[index % per_account]
        else:
            account, content = accounts[people + index - shares], contents[0]
        rows.append(
            Share(
                organization=organization,
                user_id=account.user_id,
                content=content,
                network=Network.LINKEDIN,
                mode=ShareMode.API,
                account=account,
                text=f"{content.title}: proud of our teams ({index}).",
                status=ShareStatus.SCHEDULED,
                scheduled_at=now,
                next_attempt_at=now,
                dispatched_at=now,
            )
        )
    created = Share.objects.bulk_create(rows, batch_size=2000)
    TrackedLink.objects.bulk_create(
        (
            TrackedLink(
                organization=organization,
                share=share,
                destination=share.content.link_url,
                utm_source="linkedin",
                utm_campaign="benchmark",
            )
            for share in created
        ),
        batch_size=2000,
    )
    ids = [share.pk for share in created]
    return {"measured": ids[:shares], "profiled": ids[shares:], "people": people}


def _profile(share_ids: list[int], latency: float) -> dict[str, Any]:
    """Publish a few shares in this process: queries and time per share beyond the wait."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from advocacy.services.pipeline import share_publish

    results: Counter[str] = Counter()
    # The first one pays for imports and connections: a worker pays that once.
    results[share_publish(share_id=share_ids[0])] += 1
    share_ids = share_ids[1:]
    with CaptureQueriesContext(connection) as queries:
        wall, cpu = time.perf_counter(), time.process_time()
        for share_id in share_ids:
            results[share_publish(share_id=share_id)] += 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    statements = Counter(
        query["sql"].split()[0].upper()
        for query in queries.captured_queries
        if query["sql"].split()[0].upper() not in ("SAVEPOINT", "RELEASE")
    )
    count = len(share_ids)
    return {
        "shares": count,
        "results": dict(results),
        "queries_per_share": round(len(queries.captured_queries) / count, 1),
        "statements_per_share": {k: round(v / count, 1) for k, v in statements.most_common()},
        "ms_per_share_beyond_network_wait": round((wall / count - latency) * 1000, 1),
        "cpu_ms_per_share_in_process": round(cpu / count * 1000, 1),
    }


def _sweep_once() -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from advocacy.services.pipeline import shares_sweep

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        counts = shares_sweep()
        seconds = time.perf_counter() - started
    return {"ms": round(seconds * 1000, 1), "queries": len(queries), "counts": counts}


def _enqueue(share_ids: list[int], queue: str) -> float:
    from advocacy.tasks import publish_share
    from bench.celery_app import app

    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for share_id in share_ids:
            publish_share.apply_async(args=[share_id], queue=queue, producer=producer)
    return time.perf_counter() - started


def _fake_state(url: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/_fake/state", timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def _check(share_ids: list[int], fake_url: str) -> dict[str, Any]:
    from advocacy.models import Share, ShareAttempt, ShareStatus

    posts = _fake_state(fake_url)["posts"]
    per_ref = Counter(post["client_ref"] for post in posts)
    shares = {
        str(key): (status, external_id)
        for key, status, external_id in Share.objects.filter(pk__in=share_ids).values_list(
            "idempotency_key", "status", "external_id"
        )
    }
    post_ids = {post["client_ref"]: post["id"] for post in posts}
    published = [key for key, (status, _id) in shares.items() if status == ShareStatus.PUBLISHED]
    attempts = Counter(
        ShareAttempt.objects.filter(share_id__in=share_ids).values_list("share_id", flat=True)
    )
    return {
        "shares": len(share_ids),
        "published": len(published),
        "posts_received": len([ref for ref in per_ref if ref in shares]),
        "duplicates": sum(count - 1 for ref, count in per_ref.items() if ref in shares),
        "lost": sum(1 for key in shares if per_ref.get(key, 0) == 0),
        "database_agrees": all(shares[key][1] == post_ids.get(key) for key in published)
        and len(published) == len(shares),
        "shares_with_more_than_one_attempt": sum(1 for n in attempts.values() if n > 1),
        "statuses": dict(Counter(status for status, _id in shares.values())),
    }


def _wait_done(share_ids: list[int], worker: subprocess.Popen, timeout: float) -> None:
    from advocacy.models import Share, ShareStatus

    deadline = time.monotonic() + timeout
    open_states = (ShareStatus.SCHEDULED, ShareStatus.PUBLISHING)
    while time.monotonic() < deadline:
        left = Share.objects.filter(pk__in=share_ids, status__in=open_states).count()
        if left == 0:
            return
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}")
        time.sleep(0.25)
    raise SystemExit(f"{left} shares still not published after {timeout} s")


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    run_id = f"bench-publishing-{os.getpid()}"
    # The default queue, as in production: retries after a rate limit are sent there. The
    # run's key prefix keeps it apart from any other work on the same Redis.
    queue = "celery"
    latency = args.latency_ms / 1000
    workdir = Path(tempfile.mkdtemp(prefix="portevoix-publishing-"))
    processes: list[subprocess.Popen] = []
    with throwaway_database(args.server_url, "publishing") as database_url:
        fake_port = _free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        env = product_env(
            database_url=database_url,
            redis_url=args.redis_url,
            run_id=run_id,
            SANDBOX_NETWORK_URL=fake_url,
            SANDBOX_LIMIT_PER_ACCOUNT=args.account_limit,
            SANDBOX_LIMIT_PER_APP=args.app_limit,
            BENCH_READY_FILE=str(workdir / "ready"),
            BENCH_DB_REUSE_MAX="1000" if args.reuse_connections else "",
            PYTHONUNBUFFERED="1",
        )
        os.environ.update(env)
        try:
            return _run(args, env, run_id, queue, latency, fake_url, fake_port, workdir, processes)
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in reversed(processes):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            from django.db import connections

            connections.close_all()
            redis_clean(args.redis_url, run_id)


def _run(
    args: argparse.Namespace,
    env: dict[str, str],
    run_id: str,
    queue: str,
    latency: float,
    fake_url: str,
    fake_port: int,
    workdir: Path,
    processes: list[subprocess.Popen],
) -> dict[str, Any]:
    import django

    django.setup()

    def start(command: list[str], log: str) -> subprocess.Popen:
        with (workdir / log).open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our interpreter, our modules
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        processes.append(process)
        return process

    fake = start(
        [sys.executable, "-m", "tests.fakes.social_network", "--port", str(fake_port),
         "--demo", "--latency-ms", str(args.latency_ms)],
        "fake.log",
    )  # fmt: skip
    wait_http(f"{fake_url}/healthz", fake)
    print(f"sandbox network on {fake_url}, {args.latency_ms:g} ms per call", flush=True)

    started = time.perf_counter()
    built = _build(args.shares, args.per_account, run_id)
    print(f"{args.shares} shares on {built['people']} accounts written in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    profile = _profile(built["profiled"], latency)
    print(f"one share in-process: {profile}", flush=True)
    enqueue_seconds = _enqueue(built["measured"], queue)
    print(f"{args.shares} tasks queued in {enqueue_seconds:.1f} s", flush=True)

    ready_file = workdir / "ready"
    worker = start(
        [sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker",
         "--pool", args.pool, "--concurrency", str(args.concurrency), "-Q", queue,
         "-n", f"{run_id}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat",
         "--loglevel", "WARNING"],
        "worker.log",
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not ready_file.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start: {(workdir / 'worker.log').read_text()}")
        time.sleep(0.05)
    ready_at = float(ready_file.read_text())
    theoretical = args.shares * latency / args.concurrency
    limit_bound = _limit_bound(args.shares, args.per_account, args.account_limit, args.app_limit)
    limit = max(theoretical, limit_bound)

    sweep: dict[str, Any] = {}
    sweeper = threading.Timer(
        max(0.5, limit / 3), lambda: sweep.update(_sweep_once())
    )  # as beat would, once during the run
    sweeper.start()
    _wait_done(built["measured"], worker, args.timeout)
    sweeper.join()

    from django.db.models import Max

    from advocacy.models import Share

    last = Share.objects.filter(pk__in=built["measured"]).aggregate(Max("published_at"))
    wall = last["published_at__max"].timestamp() - ready_at
    worker_rss = {"main": rss_mb(worker.pid)}
    for child in children_of(worker.pid):
        worker_rss[f"child {child}"] = rss_mb(child)
    check = _check(built["measured"], fake_url)
    ratio = wall / limit if limit else float("inf")
    results = {
        "benchmark": "publishing",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "params": {
            "shares": args.shares,
            "latency_ms": args.latency_ms,
            "pool": args.pool,
            "concurrency": args.concurrency,
            "accounts": built["people"],
            "shares_per_account": args.per_account,
            "rate_limits": {"account": args.account_limit, "app": args.app_limit},
            "reuse_connections": args.reuse_connections,
        },
        "theoretical_limit_s": round(limit, 2),
        "limit_from": "rate limits" if limit_bound > theoretical else "latency ÷ concurrency",
        "rate_limit_bound_s": round(limit_bound, 2),
        "wall_s": round(wall, 2),
        "ratio": round(ratio, 3),
        "target": TARGET,
        "meets_target": ratio <= TARGET
        and check["duplicates"] == 0
        and check["lost"] == 0
        and check["database_agrees"],
        "shares_per_s": round(args.shares / wall, 1),
        "check": check,
        "profile_in_process": profile,
        "sweeper_during_run": sweep,
        "enqueue_s": round(enqueue_seconds, 2),
        "celery_worker_rss_mb": worker_rss,
        "environment": environment(),
    }
    _write(results, args.results, args.name)
    return results


def _write(results: dict[str, Any], folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    p, check, profile = results["params"], results["check"], results["profile_in_process"]
    sweep = results["sweeper_during_run"]
    lines = [
        "# Publishing throughput",
        "",
        f"- when: {results['when']}; {results['environment']['machine']}; load average "
        f"{results['environment']['load_average']}",
        f"- {p['shares']} shares, {p['accounts']} sandbox accounts ({p['shares_per_account']} "
        f"each), {p['latency_ms']:g} ms per call, Celery `--pool {p['pool']} --concurrency "
        f"{p['concurrency']}`{', connections kept across tasks' if p['reuse_connections'] else ''}, rate limits per account {p['rate_limits']['account']}, per app "
        f"{p['rate_limits']['app']} (bound {results['rate_limit_bound_s']} s)",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| theoretical limit ({results['limit_from']}) | {results['theoretical_limit_s']} s |",
        f"| wall time (worker ready → last published) | {results['wall_s']} s |",
        f"| ratio | {results['ratio']}× (target ≤ {results['target']}×: "
        f"{'met' if results['meets_target'] else 'missed'}) |",
        f"| shares per second | {results['shares_per_s']} |",
        f"| published / posts received / duplicates / lost | {check['published']} / "
        f"{check['posts_received']} / {check['duplicates']} / {check['lost']} |",
        f"| database agrees with the network | {check['database_agrees']} |",
        f"| queries per share (in-process profile) | {profile['queries_per_share']} |",
        f"| time per share beyond the network wait (in-process) | "
        f"{profile['ms_per_share_beyond_network_wait']} ms |",
        f"| sweeper once during the run | {sweep.get('ms', '–')} ms, "
        f"{sweep.get('queries', '–')} queries, {sweep.get('counts', {})} |",
        f"| Celery worker RSS after the run | "
        f"{', '.join(f'{k}: {v} MB' for k, v in results['celery_worker_rss_mb'].items())} |",
    ]
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    results = run()
    print(json.dumps({k: results[k] for k in ("theoretical_limit_s", "wall_s", "ratio")}))
    print(json.dumps(results["check"]))
    return 0 if results["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
