"""A task for the broker outage tests, loaded by their worker (`-I tests.config.broker_tasks`):
it says it started, then holds its message (unacknowledged: task_acks_late) until the test
releases it by creating a file."""

from __future__ import annotations

import time
from pathlib import Path

from config.celery import app

HOLD = "tests.broker.hold"


@app.task(name=HOLD)
def hold(folder: str, name: str, deadline_seconds: float = 60.0) -> None:
    base = Path(folder)
    (base / f"{name}.started").touch()
    deadline = time.monotonic() + deadline_seconds
    while not (base / f"{name}.release").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} was never released")
        time.sleep(0.02)
    (base / f"{name}.done").touch()
