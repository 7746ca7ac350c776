"""Database faults for tests: kill a connection's own PostgreSQL backend from another
session, as an operator's pg_terminate_backend, a failover or a pooler restart would."""

from __future__ import annotations

import psycopg2
import pytest
from django.db.backends.base.base import BaseDatabaseWrapper

from tests.advocacy.workers import wait_for


def backend_pid(connection: BaseDatabaseWrapper) -> int:
    """The server process behind Django's connection (opened if needed)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def kill_backend(connection: BaseDatabaseWrapper, *, pid: int | None = None) -> int:
    """Terminate the backend of `connection` (or `pid`) from a session of our own and wait
    until the server has let it go. Django's connection object does not know yet: its next
    query fails. Returns the pid."""
    pid = pid if pid is not None else backend_pid(connection)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    killer = psycopg2.connect(**params)
    killer.autocommit = True
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0], f"backend {pid} was not there to terminate"

            def gone() -> bool:
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                return cursor.fetchone() is None

            wait_for(gone, timeout=10, what=f"backend {pid} to end")
    finally:
        killer.close()
    return pid
