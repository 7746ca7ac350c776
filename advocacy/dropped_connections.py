"""Database work that must outlive a dropped connection.

After a network call its outcome has to reach the database (the post exists on the network
whatever happens to us), and after a commit the answer has to reach the client (the rows
exist). A connection killed in between (an operator's pg_terminate_backend, a failover, a
pooler restart) must lose neither: the work runs again on a new connection, a bounded number
of times. Only outside a transaction: inside one, the caller's earlier writes went with the
connection, and only the caller can start over.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Pauses before each new attempt: a killed connection is replaced at once; a database that
# is failing over gets a little more time.
RETRY_PAUSES = (0.0, 0.25, 1.0)


def on_live_connection(work: Callable[[int], T], *, what: str) -> T:
    """Run `work(attempt)`, attempt counting from 1. When the database connection fails
    under it, close that connection and run it again on a new one. `work` must be one
    transaction or reads only, so that a run that failed left nothing behind; on a later
    attempt it may check whether the earlier one committed before its connection dropped."""
    attempt = 1
    while True:
        try:
            return work(attempt)
        except (OperationalError, InterfaceError):
            if attempt > len(RETRY_PAUSES) or connection.in_atomic_block:
                raise
            logger.warning(
                "The database connection failed while %s; trying again on a new one",
                what,
                exc_info=True,
            )
            with contextlib.suppress(DatabaseError):
                connection.close()
            time.sleep(RETRY_PAUSES[attempt - 1])
            attempt += 1
