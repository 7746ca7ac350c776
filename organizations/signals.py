"""Signals other apps subscribe to (in their AppConfig.ready), so this app never imports
a higher one."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

# sender=User; user, previous, actor
member_role_changed = Signal()
# sender=Invitation; invitation, user
invitation_accepted = Signal()
# sender=the seed command; organization. Later features add their demo data here.
demo_seeded = Signal()

# True while the demo writes its history: what it records happened in the past, so no one
# is emailed about it (the notifications are in the app; the worker's queue stays free).
_seeding_demo: ContextVar[bool] = ContextVar("seeding_demo", default=False)


def seeding_demo() -> bool:
    return _seeding_demo.get()


@contextmanager
def demo_history() -> Iterator[None]:
    token = _seeding_demo.set(True)
    try:
        yield
    finally:
        _seeding_demo.reset(token)
