"""The share pipeline against faults, with real PostgreSQL, Redis, the fake network over
HTTP and a real Celery worker subprocess: a rolled-back transaction, a broker that is down,
a worker killed at the two dangerous moments, and a task delivered twice."""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from django.db import connection, transaction

from advocacy.models import Share, ShareStatus
from advocacy.services.pipeline import share_publish, shares_sweep
from advocacy.services.sharing import ShareRequest, share_create
from tests.advocacy import workers
from tests.advocacy.conftest import connect, make_content, share_now
from tests.advocacy.workers import broker_at, queue_length, wait_for
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

celery_queue = workers.celery_queue  # a fixture
celery_worker = workers.celery_worker  # a fixture
dispatched = workers.dispatched  # a fixture


def _share_unique(user, content) -> Share:
    # The network refuses the same text twice from one account, as real networks do.
    [share] = share_create(
        user=user,
        data=ShareRequest(
            content_id=content.pk,
            networks=["linkedin"],
            captions={"linkedin": f"Proud of our teams, part {content.pk}."},
        ),
    )
    return share


def _statuses(*shares: Share) -> list[str]:
    return [Share.objects.get(pk=s.pk).status for s in shares]


def test_rolled_back_share_leaves_no_row_no_task_no_post(personas, fake_network, celery_queue):
    content = make_content(personas.organization, author=personas.owner)
    connect(personas.teammate)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        share_now(personas.teammate, content)
        raise Abort

    assert not Share.objects.exists()
    assert queue_length(celery_queue) == 0
    assert fake_network.post_requests() == []

    # The same call committed does put one message on the queue: the check above can fail.
    share_now(personas.teammate, content)
    assert queue_length(celery_queue) == 1
    assert fake_network.post_requests() == []


def test_broker_down_at_creation_then_sweeper_and_worker_post_each_once(
    personas, fake_network, celery_worker, settings
):
    connect(personas.teammate)
    contents = [make_content(personas.organization, author=personas.owner) for _ in range(3)]
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with broker_at(dead):
        shares = []
        for content in contents:
            started = time.monotonic()
            share = _share_unique(personas.teammate, content)
            # A sanity bound, not a benchmark: the request must not hang on the broker.
            assert time.monotonic() - started < 10
            shares.append(share)
    assert _statuses(*shares) == [ShareStatus.SCHEDULED] * 3

    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    # Swept twice: every share is then on the queue twice, so the worker's two threads
    # also meet the same task delivered twice at once.
    assert shares_sweep()["dispatched"] == 3
    assert shares_sweep()["dispatched"] == 3
    assert queue_length(celery_worker.queue) == 6
    celery_worker.start()
    wait_for(
        lambda: _statuses(*shares) == [ShareStatus.PUBLISHED] * 3,
        timeout=30,
        what="the worker to publish the three shares",
    )
    wait_for(lambda: queue_length(celery_worker.queue) == 0, timeout=10, what="an empty queue")
    time.sleep(0.5)  # the duplicates' runs finish; none may post again
    posts = fake_network.live_posts()
    assert sorted(p.client_ref for p in posts) == sorted(str(s.idempotency_key) for s in shares)
    assert len(fake_network.post_requests()) == 3


def _lock_account(account_id: int) -> psycopg2.extensions.connection:
    """Holds the account's row lock from a connection of its own, as another worker would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    holder = psycopg2.connect(**params)
    holder.autocommit = False
    with holder.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM advocacy_socialaccount WHERE id = %s FOR NO KEY UPDATE", [account_id]
        )
    return holder


def test_worker_killed_after_claim_before_call_posts_once_after_recovery(
    personas, fake_network, celery_worker, settings
):
    account = connect(personas.teammate)
    content = make_content(personas.organization, author=personas.owner)
    holder = _lock_account(account.pk)
    try:
        worker = celery_worker.start()
        [share] = share_now(personas.teammate, content)
        # The worker has claimed the share and now waits for the account's lock, just
        # before it would mark the request as sent.
        wait_for(lambda: _statuses(share) == [ShareStatus.PUBLISHING], timeout=30, what="the claim")
        worker.kill()
    finally:
        holder.rollback()
        holder.close()
    share.refresh_from_db()
    assert share.request_sent_at is None
    assert fake_network.post_requests() == []

    settings.SHARE_CLAIM_TIMEOUT_SECONDS = 1
    wait_for(
        lambda: shares_sweep()["recovered"] == 1,
        timeout=10,
        what="the sweeper to take the abandoned claim back",
    )
    assert _statuses(share) == [ShareStatus.SCHEDULED]
    celery_worker.start()
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    wait_for(
        lambda: shares_sweep()["dispatched"] or _statuses(share) == [ShareStatus.PUBLISHED],
        timeout=10,
        what="the sweeper to dispatch the recovered share",
    )
    wait_for(
        lambda: _statuses(share) == [ShareStatus.PUBLISHED], timeout=30, what="the publication"
    )
    assert len(fake_network.live_posts()) == 1
    assert len(fake_network.post_requests()) == 1


def test_worker_killed_after_the_post_was_accepted_is_reconciled_not_reposted(
    personas, fake_network, celery_worker, settings
):
    connect(personas.teammate)
    content = make_content(personas.organization, author=personas.owner)
    fake_network.script({"accept_then_hang": 30})
    settings.NETWORK_READ_TIMEOUT = 60  # the worker must still be waiting when it dies
    worker = celery_worker.start()
    settings.NETWORK_READ_TIMEOUT = 2
    [share] = share_now(personas.teammate, content)
    wait_for(lambda: fake_network.live_posts(), timeout=30, what="the fake to hold the post")
    worker.kill()
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHING
    assert share.request_sent_at is not None

    settings.SHARE_CLAIM_TIMEOUT_SECONDS = 1
    celery_worker.start()  # a new worker is running while recovery happens
    wait_for(lambda: shares_sweep()["recovered"] == 1, timeout=10, what="the recovery")
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED  # the fake can tell: reconciled
    [post] = fake_network.live_posts()
    assert share.external_id == post.id
    assert [a.kind for a in share.attempts.all()] == ["reconcile"]
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    shares_sweep()
    time.sleep(0.5)
    assert len(fake_network.post_requests()) == 1


def test_same_share_published_by_two_threads_at_once_posts_once(personas, fake_network, dispatched):
    connect(personas.teammate)
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    fake_network.script({"latency": 0.5})
    barrier = threading.Barrier(2)
    results: list[str] = []

    def publish() -> None:
        try:
            barrier.wait(timeout=5)
            results.append(share_publish(share_id=share.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results.count("published") == 1
    # The loser either lost the claim or read the row after the winner's claim.
    assert len(results) == 2 and set(results) - {"published"} <= {"taken", "not-scheduled"}
    assert len(fake_network.post_requests()) == 1
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    assert share.attempts.count() == 1
