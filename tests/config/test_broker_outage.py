"""A real Celery worker whose Redis broker is killed and started again, several times, each
time with a task in flight (delivered, not yet acknowledged: task_acks_late): the worker
stays alive and takes the next task after each restart.

Celery 5.7.0 failed this on the first outage: on the lost connection its consumer calls
connection.collect() and then connection.close(); collect() detaches the transport while the
Redis channel's close stopped half-way (its pending BRPOP read raised), so close() closes
the channel again and kombu restores the unacknowledged message through the detached
transport: AttributeError("'NoneType' object has no attribute 'hostname'"), "Unrecoverable
error", and the worker exits (pyproject.toml pins the release before it)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.celery import app
from tests.advocacy.workers import broker_at, wait_for
from tests.config.broker_tasks import HOLD
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[2]
OUTAGES = 3


@dataclass
class OutageWorker:
    process: subprocess.Popen[bytes]
    log: Path
    queue: str
    folder: Path

    def alive(self) -> bool:
        """Running, and not on its way out (a worker that hit an unrecoverable error waits
        for its tasks in flight before it exits)."""
        return self.process.poll() is None and "Unrecoverable error" not in self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def count(self, text: str) -> int:
        return self.output().count(text)

    def send(self, name: str, *, released: bool = False) -> None:
        if released:
            self.release(name)
        app.send_task(HOLD, args=[str(self.folder), name], queue=self.queue)

    def release(self, name: str) -> None:
        (self.folder / f"{name}.release").touch()

    def wait_for_file(self, name: str, *, timeout: float = 30) -> None:
        """Until the task `name` reached that point; a dead worker fails at once."""
        path = self.folder / name
        wait_for(
            lambda: path.exists() or not self.alive(),
            timeout=timeout,
            what=f"{name} from the worker",
        )
        assert self.alive(), f"the worker died:\n{self.output()[-3000:]}"
        assert path.exists()

    def stop(self) -> None:
        # Released, tasks in flight let the worker stop cleanly.
        for started in self.folder.glob("*.started"):
            self.release(started.name.removesuffix(".started"))
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture(params=["threads", "prefork"])
def outage_worker(request, redis_server, tmp_path) -> Iterator[OutageWorker]:  # noqa: F811
    """A worker of the app's configuration (the pool `make run` uses, then the production
    one) on a queue of its own, against the test's own Redis."""
    queue = f"pvoutage-{uuid.uuid4().hex[:10]}"
    folder = tmp_path / "tasks"
    folder.mkdir()
    log = tmp_path / "worker.log"
    env = dict(
        os.environ,
        CELERY_BROKER_URL=redis_server.url,
        PORTEVOIX_ENV="test",
        DATABASE_CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    with broker_at(redis_server.url), log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                request.param,
                "--concurrency",
                "2",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
                "-n",
                f"{queue}@%h",
                "-Q",
                queue,
                "-I",
                "tests.config.broker_tasks",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = OutageWorker(process, log, queue, folder)
        try:
            yield worker
        finally:
            worker.stop()


def test_worker_survives_broker_restarts_with_a_task_in_flight(
    outage_worker: OutageWorker,
    redis_server: RedisServer,  # noqa: F811
):
    worker = outage_worker
    worker.send("warm-up", released=True)
    worker.wait_for_file("warm-up.done", timeout=60)
    connected = worker.count("Connected to redis://")

    for outage in range(1, OUTAGES + 1):
        held = f"held-{outage}"
        worker.send(held)
        worker.wait_for_file(f"{held}.started")

        redis_server.kill()
        wait_for(
            lambda n=outage: worker.count("Connection to broker lost") >= n or not worker.alive(),
            timeout=30,
            what="the worker to notice the broker is gone",
        )
        redis_server.start()
        wait_for(
            lambda n=connected + outage: (
                worker.count("Connected to redis://") >= n or not worker.alive()
            ),
            timeout=60,
            what="the worker to connect again",
        )
        assert worker.alive(), f"the worker died:\n{worker.output()[-3000:]}"
        # The restarted Redis is empty: the worker declares its queue again before it
        # consumes, and a message sent before that would find no route.
        wait_for(
            lambda: redis_server.has_key(f"_kombu.binding.{worker.queue}"),
            timeout=30,
            what="the worker to declare its queue again",
        )

        # The task in flight finishes; a new one is taken.
        worker.release(held)
        worker.wait_for_file(f"{held}.done")
        after = f"after-{outage}"
        worker.send(after, released=True)
        worker.wait_for_file(f"{after}.done")

    assert worker.alive(), f"the worker died:\n{worker.output()[-3000:]}"
