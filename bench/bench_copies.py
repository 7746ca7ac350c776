"""A throw-away copy of a generated database, for benchmarks that write: `CREATE
DATABASE ... TEMPLATE` of a `portevoix_bench_*` database (seconds at small scale), and
the Django settings a benchmark process points at it before `django.setup()`."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg2 import sql

from bench import databases


def source_target(*, scale: str, database_url: str | None) -> databases.Target:
    """The generated database to read: --database-url, else portevoix_bench_<scale> on
    the server of DATABASE_URL. Only a generated database is accepted."""
    if database_url:
        target = databases.Target.parse(database_url)
    else:
        base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        target = databases.Target.parse(base).with_name(f"{databases.PREFIX}{scale}")
    if not target.name.startswith(databases.PREFIX):
        raise databases.Refused(f"{target.name!r} is not a generated database")
    if databases.generated_manifest(target) is None:
        raise databases.Refused(f"{target.name!r} holds no finished generation: generate it")
    return target


@contextmanager
def database_copy(source: databases.Target, label: str) -> Iterator[databases.Target]:
    """A copy of `source` named after it, dropped on the way out."""
    copy = source.with_name(f"{source.name}_{label}_{os.getpid()}"[:63])
    admin = source.connect("postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(copy.name), sql.Identifier(source.name)
                )
            )
        yield copy
    finally:
        databases.drop(copy)
        admin.close()


def point_django_at(*, database_url: str, redis_url: str, prefix: str) -> None:
    """Environment for django.setup(): the bench's database, Redis with keys of its own,
    tasks kept in memory (nothing reaches a shared broker), no debug query log."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["LEADERBOARD_KEY_PREFIX"] = f"{prefix}:leaderboard"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("PORTEVOIX_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def forget_redis(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)


def results_write(
    results: dict[str, Any],
    *,
    name: str,
    scale: str,
    database: str,
    out: str | Path,
    markdown: Callable[[dict[str, Any]], str],
) -> str:
    """Stamp a run's results with its scale, database and machine, write `<name>.json` and
    `<name>.md` to `out`, and return the markdown."""
    results["scale"] = scale
    results["database"] = database
    results["environment"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (folder / f"{name}.md").write_text(text)
    return text
