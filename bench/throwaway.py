"""Throw-away databases and processes for the benchmarks that drive the product from a
script (publishing, fan-out, memory): a migrated database copied from the generator's
template (a second, not a migration run), dropped afterwards; the environment the product
runs with against it, every Redis key under a prefix of the run's own; RSS readings."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import databases, generate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url_named(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def throwaway_database(server_url: str, label: str) -> Iterator[str]:
    """A migrated empty database `portevoix_bench_<label>_<pid>` on the server of
    `server_url`, dropped on the way out. Yields its URL."""
    name = f"{databases.PREFIX}{label}_{os.getpid()}"
    target = databases.Target.parse(database_url_named(server_url, name))
    databases.check_target(target, app_database_url=os.environ.get("DATABASE_URL"))
    databases.recreate(target, lambda message: print(message, flush=True))
    try:
        yield target.url
    finally:
        databases.drop(target)


def product_env(*, database_url: str, redis_url: str, run_id: str, **extra: str) -> dict[str, str]:
    """The product's settings for a benchmark run: production mode, the bench's keys, and
    every Redis key (cache, rate limits, clicks, leaderboards) under `run_id`."""
    return (
        dict(os.environ)
        | {
            "PORTEVOIX_ENV": "production",
            "DEBUG": "false",
            "SECRET_KEY": generate.BENCH_SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": generate.BENCH_FIELD_ENCRYPTION_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CACHE_KEY_PREFIX": run_id,
            "CLICK_STREAM_KEY": f"{run_id}:clicks",
            "LEADERBOARD_KEY_PREFIX": f"{run_id}:leaderboard",
            "RATE_LIMIT_KEY_PREFIX": f"{run_id}:ratelimit",
            "BENCH_BROKER_PREFIX": f"{run_id}:",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        | extra
    )


def redis_clean(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def wait_http(url: str, process: subprocess.Popen, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):  # noqa: S310
            return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def environment() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "executable": sys.executable,
    }
