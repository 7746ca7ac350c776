"""A real Celery worker in a subprocess, on a queue of its own, against the pytest database,
and helpers to point the test process's producer at a queue or a dead broker.

Import the fixtures into a test module:

    from tests.advocacy.workers import celery_queue, celery_worker  # noqa: F401
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05):
    """Poll until `predicate` returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def _reset_routing() -> None:
    # Celery caches the queues and the router built from the first default queue it saw.
    amqp = app.amqp
    for name in ("queues", "default_queue", "router"):
        amqp.__dict__.pop(name, None)
    amqp._rtable = None


def _reset_producer_pool() -> None:
    # The producer pool is bound to the broker URL it was first built with; dropping it
    # makes the next publish connect to whatever `broker_url` says now. Not closed: kombu
    # keeps pools in a registry by URL and would hand the closed one back later.
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point the test process's producer at `url` (a port with nothing listening is a
    broker that is down), then back."""
    before = app.conf.broker_url
    app.conf.broker_url = url
    _reset_producer_pool()
    try:
        yield
    finally:
        app.conf.broker_url = before
        _reset_producer_pool()


def redis_url_outside_cache(url: str = "") -> str:
    """`url` (the broker's by default) moved to a Redis database of its own: the test suite
    clears the cache (a FLUSHDB of REDIS_URL's database) before every test, which would
    wipe the queues, bindings and rate windows of tests running in parallel."""
    parts = urlsplit(url or settings.CELERY_BROKER_URL)
    db = parts.path.strip("/") or "0"
    broker_db = "15" if db != "15" else "14"
    return urlunsplit(parts._replace(path=f"/{broker_db}"))


def _redis():
    import redis

    return redis.Redis.from_url(app.conf.broker_url)


@pytest.fixture
def celery_queue() -> Iterator[str]:
    """Every task the test process sends goes to a queue of this test's own."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs the Redis broker (REDIS_URL)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    queue = f"pvtest-{worker}-{uuid.uuid4().hex[:10]}"
    before = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    _reset_routing()
    try:
        with broker_at(redis_url_outside_cache()):
            try:
                yield queue
            finally:
                client = _redis()
                for key in client.scan_iter(f"{queue}*"):
                    client.delete(key)
                client.delete(f"_kombu.binding.{queue}")
    finally:
        app.conf.task_default_queue = before
        _reset_routing()


def queue_length(queue: str) -> int:
    return int(_redis().llen(queue))


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path
    stopped: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker gets no chance to clean up."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.stopped = True

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=8)
        self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class WorkerFactory:
    queue: str
    tmp_path: Path
    workers: list[Worker] = field(default_factory=list)

    def start(self, **extra_env: str) -> Worker:
        if connection.vendor != "postgresql":
            pytest.skip("the worker subprocess needs PostgreSQL (DATABASE_URL)")
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            DATABASE_CONN_MAX_AGE="0",
            REDIS_URL=settings.REDIS_URL,
            CELERY_BROKER_URL=app.conf.broker_url,
            SANDBOX_NETWORK_URL=settings.SANDBOX_NETWORK_URL,
            PORTEVOIX_ENV="test",
            NETWORK_READ_TIMEOUT=str(settings.NETWORK_READ_TIMEOUT),
            SHARE_RETRY_BASE_SECONDS=str(settings.SHARE_RETRY_BASE_SECONDS),
            RATE_LIMIT_KEY_PREFIX=settings.RATE_LIMIT_KEY_PREFIX,
            CLICK_STREAM_KEY=settings.CLICK_STREAM_KEY,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        name = f"{self.queue}-{len(self.workers)}@%h"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    "2",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "INFO",
                    "-n",
                    name,
                    "-Q",
                    self.queue,
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            if not worker.stopped:
                worker.stop()


@pytest.fixture
def celery_worker(celery_queue, tmp_path) -> Iterator[WorkerFactory]:
    """Starts workers on the test's queue (call `.start()`); all are stopped at the end."""
    factory = WorkerFactory(celery_queue, tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@dataclass
class Dispatched:
    """Tasks the pipeline handed to the broker, captured in-process so a test can run them
    as a worker would, when it chooses."""

    calls: list[tuple[str, int, float]] = field(default_factory=list)

    def take(self) -> list[tuple[str, int, float]]:
        calls, self.calls = self.calls, []
        return calls

    def run(self) -> list[str]:
        from advocacy.services.pipeline import share_delete, share_publish

        results = []
        for name, share_id, _countdown in self.take():
            run = share_delete if name == "delete_share" else share_publish
            results.append(run(share_id=share_id))
        return results


@pytest.fixture
def dispatched() -> Iterator[Dispatched]:
    from unittest import mock

    captured = Dispatched()
    with mock.patch(
        "advocacy.services.dispatch._enqueue",
        side_effect=lambda name, share_id, countdown: captured.calls.append(
            (name, share_id, countdown)
        ),
    ):
        yield captured


def publish_at_due_times(share, *, limit: int = 20) -> list[str]:  # type: ignore[no-untyped-def]
    """Publish the share at each moment it asks to be retried, with the clock moved there
    (and frozen, so attempt times are exactly the moments chosen)."""
    import time_machine

    from advocacy.models import ShareStatus
    from advocacy.services.pipeline import share_publish

    results = []
    for _ in range(limit):
        share.refresh_from_db()
        if share.status != ShareStatus.SCHEDULED:
            break
        with time_machine.travel(share.next_attempt_at, tick=False):
            results.append(share_publish(share_id=share.pk))
    return results
