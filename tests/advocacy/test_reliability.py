"""The share pipeline when the database drops its connection or the broker is down.

Database: the connection is killed (pg_terminate_backend of its own backend, from another
session) at the worst moments: while the network call is in flight, so the outcome must be
written on a new connection (a post that went out is never forgotten), and just after a
share creation committed, so the API must still answer 201.

Broker: with the broker down a share creation makes one connection attempt and no retry:
the row is the outbox and the sweeper sends it later (test_pipeline_faults.py shows that).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from unittest import mock

import pytest
import redis
from django.db import connection

from advocacy.models import AttemptKind, Share, ShareStatus
from advocacy.networks.sandbox.adapter import SandboxAdapter
from advocacy.services import pipeline
from advocacy.services.dispatch import _enqueue
from advocacy.services.pipeline import share_delete
from tests.advocacy import workers
from tests.advocacy.conftest import connect, make_content, share_now
from tests.advocacy.workers import broker_at
from tests.conftest import api_client_for
from tests.database_faults import kill_backend
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

dispatched = workers.dispatched  # a fixture


@pytest.fixture(autouse=True)
def _fresh_connection_after():
    # Whatever a test left behind, the database is emptied on a live connection.
    yield
    connection.close()


# --- a connection killed while the network call is in flight -------------------------------


def test_a_post_accepted_while_the_connection_died_is_recorded(
    personas, fake_network, dispatched, monkeypatch
):
    connect(personas.teammate)
    [share] = share_now(personas.teammate, make_content(personas.organization))
    publish = SandboxAdapter.publish
    killed: list[int] = []

    def publish_while_the_connection_dies(self, credentials, post):
        published = publish(self, credentials, post)
        killed.append(kill_backend(connection))
        return published

    monkeypatch.setattr(SandboxAdapter, "publish", publish_while_the_connection_dies)
    assert dispatched.run() == ["published"]

    assert killed, "the connection was not killed: the test proves nothing"
    [post] = fake_network.live_posts()
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    assert share.external_id == post.id
    assert [a.outcome for a in share.attempts.all()] == ["published"]
    assert len(fake_network.post_requests()) == 1


def test_a_deletion_done_while_the_connection_died_is_recorded(
    personas, fake_network, dispatched, monkeypatch
):
    connect(personas.teammate)
    [share] = share_now(personas.teammate, make_content(personas.organization))
    assert dispatched.run() == ["published"]
    Share.objects.filter(pk=share.pk).update(
        status=ShareStatus.RECALL_PENDING, next_attempt_at=None
    )
    delete = SandboxAdapter.delete
    killed: list[int] = []

    def delete_while_the_connection_dies(self, credentials, external_id):
        call = delete(self, credentials, external_id)
        killed.append(kill_backend(connection))
        return call

    monkeypatch.setattr(SandboxAdapter, "delete", delete_while_the_connection_dies)
    assert share_delete(share_id=share.pk) == "deleted"

    assert killed
    assert fake_network.live_posts() == []
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALLED
    assert share.attempts.filter(kind=AttemptKind.DELETE).count() == 1


def test_a_connection_dropped_after_the_recording_committed_writes_it_once(
    personas, fake_network, dispatched, monkeypatch
):
    """The recording committed, but its answer was lost with the connection: the second
    run finds the attempt written and writes nothing again."""
    connect(personas.teammate)
    [share] = share_now(personas.teammate, make_content(personas.organization))
    record_once = pipeline._record_publish_once
    killed: list[int] = []

    def commit_then_lose_the_answer(*args, **kwargs):
        result = record_once(*args, **kwargs)
        if not killed:
            killed.append(kill_backend(connection))
            connection.cursor().execute("SELECT 1")  # raises, as the lost COMMIT answer would
        return result

    monkeypatch.setattr(pipeline, "_record_publish_once", commit_then_lose_the_answer)
    assert dispatched.run() == ["recorded"]

    assert killed
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    assert share.attempts.count() == 1


# --- a connection killed just after a share creation committed ----------------------------


def test_share_created_then_connection_killed_still_answers_201(personas, fake_network):
    connect(personas.teammate)
    content = make_content(personas.organization)
    client = api_client_for(personas.teammate)
    client.raise_request_exception = False
    killed: list[int] = []

    def enqueue_then_lose_the_connection(name: str, share_id: int, countdown: float) -> None:
        # Runs on commit: the share exists; then the connection dies before the answer.
        killed.append(kill_backend(connection))

    with mock.patch(
        "advocacy.services.dispatch._enqueue", side_effect=enqueue_then_lose_the_connection
    ):
        response = client.post(
            "/api/v1/shares/",
            {"content": content.pk, "networks": ["linkedin"], "when": "now"},
            format="json",
        )

    assert killed
    assert response.status_code == 201, response.content
    [share] = Share.objects.all()
    assert [row["id"] for row in response.json()] == [share.pk]
    assert share.status == ShareStatus.SCHEDULED


def test_a_failing_enqueue_after_commit_is_no_error(personas, fake_network):
    connect(personas.teammate)
    content = make_content(personas.organization)

    with mock.patch(
        "advocacy.services.dispatch._enqueue", side_effect=RuntimeError("broker exploded")
    ):
        response = api_client_for(personas.teammate).post(
            "/api/v1/shares/",
            {"content": content.pk, "networks": ["linkedin"], "when": "now"},
            format="json",
        )

    assert response.status_code == 201, response.content
    share = Share.objects.get()
    assert share.status == ShareStatus.SCHEDULED
    assert share.dispatched_at is not None  # the sweeper sends it again after a while


# --- the broker is down ------------------------------------------------------------------


@pytest.fixture
def connection_attempts() -> Iterator[list[tuple[str, int]]]:
    """Every connection redis-py opens (to the broker or anything else), in order."""
    attempts: list[tuple[str, int]] = []
    opened = redis.connection.Connection.connect

    def counting(self, *args, **kwargs):
        attempts.append((self.host, self.port))
        return opened(self, *args, **kwargs)

    with mock.patch.object(redis.connection.Connection, "connect", counting):
        yield attempts


def test_share_creation_tries_a_stopped_broker_once(
    personas,
    fake_network,
    redis_server: RedisServer,  # noqa: F811
    connection_attempts,
):
    connect(personas.teammate)
    content = make_content(personas.organization)
    redis_server.kill()  # the broker is down: nothing listens on its port any more

    with broker_at(redis_server.url):
        response = api_client_for(personas.teammate).post(
            "/api/v1/shares/",
            {"content": content.pk, "networks": ["linkedin"], "when": "now"},
            format="json",
        )

    assert response.status_code == 201, response.content
    to_broker = [a for a in connection_attempts if a[1] == redis_server.port]
    assert to_broker == [("127.0.0.1", redis_server.port)], "no retry, no second connection"
    share = Share.objects.get()
    assert share.status == ShareStatus.SCHEDULED
    assert share.dispatched_at is not None


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A broker host that does not answer: a listening socket whose backlog is full, so
    the kernel drops new connection requests instead of refusing them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        filler.close()
        server.close()


def test_enqueue_gives_up_at_the_connect_timeout_on_a_silent_broker(
    settings, silent_broker, connection_attempts, caplog
):
    caplog.set_level(logging.WARNING, logger="advocacy.services.dispatch")
    done = threading.Event()

    def enqueue() -> None:
        try:
            _enqueue("publish_share", 1, 0)
        finally:
            done.set()

    with broker_at(silent_broker):
        thread = threading.Thread(target=enqueue, daemon=True)
        thread.start()
        # A deadline for the test, not a benchmark: without a connect timeout the system
        # waits about two minutes per attempt.
        assert done.wait(timeout=10), "the enqueue hangs on a broker that does not answer"
    [record] = [r for r in caplog.records if r.name == "advocacy.services.dispatch"]
    assert "Timeout connecting" in str(record.exc_info[1])
    assert len(connection_attempts) == 1
    assert settings.CELERY_BROKER_CONNECT_TIMEOUT < 1
