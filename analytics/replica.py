"""Which reads may go to a read replica: the dashboards', the API's and the exports'.

They run inside `replica_reads()` (the views are decorated with `reads_from_replica`);
config/db_router.py sends the reads made inside it to the `replica` database when one is
configured (DATABASE_REPLICA_URL), and everything else to `default`. A replica trails the
primary by its replication lag (well under a second, usually): the dashboards read daily
rollups refilled every five minutes, so the lag never shows there."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

_replica_reads: ContextVar[bool] = ContextVar("analytics_replica_reads", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def replica_reads_active() -> bool:
    return _replica_reads.get()


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(view: F) -> F:
    """A view (or API method) whose reads may be served by the replica."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
