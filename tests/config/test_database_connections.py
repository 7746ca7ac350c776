"""How processes keep their database connections: gunicorn and the workers keep them (and
check them before reuse), runserver closes each one at the end of its request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from config.settings import database_conn_max_age
from organizations.models import Organization
from tests.database_faults import kill_backend

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000", "--noreload"], 0),
        (["/app/.venv/lib/python3.12/site-packages/django/__main__.py", "runserver"], 0),
        (["manage.py", "testserver", "fixture.json"], 0),
        (["/app/.venv/bin/gunicorn", "config.wsgi", "--workers", "2"], 60),
        (["/app/.venv/bin/celery", "-A", "config", "worker"], 60),
        (["manage.py", "migrate"], 60),
        (["manage.py", "shell", "-c", "print('runserver')"], 60),
        ([], 60),
    ],
)
def test_only_runserver_closes_its_connections(argv, kept):
    assert database_conn_max_age(argv, 60) == kept


def _database_settings(argv: list[str]) -> str:
    """The database settings a process started as `argv` gets, from settings.py itself."""
    script = (
        f"import sys; sys.argv = {argv!r}; import django; django.setup(); "
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        PORTEVOIX_ENV="test",
        DATABASE_URL="postgres://portevoix@db.invalid:5432/portevoix",
        DATABASE_CONN_MAX_AGE="60",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_closes_connections_and_gunicorn_keeps_checked_ones():
    assert _database_settings(["manage.py", "runserver", "127.0.0.1:8000"]) == "0 True"
    assert _database_settings(["gunicorn", "config.wsgi"]) == "60 True"


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_killed_while_idle_is_replaced_at_the_next_request(monkeypatch):
    # As in production: the connection is kept between requests (and tasks).
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    assert Organization.objects.count() == 0
    pid = kill_backend(connection)

    close_old_connections()  # what the start of a request, or of a task, does
    try:
        assert Organization.objects.count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        connection.close()
