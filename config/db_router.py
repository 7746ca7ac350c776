"""Read replica routing: the dashboards' and exports' reads go to the `replica` alias when
one is configured (DATABASE_REPLICA_URL); everything else, and every write, stays on
`default`.

Only code that asks for it is routed: the dashboard, API and export views run inside
`analytics.replica.replica_reads()`, so a read elsewhere never lands on a replica that lags
behind a write the same request just made. Inside a transaction on the primary, reads stay
there too (they must see the transaction's own writes).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

from analytics.replica import replica_reads_active

REPLICA = "replica"


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Django database router: reads to the replica inside replica_reads(), else default."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if (
            replica_reads_active()
            and replica_configured()
            and not connections["default"].in_atomic_block
        ):
            return REPLICA
        return None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Both aliases hold the same data: objects read from either may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica follows the primary's schema through replication.
        return db != REPLICA
