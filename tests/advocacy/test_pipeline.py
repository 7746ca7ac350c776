"""The share pipeline run in-process against the fake network over HTTP: outcomes and
retries, pause and resume, recall, token refresh. Tasks the pipeline hands to the broker are
captured (`dispatched`) and run here when the test chooses, as a worker would."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from advocacy.models import AccountStatus, Share, ShareStatus, SocialAccount
from advocacy.networks.sandbox import SandboxAdapter
from advocacy.services.accounts import account_credentials
from advocacy.services.pipeline import share_publish, shares_sweep
from advocacy.services.sharing import share_confirm, sharing_pause, sharing_resume
from advocacy.token_vault import token_decrypt
from content.services import content_withdraw
from notifications.models import Notification
from organizations.models import Role
from tests.advocacy import workers
from tests.advocacy.conftest import connect, make_content, share_now
from tests.advocacy.workers import wait_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

dispatched = workers.dispatched  # a fixture


def _publish_at_due_times(share: Share, *, limit: int = 20) -> list[str]:
    return workers.publish_at_due_times(share, limit=limit)


def test_share_now_posts_once_with_its_tracked_link(personas, fake_network, dispatched):
    content = make_content(personas.organization, author=personas.owner)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert [name for name, *_ in dispatched.calls] == ["publish_share"]
    assert dispatched.run() == ["published"]
    assert share_publish(share_id=share.pk) == "not-scheduled"
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    [post] = fake_network.live_posts()
    assert post.link.endswith(f"/s/{share.tracked_link.code}")
    assert post.client_ref == str(share.idempotency_key)
    assert share.external_id == post.id
    assert share.attempts.count() == 1


def test_three_5xx_then_success_posts_once_with_growing_gaps(
    personas, fake_network, dispatched, settings
):
    settings.SHARE_RETRY_BASE_SECONDS = 10
    connect(personas.teammate)
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    fake_network.script({"status": 500}, {"status": 502}, {"status": 503})
    results = _publish_at_due_times(share)
    assert results == ["retry", "retry", "retry", "published"]
    assert len(fake_network.live_posts()) == 1
    attempts = list(share.attempts.order_by("started_at"))
    assert [a.status_code for a in attempts] == [500, 502, 503, 201]
    gaps = [
        (later.started_at - earlier.started_at).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]
    assert gaps[0] < gaps[1] < gaps[2], gaps
    assert 5 <= gaps[0] <= 10  # jittered between half and all of the base


def test_429_holds_every_post_until_the_reset(personas, fake_network, dispatched):
    connect(personas.teammate)
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    fake_network.script({"status": 429, "reset_in": 1.5})
    assert share_publish(share_id=share.pk) == "retry"
    [limited] = fake_network.post_requests()
    reset_at = limited.at + 1.5

    # Ask as often as a busy worker might: nothing reaches the network before the reset.
    wait_for(
        lambda: share_publish(share_id=share.pk) == "published",
        timeout=10,
        what="the publication after the reset",
        every=0.02,
    )
    requests = fake_network.post_requests()
    assert len(requests) == 2
    assert requests[1].at >= reset_at - 0.01
    assert len(fake_network.live_posts()) == 1


def test_401_needs_reconnect_without_retry(personas, fake_network, dispatched):
    account = connect(personas.teammate)
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    fake_network.script({"status": 401})
    dispatched.take()
    assert share_publish(share_id=share.pk) == "needs-reconnect"
    share.refresh_from_db()
    account.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.reconnect"
    ).exists()
    assert dispatched.calls == []  # no retry handed to the broker
    assert share_publish(share_id=share.pk) == "not-scheduled"
    assert shares_sweep()["dispatched"] == 0
    assert len(fake_network.post_requests()) == 1
    assert fake_network.live_posts() == []


def test_always_5xx_stops_after_max_attempts_and_is_listed_failed(
    personas, fake_network, dispatched, settings
):
    settings.SHARE_MAX_ATTEMPTS = 4
    connect(personas.teammate)
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    fake_network.script(*[{"status": 500}] * 10)
    assert _publish_at_due_times(share) == ["retry", "retry", "retry", "failed"]
    share.refresh_from_db()
    assert share.status == ShareStatus.FAILED
    assert share.attempts.count() == 4
    assert len(fake_network.post_requests()) == 4
    failed = Share.objects.filter(
        organization=personas.organization, status=ShareStatus.FAILED
    ).values_list("pk", flat=True)
    assert list(failed) == [share.pk]
    assert not Share.objects.filter(
        organization=personas.other_organization, status=ShareStatus.FAILED
    ).exists()
    assert Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.share_problem"
    ).exists()


def test_pause_holds_shares_and_resume_posts_each_once(
    personas, fake_network, dispatched, settings
):
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    connect(personas.teammate)
    connect(personas.owner)
    sharing_pause(actor=personas.owner, reason="Crisis")
    shares = [
        *share_now(personas.teammate, make_content(personas.organization, author=personas.owner)),
        *share_now(personas.owner, make_content(personas.organization, author=personas.owner)),
    ]
    assert dispatched.run() == ["paused", "paused"]
    assert shares_sweep()["dispatched"] == 0
    assert dispatched.calls == []
    assert {s.status for s in Share.objects.all()} == {ShareStatus.SCHEDULED}
    assert fake_network.post_requests() == []

    sharing_resume(actor=personas.owner)
    assert sorted(dispatched.run()) == ["published", "published"]
    # A late sweep and a duplicate delivery change nothing.
    shares_sweep()
    dispatched.run()
    for share in shares:
        assert share_publish(share_id=share.pk) == "not-scheduled"
    assert {s.status for s in Share.objects.all()} == {ShareStatus.PUBLISHED}
    assert len(fake_network.live_posts()) == 2
    assert len(fake_network.post_requests()) == 2


def test_withdrawal_deletes_posts_cancels_waiting_and_asks_link_sharers(
    personas, fake_network, dispatched, settings
):
    settings.SHARE_RETRY_BASE_SECONDS = 10
    content = make_content(personas.organization, author=personas.owner)
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    connect(personas.teammate)
    connect(personas.owner)
    [published] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]
    [waiting] = share_now(
        personas.owner, content, when="schedule", scheduled_at=timezone.now() + timedelta(hours=1)
    )
    link_sharer = UserFactory(organization=personas.organization, role=Role.EMPLOYEE)
    [link_share] = share_now(link_sharer, content)
    assert link_share.mode == "link"
    share_confirm(user=link_sharer, share=link_share)
    [post] = fake_network.live_posts()

    fake_network.script({"status": 503})  # the first deletion fails
    content_withdraw(actor=editor, content=content, reason="Wrong figures")

    statuses = dict(Share.objects.values_list("pk", "status"))
    assert statuses[waiting.pk] == ShareStatus.CANCELLED
    assert statuses[link_share.pk] == ShareStatus.RECALL_ASKED
    assert statuses[published.pk] == ShareStatus.RECALL_PENDING
    assert Notification.objects.filter(recipient=link_sharer, kind="advocacy.recall").exists()
    assert not Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.recall"
    ).exists()

    assert dispatched.run() == ["retry"]
    published.refresh_from_db()
    assert published.status == ShareStatus.RECALL_PENDING
    assert fake_network.live_posts() == [post]
    # The retry rides in the broker with its countdown; it runs once that has passed.
    [(name, _share_id, countdown)] = dispatched.calls
    assert name == "delete_share" and countdown >= 5
    with time_machine.travel(published.next_attempt_at, tick=False):
        assert dispatched.run() == ["deleted"]
    published.refresh_from_db()
    assert published.status == ShareStatus.RECALLED
    assert fake_network.live_posts() == []
    assert [a.kind for a in published.attempts.all()] == ["publish", "delete", "delete"]
    assert len(fake_network.post_requests()) == 1  # the scheduled one never went out


def test_expired_token_is_refreshed_and_saved_before_use(personas, fake_network, dispatched):
    account = connect(personas.teammate)
    old_token = token_decrypt(account.access_token)
    SocialAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    dispatched.take()
    seen: list[tuple[str, str]] = []
    real_publish = SandboxAdapter.publish

    def publish(self, credentials, post):
        stored = SocialAccount.objects.get(pk=account.pk)
        seen.append((credentials.access_token, token_decrypt(stored.access_token)))
        return real_publish(self, credentials, post)

    with mock.patch.object(SandboxAdapter, "publish", publish):
        assert share_publish(share_id=share.pk) == "published"
    [(used, stored_when_used)] = seen
    assert used != old_token
    assert used == stored_when_used  # the new pair was committed before the call
    account.refresh_from_db()
    fake_account = fake_network.state.accounts[account.external_id]
    assert token_decrypt(account.access_token) == fake_account.access_token
    assert token_decrypt(account.refresh_token) == fake_account.refresh_token
    assert account.expires_at > timezone.now() + timedelta(hours=1)


def test_concurrent_refreshes_spend_the_single_use_refresh_token_once(personas, fake_network):
    account = connect(personas.teammate)
    SocialAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    barrier = threading.Barrier(2)
    tokens: list[str] = []
    errors: list[Exception] = []

    def read() -> None:
        try:
            barrier.wait(timeout=5)
            tokens.append(account_credentials(account_id=account.pk).access_token)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(set(tokens)) == 1 and len(tokens) == 2
    refreshes = [
        r for r in fake_network.state.requests if r.path == "/oauth/token" and r.status == 200
    ]
    assert len(refreshes) == 2  # the connection, then one refresh
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_refused_refresh_needs_reconnect(personas, fake_network, dispatched):
    account = connect(personas.teammate)
    SocialAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    fake_network.revoke(account.external_id)  # the refresh token is no longer known
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    dispatched.take()
    assert share_publish(share_id=share.pk) == "needs-reconnect"
    share.refresh_from_db()
    account.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert share.request_sent_at is None
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert fake_network.post_requests() == []
    assert (
        Notification.objects.filter(recipient=personas.teammate, kind="advocacy.reconnect").count()
        == 1
    )
