"""The product's Celery app as the benchmarks run it: every broker key under the run's
prefix (BENCH_BROKER_PREFIX, kombu's `global_keyprefix`), so that a run shares nothing with
other work on the same Redis, and the moment the worker is ready written to
BENCH_READY_FILE (the publishing benchmark starts its clock there).

    celery -A bench.celery_app worker ...
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery.signals import task_prerun, worker_ready

from config.celery import app

_prefix = os.environ.get("BENCH_BROKER_PREFIX", "")
if _prefix:
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        "global_keyprefix": _prefix,
    }

# What config/celery.py should do (see bench/README.md): Celery's Django fix-up closes every
# database connection after every task unless CELERY_DB_REUSE_MAX is set, so each task pays
# a new PostgreSQL connection (a backend process forked, authenticated, configured). With
# BENCH_DB_REUSE_MAX the connection is kept, and each task starts as a web request does:
# close_old_connections() drops one past its CONN_MAX_AGE or broken, and the health check
# (CONN_HEALTH_CHECKS) tests it with one SELECT 1 before its first use.
_reuse = int(os.environ.get("BENCH_DB_REUSE_MAX") or 0)
if _reuse:
    app.conf.CELERY_DB_REUSE_MAX = _reuse

    @task_prerun.connect
    def _fresh_connections(**_kwargs: Any) -> None:
        from django.db import close_old_connections

        close_old_connections()


@worker_ready.connect
def _ready(**_kwargs: Any) -> None:
    ready_file = os.environ.get("BENCH_READY_FILE")
    if ready_file:
        Path(ready_file).write_text(repr(time.time()))


__all__ = ["app"]
