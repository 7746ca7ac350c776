"""The organisation's chain head is locked for the writes only: the record is built before
the lock, and built again from the share as it is once the lock is held when the share
changed meanwhile (a recall while a publication waited for the lock)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advocacy.models import Share, ShareMode, ShareStatus
from archive.models import ArchivedShare, ArchiveEvent, ChainHead
from archive.services import share_archive_observe
from content.models import Network
from tests.archive.conftest import approved_content, archived

pytestmark = pytest.mark.django_db(transaction=True)


def _share(personas, content, status=ShareStatus.PUBLISHED) -> Share:
    return Share.objects.create(
        organization_id=content.organization_id,
        user=personas.teammate,
        content=content,
        network=Network.X,  # the person's LinkedIn share of it is the chain's first entry
        mode=ShareMode.LINK,
        text="Fiers de nos résultats",
        status=status,
        scheduled_at=timezone.now(),
        published_at=timezone.now() if status == ShareStatus.PUBLISHED else None,
    )


def _wait_for(condition, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_change_while_waiting_for_the_lock_is_what_gets_archived(personas):
    content = approved_content(personas.organization)
    archived(personas.teammate, content)  # the organisation's chain has a head
    share = _share(personas, content)
    holding, release = threading.Event(), threading.Event()

    def hold_the_head() -> None:
        try:
            with transaction.atomic():
                ChainHead.objects.select_for_update().get(organization_id=content.organization_id)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    results: list[str] = []

    def observe() -> None:
        try:
            results.append(share_archive_observe(share_id=share.pk))
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    assert holding.wait(10)
    observer = threading.Thread(target=observe)
    observer.start()
    # The observer has read the share as published and waits for the head.
    _wait_for(_someone_waits_for_a_lock)
    Share.objects.filter(pk=share.pk).update(status=ShareStatus.FAILED, last_error="Refusé")
    release.set()
    holder.join(10)
    observer.join(10)
    assert results == ["record"]
    record = ArchivedShare.objects.get(share_id=share.pk)
    assert record.outcome == ShareStatus.FAILED
    assert record.error == "Refusé"
    assert not ArchiveEvent.objects.filter(share_id=share.pk).exists()


def test_the_lock_is_held_for_the_writes_only(personas):
    content = approved_content(personas.organization, reviewer=personas.owner)
    archived(personas.teammate, content)
    share = _share(personas, content)
    with CaptureQueriesContext(connection) as captured:
        assert share_archive_observe(share_id=share.pk) == "record"
    statements = [query["sql"] for query in captured.captured_queries]
    locked_at = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    under_lock = [
        sql
        for sql in statements[locked_at:]
        if not sql.startswith(("SAVEPOINT", "RELEASE", "COMMIT", "BEGIN"))
    ]
    # The head, the share's state, the record's absence, the record, the head again.
    assert len(under_lock) == 5, under_lock
