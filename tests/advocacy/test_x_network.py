"""X through the real adapter (tweepy with our own session) over real HTTP against the
loopback fake of the X API v2: posting text, links and images, deleting on recall, the
refresh race, refused refresh tokens, revocation, every error mapping, the per-user rate
limit, metrics, connecting through allauth (state and PKCE), and organisations that only
have share links. Nothing here patches the adapter, tweepy or the fake: faults come from the
fake's scripts.

Most tests run inside a rolled-back transaction (fast); the hooks that run on commit (tasks
handed to the broker) are run with `committed()` into the `dispatched` fixture. The refresh
race needs real commits between real threads and is transactional."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount as AllauthAccount
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from advocacy.models import AccountStatus, Share, ShareMode, ShareStatus, SocialAccount
from advocacy.networks import adapter_for
from advocacy.networks.base import MetricsUnavailable
from advocacy.services.accounts import account_credentials, account_disconnect
from advocacy.services.pipeline import share_delete, share_publish
from advocacy.token_vault import token_decrypt
from analytics.services.polling import metric_poll_create, metric_poll_run
from content.services import content_withdraw
from notifications.models import Notification
from tests.advocacy import workers
from tests.advocacy.conftest import X_CLIENT, connect_real, make_content, network_app, share_now
from tests.advocacy.workers import wait_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

dispatched = workers.dispatched  # a fixture

CALLBACK_PATH = "/accounts/twitter_oauth2/login/callback/"
CALLBACK_URL = f"http://testserver{CALLBACK_PATH}"
SCOPES = {"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"}


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def x_app(personas, fake_x):
    """The organisation's app at X, as the org admin entered it."""
    return network_app(personas.organization, "x")


@pytest.fixture
def committed(django_capture_on_commit_callbacks, dispatched):
    """`with committed(): ...` runs the on-commit hooks of the block as a commit would: the
    tasks it hands to the broker land in `dispatched`."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _handle(user) -> str:
    """The X username `connect_real` gives the user's account at the fake."""
    return user.email.split("@")[0].replace(".", "_")


def _calls(fake_x, method: str, prefix: str) -> list:
    return [r for r in fake_x.requests_log if r.method == method and r.path.startswith(prefix)]


def _tweet_posts(fake_x) -> list:
    return [r for r in _calls(fake_x, "POST", "/2/tweets") if r.path == "/2/tweets"]


def _tracked_url(share: Share) -> str:
    return f"{settings.SITE_URL}/s/{share.tracked_link.code}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh_at_x(fake_x, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{fake_x.url}/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=X_CLIENT,
        timeout=5,
    )


def _x_share(personas, fake_x, *, link="https://www.example.org/news/1", **token):
    """The teammate's X share of a new content, connected at the fake, not yet published."""
    account = connect_real(personas.teammate, fake_x, "x", **token)
    content = make_content(personas.organization, author=personas.owner, link=link)
    [share] = share_now(personas.teammate, content, networks=("x",))
    assert share.mode == ShareMode.API and share.account_id == account.pk
    return share, account


# --- posting --------------------------------------------------------------------------------


def test_a_text_only_share_is_posted_as_its_text(personas, fake_x, x_app, committed, dispatched):
    connect_real(personas.teammate, fake_x, "x")
    content = make_content(personas.organization, author=personas.owner, link="")
    with committed():
        [share] = share_now(personas.teammate, content, networks=("x",))
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    [tweet] = fake_x.live_tweets()
    assert tweet.original_text == share.text
    assert tweet.urls == [] and tweet.media_ids == []
    assert tweet.author_id == fake_x.account(_handle(personas.teammate)).id
    assert share.status == ShareStatus.PUBLISHED
    assert share.external_id == tweet.id
    assert share.external_url == f"https://x.com/i/web/status/{tweet.id}"
    [attempt] = share.attempts.all()
    assert (attempt.outcome, attempt.status_code) == ("published", 201)
    [post] = _tweet_posts(fake_x)
    assert post.token_kind == "access"  # the OAuth 2.0 user token, not OAuth 1.0a


def test_a_link_share_carries_the_tracked_link_as_a_url_entity(personas, fake_x, x_app):
    share, _account = _x_share(personas, fake_x)
    assert share_publish(share_id=share.pk) == "published"
    share.refresh_from_db()
    [tweet] = fake_x.live_tweets()
    [url] = tweet.urls
    assert url["expanded_url"] == _tracked_url(share)
    assert url["url"].startswith("https://t.co/") and url["url"] in tweet.text
    assert _tracked_url(share) in tweet.original_text
    assert "example.org" not in tweet.original_text  # never the bare destination
    assert share.external_id == tweet.id


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def test_an_image_goes_through_the_v2_media_upload_and_is_attached(
    personas, fake_x, x_app, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    connect_real(personas.teammate, fake_x, "x")
    content = make_content(personas.organization, author=personas.owner)
    content.image = SimpleUploadedFile("photo.png", _png(), content_type="image/png")
    content.save()
    [share] = share_now(personas.teammate, content, networks=("x",))
    assert share_publish(share_id=share.pk) == "published"
    share.refresh_from_db()

    [tweet] = fake_x.live_tweets()
    [media_id] = tweet.media_ids
    media = fake_x.state.media[media_id]
    assert media.finalized and media.media_type == "image/png"
    assert media.total_bytes == os.path.getsize(content.image.path) > 0
    assert media.owner_id == tweet.author_id
    steps = [
        (r.method, r.path, r.status, r.token_kind)
        for r in fake_x.requests_log
        if r.path.startswith(("/2/media/upload", "/2/tweets"))
    ]
    assert steps == [
        ("POST", "/2/media/upload/initialize", 200, "access"),
        ("POST", f"/2/media/upload/{media_id}/append", 200, "access"),
        ("POST", f"/2/media/upload/{media_id}/finalize", 200, "access"),
        ("POST", "/2/tweets", 201, "access"),
    ]
    assert tweet.urls[0]["expanded_url"] == _tracked_url(share)
    assert share.status == ShareStatus.PUBLISHED and share.external_id == tweet.id


# --- deletion on recall ---------------------------------------------------------------------


def test_recall_deletes_the_tweet_and_a_tweet_already_gone_counts_as_deleted(
    personas, fake_x, x_app, committed, dispatched
):
    content = make_content(personas.organization, author=personas.owner)
    teammate = connect_real(personas.teammate, fake_x, "x")
    owner = connect_real(personas.owner, fake_x, "x")
    [kept] = share_now(personas.teammate, content, networks=("x",))
    [gone] = share_now(personas.owner, content, networks=("x",))
    assert share_publish(share_id=kept.pk) == share_publish(share_id=gone.pk) == "published"
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert len(fake_x.live_tweets()) == 2

    # The owner deleted the post on X by hand before the recall.
    by_hand = requests.delete(
        f"{fake_x.url}/2/tweets/{gone.external_id}",
        headers=_bearer(token_decrypt(owner.access_token)),
        timeout=5,
    )
    assert by_hand.status_code == 200
    assert [t.id for t in fake_x.live_tweets()] == [kept.external_id]

    with committed():
        content_withdraw(content=content, actor=personas.owner, reason="Crisis")
    assert sorted(dispatched.run()) == ["deleted", "deleted"]
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert kept.status == gone.status == ShareStatus.RECALLED
    assert fake_x.live_tweets() == []
    ours = [
        (r.path, r.status)
        for r in _calls(fake_x, "DELETE", "/2/tweets/")
        if r.account_id == teammate.external_id
    ]
    assert ours == [(f"/2/tweets/{kept.external_id}", 200)]
    [gone_attempt] = gone.attempts.filter(kind="delete")
    assert (gone_attempt.outcome, gone_attempt.status_code) == ("deleted", 404)
    assert share_delete(share_id=kept.pk) == "taken"  # a redelivered task changes nothing


# --- refreshing -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_tasks_holding_an_expired_token_refresh_it_once_and_all_post_with_the_new_one(
    personas, fake_x, x_app, dispatched
):
    account = connect_real(personas.teammate, fake_x, "x", expires_in=0)
    old_access = token_decrypt(account.access_token)
    old_refresh = token_decrypt(account.refresh_token)
    shares = [
        share_now(
            personas.teammate,
            make_content(personas.organization, author=personas.owner),
            networks=("x",),
        )[0]
        for _ in range(10)
    ]
    assert len(dispatched.take()) == 10  # each handed to a worker; ten workers run them
    # A slow token endpoint: without the row lock, the others would read the expired token
    # meanwhile and replay the spent refresh token (X then revokes the whole chain).
    fake_x.script_token({"latency": 0.5})
    results: dict[int, str] = {}
    barrier = threading.Barrier(len(shares))

    def publish(share_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[share_id] = share_publish(share_id=share_id)
        except Exception as exc:  # shown by the assertion below
            results[share_id] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(share.pk,)) for share in shares]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a publisher is stuck"

    assert sorted(results.values()) == ["published"] * 10, results
    assert fake_x.state.refresh_count == 1
    assert len(fake_x.live_tweets()) == 10
    # Every post carried a live token: the expired one would be logged as "expired".
    assert [(r.status, r.token_kind) for r in _tweet_posts(fake_x)] == [(201, "access")] * 10

    account.refresh_from_db()
    new_access = token_decrypt(account.access_token)
    new_refresh = token_decrypt(account.refresh_token)
    assert new_access and new_access != old_access
    assert new_refresh and new_refresh != old_refresh
    assert fake_x.state.tokens[old_refresh].used
    assert not fake_x.state.tokens[new_refresh].used  # the stored one is the live one
    assert account.expires_at > timezone.now() + timedelta(hours=1)
    assert account.status == AccountStatus.ACTIVE
    assert _refresh_at_x(fake_x, new_refresh).status_code == 200  # the chain is intact


def test_a_refresh_token_replayed_elsewhere_is_refused_and_the_share_waits_for_a_reconnect(
    personas, fake_x, x_app, committed, dispatched
):
    share, account = _x_share(personas, fake_x, expires_in=0)
    stored_refresh = token_decrypt(account.refresh_token)
    # Another copy of the token (a restored backup, a second install) used it first.
    stolen = _refresh_at_x(fake_x, stored_refresh)
    assert stolen.status_code == 200

    with committed():
        assert share_publish(share_id=share.pk) == "needs-reconnect"
    share.refresh_from_db()
    account.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert "refresh token" in share.last_error
    assert _tweet_posts(fake_x) == []
    [refused] = _calls(fake_x, "POST", "/2/oauth2/token")[1:]
    assert refused.status == 400
    # X ended the whole chain on the replay, the other copy's new token included.
    assert fake_x.state.tokens[stolen.json()["access_token"]].revoked
    # Nothing was overwritten with an empty or a dead pair.
    assert token_decrypt(account.refresh_token) == stored_refresh
    [notice] = Notification.objects.filter(recipient=personas.teammate, kind="advocacy.reconnect")
    assert notice.url == "/networks/x/reconnect/"
    assert dispatched.calls == []

    # The notification's link goes straight to X's consent page.
    response = client_for(personas.teammate).get(notice.url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{settings.X_AUTHORIZE_URL}?")


def test_an_expired_token_without_a_refresh_token_needs_a_reconnect_without_asking_x(
    personas, fake_x, x_app
):
    without_offline = ("tweet.read", "tweet.write", "users.read", "media.write")
    share, account = _x_share(personas, fake_x, expires_in=0, scopes=without_offline)
    assert account.refresh_token == "" or token_decrypt(account.refresh_token) == ""
    assert share_publish(share_id=share.pk) == "needs-reconnect"
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert _calls(fake_x, "POST", "/2/") == []


# --- revoking -------------------------------------------------------------------------------


def test_disconnecting_revokes_both_tokens_at_x_and_forgets_the_account(
    personas, fake_x, x_app, committed
):
    client = client_for(personas.teammate)
    with committed():
        _connect_through_allauth(client, fake_x, username="tea_mate")
    account = SocialAccount.objects.get(user=personas.teammate, network="x")
    assert AllauthAccount.objects.filter(user=personas.teammate, provider="twitter_oauth2").exists()
    access, refresh = token_decrypt(account.access_token), token_decrypt(account.refresh_token)
    me = f"{fake_x.url}/2/users/me"
    assert requests.get(me, headers=_bearer(access), timeout=5).status_code == 200

    response = client.post("/networks/", {"form": "disconnect", "network": "x"})
    assert response.status_code == 302
    revokes = _calls(fake_x, "POST", "/2/oauth2/revoke")
    assert [(r.status, r.token_kind) for r in revokes] == [(200, "basic"), (200, "basic")]
    assert requests.get(me, headers=_bearer(access), timeout=5).status_code == 401
    assert _refresh_at_x(fake_x, refresh).status_code == 400
    assert not SocialAccount.objects.filter(user=personas.teammate).exists()
    assert not AllauthAccount.objects.filter(user=personas.teammate).exists()
    page = client.get("/networks/").content.decode()
    assert "Disconnected: the network has withdrawn our access." in page


# --- every error mapping --------------------------------------------------------------------


def test_a_duplicate_is_a_permanent_rejection_naming_the_duplicate(
    personas, fake_x, x_app, committed, dispatched
):
    share, account = _x_share(personas, fake_x, link="")
    # The employee already posted the same words on X by hand.
    by_hand = requests.post(
        f"{fake_x.url}/2/tweets",
        json={"text": share.text},
        headers=_bearer(token_decrypt(account.access_token)),
        timeout=5,
    )
    assert by_hand.status_code == 201

    with committed():
        assert share_publish(share_id=share.pk) == "failed"
    share.refresh_from_db()
    assert share.status == ShareStatus.FAILED
    assert "duplicate" in share.last_error.lower()
    [attempt] = share.attempts.all()
    assert (attempt.outcome, attempt.status_code) == ("rejected", 403)
    assert "duplicate content" in attempt.body
    assert [t.id for t in fake_x.live_tweets()] == [by_hand.json()["data"]["id"]]
    assert dispatched.calls == []  # never retried
    notice = Notification.objects.get(recipient=personas.teammate, kind="advocacy.share_problem")
    assert "duplicate" in notice.body.lower()

    # The same answer from the fault switch, for a link share.
    [scripted] = share_now(
        personas.teammate,
        make_content(personas.organization, author=personas.owner),
        networks=("x",),
    )
    fake_x.script({"duplicate": True})
    assert share_publish(share_id=scripted.pk) == "failed"
    scripted.refresh_from_db()
    assert "duplicate" in scripted.last_error.lower()
    assert len(fake_x.live_tweets()) == 1


def test_401_needs_reconnect_and_nothing_is_retried(personas, fake_x, x_app, committed, dispatched):
    share, account = _x_share(personas, fake_x)
    fake_x.script({"status": 401})
    with committed():
        assert share_publish(share_id=share.pk) == "needs-reconnect"
    share.refresh_from_db()
    account.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert account.status == AccountStatus.NEEDS_RECONNECT
    notice = Notification.objects.get(recipient=personas.teammate, kind="advocacy.reconnect")
    assert notice.url == "/networks/x/reconnect/"
    assert dispatched.calls == []
    assert fake_x.live_tweets() == []


def test_429_waits_until_x_rate_limit_reset_without_posting(
    personas, fake_x, x_app, committed, dispatched
):
    share, _account = _x_share(personas, fake_x)
    fake_x.script({"status": 429, "reset_in": 120})
    with committed():
        assert share_publish(share_id=share.pk) == "retry"
    share.refresh_from_db()
    [limited] = _tweet_posts(fake_x)
    assert limited.status == 429
    reset = int(limited.at + 120)  # the x-rate-limit-reset header: epoch seconds
    assert share.status == ShareStatus.SCHEDULED
    assert abs(share.next_attempt_at.timestamp() - reset) < 2
    assert fake_x.live_tweets() == []
    # Handed back to the broker for the reset, and not due before it.
    [(name, share_id, countdown)] = dispatched.take()
    assert (name, share_id) == ("publish_share", share.pk)
    assert abs(time.time() + countdown - reset) < 2
    assert share_publish(share_id=share.pk) == "taken"
    assert len(_tweet_posts(fake_x)) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retried_and_published_exactly_once(personas, fake_x, x_app, status):
    share, _account = _x_share(personas, fake_x)
    fake_x.script({"status": status})
    assert share_publish(share_id=share.pk) == "retry"
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED and share.next_attempt_at is not None
    result = wait_for(
        lambda: (r := share_publish(share_id=share.pk)) != "taken" and r,
        timeout=10,
        what="the retry",
    )
    assert result == "published"
    assert [r.status for r in _tweet_posts(fake_x)] == [status, 201]
    [tweet] = fake_x.live_tweets()
    share.refresh_from_db()
    assert share.external_id == tweet.id
    assert [a.outcome for a in share.attempts.all()] == ["retry_later", "published"]


def test_an_answer_that_never_comes_is_settled_by_reading_the_users_recent_tweets(
    personas, fake_x, x_app, settings, committed, dispatched
):
    settings.NETWORK_READ_TIMEOUT = 1
    share, account = _x_share(personas, fake_x)
    fake_x.script({"accept_then_hang": 3})
    started = time.monotonic()
    with committed():
        assert share_publish(share_id=share.pk) == "published"
    assert time.monotonic() - started < 3  # our read timeout, not X's hang
    share.refresh_from_db()
    [tweet] = fake_x.live_tweets()
    assert share.status == ShareStatus.PUBLISHED
    assert share.external_id == tweet.id
    assert len(_tweet_posts(fake_x)) == 1
    [lookup] = _calls(fake_x, "GET", f"/2/users/{account.external_id}/tweets")
    assert lookup.status == 200
    assert dispatched.calls == []  # nothing posted again


def test_an_unknown_outcome_x_cannot_settle_asks_the_employee(
    personas, fake_x, x_app, settings, committed, dispatched
):
    """The answer never comes and the timeline cannot be read any more (the employee
    revoked the app at X meanwhile): never posted again blindly, the employee is asked."""
    settings.NETWORK_READ_TIMEOUT = 1
    share, account = _x_share(personas, fake_x)
    fake_x.script({"accept_then_hang": 3})
    revoke = threading.Timer(
        0.5,
        requests.post,
        args=(f"{fake_x.url}/2/oauth2/revoke",),
        kwargs={"data": {"token": token_decrypt(account.access_token)}, "auth": X_CLIENT},
    )
    revoke.start()
    with committed():
        assert share_publish(share_id=share.pk) == "unknown"
    revoke.join(timeout=5)
    share.refresh_from_db()
    assert share.status == ShareStatus.OUTCOME_UNKNOWN
    assert len(_tweet_posts(fake_x)) == 1
    assert dispatched.calls == []
    notice = Notification.objects.get(recipient=personas.teammate, kind="advocacy.share_problem")
    assert "go out?" in notice.title


# --- the rate limit -------------------------------------------------------------------------


def test_the_101st_post_in_fifteen_minutes_waits_without_calling_x(
    personas, fake_x, x_app, settings
):
    assert settings.NETWORK_RATE_LIMITS["x"]["account"] == "100/900"  # as X documents it
    connect_real(personas.teammate, fake_x, "x")
    shares = [
        share_now(
            personas.teammate,
            make_content(personas.organization, author=personas.owner),
            networks=("x",),
        )[0]
        for _ in range(101)
    ]
    results = [share_publish(share_id=share.pk) for share in shares]
    assert results == ["published"] * 100 + ["rate-limited"]
    assert [r.status for r in _tweet_posts(fake_x)] == [201] * 100  # the 101st never left
    last = Share.objects.get(pk=shares[-1].pk)
    assert last.status == ShareStatus.SCHEDULED
    assert last.attempt_count == 0 and not last.attempts.exists()
    wait = (last.next_attempt_at - timezone.now()).total_seconds()
    assert 800 < wait <= 900


# --- metrics --------------------------------------------------------------------------------


def _publish_as_if_at(fake_x, share: Share, moment: float) -> None:
    """Publish with the fake's clock at `moment`: the tweet (and its id) is that old."""
    offset = moment - time.time()
    fake_x.clock = lambda: time.time() + offset
    try:
        assert share_publish(share_id=share.pk) == "published"
    finally:
        fake_x.clock = time.time
    share.refresh_from_db()


def test_metrics_public_and_private_for_a_recent_tweet(personas, fake_x, x_app):
    share, account = _x_share(personas, fake_x)
    _publish_as_if_at(fake_x, share, time.time() - 6 * 3600)
    adapter = adapter_for("x", organization_id=personas.organization.pk)
    metrics = adapter.fetch_metrics(account_credentials(account_id=account.pk), share.external_id)
    assert {"impressions", "reactions", "comments", "reshares", "clicks"} <= set(metrics)
    assert metrics["impressions"] > 0
    [lookup] = _calls(fake_x, "GET", "/2/tweets/")
    assert lookup.status == 200

    # The same through the polling job.
    poll = metric_poll_create(share=share)
    outcome = metric_poll_run(poll_id=poll.pk, now=poll.next_poll_at)
    assert outcome.name == "polled"
    assert outcome.snapshot.clicks is not None and outcome.snapshot.impressions > 0


def test_metrics_of_a_tweet_over_30_days_old_are_public_ones_only(personas, fake_x, x_app):
    share, account = _x_share(personas, fake_x)
    _publish_as_if_at(fake_x, share, time.time() - 31 * 86400)
    adapter = adapter_for("x", organization_id=personas.organization.pk)
    metrics = adapter.fetch_metrics(account_credentials(account_id=account.pk), share.external_id)
    assert {"impressions", "reactions", "comments", "reshares"} <= set(metrics)
    assert metrics["impressions"] > 0
    assert "clicks" not in metrics  # private: not asked, and not made up
    # Asked once and without the private fields: X would have answered a field
    # authorization error and the adapter would have asked a second time.
    [lookup] = _calls(fake_x, "GET", "/2/tweets/")
    assert lookup.status == 200


def test_metrics_of_a_deleted_tweet_say_it_is_gone(personas, fake_x, x_app):
    share, account = _x_share(personas, fake_x)
    assert share_publish(share_id=share.pk) == "published"
    share.refresh_from_db()
    credentials = account_credentials(account_id=account.pk)
    adapter = adapter_for("x", organization_id=personas.organization.pk)
    adapter.delete(credentials, share.external_id)
    with pytest.raises(MetricsUnavailable) as gone:
        adapter.fetch_metrics(credentials, share.external_id)
    assert gone.value.reason == "gone"


# --- connecting through allauth -------------------------------------------------------------


def _start(client) -> str:
    """Click "Connect X": the redirect to X's consent page."""
    response = client.post("/networks/", {"form": "connect", "network": "x"})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def _approve(fake_x, location: str, username: str, action: str = "allow") -> str:
    """The employee approves (or cancels) on X's consent page: X's redirect back to us."""
    page = requests.get(location, timeout=5)
    assert page.status_code == 200 and "Authorize app" in page.text
    params = dict(parse_qsl(urlsplit(location).query))
    answer = requests.post(
        f"{fake_x.url}/i/oauth2/authorize",
        data={**params, "username": username, "action": action},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def _back(client, location: str):
    """The browser follows X's redirect to our callback."""
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def _connect_through_allauth(client, fake_x, *, username: str) -> None:
    fake_x.register_client(*X_CLIENT, redirect_uris=[CALLBACK_URL])
    response = _back(client, _approve(fake_x, _start(client), username))
    assert response.status_code == 302 and response["Location"] == "/networks/"


def _tamper_state(client, **changes) -> None:
    """Change what allauth stashed in the session for the way back."""
    session = client.session
    states = session["socialaccount_states"]
    for stashed, _at, _provider in states.values():
        stashed.update(changes)
    session["socialaccount_states"] = states
    session.save()


def test_connecting_x_through_allauth_checks_state_and_pkce_and_resumes_waiting_shares(
    personas, fake_x, x_app, committed, dispatched
):
    # A share waiting for a reconnection (X refused the old token).
    share, old = _x_share(personas, fake_x)
    fake_x.script({"status": 401})
    assert share_publish(share_id=share.pk) == "needs-reconnect"
    # X accepts exactly our callback, as registered in its developer portal.
    fake_x.register_client(*X_CLIENT, redirect_uris=[CALLBACK_URL])

    client = client_for(personas.teammate)
    location = _start(client)
    assert location.startswith(f"{fake_x.url}/i/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [X_CLIENT[0]]
    assert query["redirect_uri"] == [CALLBACK_URL]
    [scope] = query["scope"]
    assert sorted(scope.split()) == sorted(SCOPES)
    assert query["code_challenge_method"] == ["S256"]
    [state] = query["state"]
    [challenge] = query["code_challenge"]
    # The verifier kept in the session is the one the challenge was made from.
    [(stashed, _at, provider)] = client.session["socialaccount_states"].values()
    digest = hashlib.sha256(stashed["pkce_code_verifier"].encode()).digest()
    assert provider == "twitter_oauth2"
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenge

    back = _approve(fake_x, location, _handle(personas.teammate))
    assert back.startswith(f"{CALLBACK_URL}?")
    returned = parse_qs(urlsplit(back).query)
    assert returned["state"] == [state] and returned["code"]

    with committed():
        response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == "/networks/"
    [exchange] = _calls(fake_x, "POST", "/2/oauth2/token")
    assert (exchange.status, exchange.token_kind) == (200, "basic")  # verifier accepted

    account = SocialAccount.objects.get(user=personas.teammate, network="x")
    assert account.pk == old.pk and account.adapter == "x"
    assert account.status == AccountStatus.ACTIVE
    assert account.external_id == fake_x.account(_handle(personas.teammate)).id
    assert account.display_name == f"@{_handle(personas.teammate)}"
    access, refresh = token_decrypt(account.access_token), token_decrypt(account.refresh_token)
    assert access and account.access_token != access  # encrypted at rest
    assert refresh and account.refresh_token != refresh
    assert fake_x.account_for_token(access).id == account.external_id
    assert set(fake_x.state.tokens[access].scopes) == SCOPES
    assert account.expires_at > timezone.now() + timedelta(minutes=110)
    linked = AllauthAccount.objects.get(user=personas.teammate, provider="twitter_oauth2")
    assert linked.uid == account.external_id
    assert not linked.socialtoken_set.exists()  # allauth keeps no clear tokens

    # The waiting share went back to the queue and goes out with the new token.
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    assert fake_x.tweet(share.external_id).author_id == account.external_id

    # Replaying the callback: its state is spent, the code is not exchanged again.
    replay = _back(client, back)
    assert replay.status_code == 302 and replay["Location"] == "/networks/"
    assert len(_calls(fake_x, "POST", "/2/oauth2/token")) == 1
    assert token_decrypt(SocialAccount.objects.get(pk=account.pk).access_token) == access


def test_reconnecting_from_the_notification_renews_the_tokens_in_one_click(
    personas, fake_x, x_app, committed, dispatched
):
    client = client_for(personas.teammate)
    _connect_through_allauth(client, fake_x, username="tea_mate")
    account = SocialAccount.objects.get(user=personas.teammate, network="x")
    first_access = token_decrypt(account.access_token)
    [share] = share_now(
        personas.teammate,
        make_content(personas.organization, author=personas.owner),
        networks=("x",),
    )
    fake_x.script({"status": 401})
    assert share_publish(share_id=share.pk) == "needs-reconnect"
    notice = Notification.objects.get(recipient=personas.teammate, kind="advocacy.reconnect")

    # One click on the notification goes to X; approving brings the account back.
    start = client.get(notice.url)
    assert start.status_code == 302
    with committed():
        back = _back(client, _approve(fake_x, start["Location"], "tea_mate"))
    assert back.status_code == 302 and back["Location"] == "/networks/"
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert token_decrypt(account.access_token) not in ("", first_access)
    assert AllauthAccount.objects.filter(user=personas.teammate).count() == 1
    assert dispatched.run() == ["published"]
    assert len(fake_x.live_tweets()) == 1


def test_cancelling_at_x_changes_nothing(personas, fake_x, x_app):
    client = client_for(personas.teammate)
    back = _approve(fake_x, _start(client), "tea_mate", action="cancel")
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
    response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == "/networks/"
    assert "Connection cancelled: nothing was changed." in client.get("/networks/").content.decode()
    assert _calls(fake_x, "POST", "/2/oauth2/token") == []
    assert not SocialAccount.objects.exists() and not AllauthAccount.objects.exists()


def test_a_forged_state_is_refused_and_no_account_is_made(personas, fake_x, x_app):
    client = client_for(personas.teammate)
    back = _approve(fake_x, _start(client), "tea_mate")
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    response = client.get(CALLBACK_PATH, {"state": "forged0123456789", "code": code})
    assert response.status_code == 302 and response["Location"] == "/networks/"
    assert _calls(fake_x, "POST", "/2/oauth2/token") == []  # the code was never exchanged
    assert not SocialAccount.objects.filter(user=personas.teammate).exists()
    assert not AllauthAccount.objects.exists()
    assert "did not complete" in client.get("/networks/").content.decode()

    # Nor can another person's browser finish this employee's connection (login CSRF).
    assert _back(client_for(personas.owner), back).status_code == 302
    assert _calls(fake_x, "POST", "/2/oauth2/token") == []
    assert not SocialAccount.objects.exists()


def test_a_code_exchanged_without_its_pkce_verifier_is_refused(personas, fake_x, x_app):
    client = client_for(personas.teammate)
    back = _approve(fake_x, _start(client), "tea_mate")
    # The session's verifier is not the one the challenge was made from (as for someone
    # holding a stolen code but not the verifier).
    _tamper_state(client, pkce_code_verifier="tampered" * 8)

    response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == "/networks/"
    [exchange] = _calls(fake_x, "POST", "/2/oauth2/token")
    assert exchange.status == 400
    assert not SocialAccount.objects.filter(user=personas.teammate).exists()
    assert not AllauthAccount.objects.exists()
    assert "did not complete" in client.get("/networks/").content.decode()


def test_signing_in_with_x_is_refused(personas, fake_x, x_app):
    # Signed out, X is no way in: no app is offered, nothing goes to X.
    for method in ("get", "post"):
        response = getattr(Client(), method)("/accounts/twitter_oauth2/login/?process=login")
        assert response.status_code == 404
    assert Client().get(CALLBACK_PATH, {"state": "s", "code": "c"}).status_code == 404

    # Signed in, a sign-in through X stops before X is asked for anything.
    client = client_for(personas.teammate)
    start = client.post("/accounts/twitter_oauth2/login/?process=login")
    assert start.status_code == 302 and start["Location"] == "/networks/"
    assert fake_x.requests_log == []

    # And a sign-in state that reaches the callback all the same is refused there.
    back = _approve(fake_x, _start(client), "tea_mate")
    _tamper_state(client, process="login")
    response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not SocialAccount.objects.exists()
    assert not AllauthAccount.objects.exists()


# --- organisations without X ----------------------------------------------------------------


def _without_sandbox_or_defaults(settings) -> None:
    """A production server: no sandbox network, no server-wide X app."""
    settings.SANDBOX_NETWORK_URL = ""
    settings.NETWORK_APP_DEFAULTS = {
        **settings.NETWORK_APP_DEFAULTS,
        "x": {"client_id": "", "client_secret": ""},
    }


def test_without_credentials_x_offers_share_links_only(personas, fake_x, settings):
    _without_sandbox_or_defaults(settings)
    client = client_for(personas.teammate)
    page = client.get("/networks/").content.decode()
    assert "Connect X" not in page
    assert "Share links only on this server." in page
    refused = client.post("/networks/", {"form": "connect", "network": "x"})
    assert refused.status_code == 200
    assert "This network offers share links only here." in refused.content.decode()
    assert client.get("/networks/x/reconnect/")["Location"] == "/networks/"
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("x",))
    assert share.mode == ShareMode.LINK
    assert share.status == ShareStatus.AWAITING_CONFIRMATION
    assert fake_x.requests_log == []


def test_with_api_posting_off_even_a_connected_account_shares_by_link(personas, fake_x, settings):
    _without_sandbox_or_defaults(settings)
    network_app(personas.organization, "x", api_posting=False)
    connect_real(personas.teammate, fake_x, "x")
    page = client_for(personas.teammate).get("/networks/").content.decode()
    assert "Connect X" not in page and "Reconnect" not in page
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content, networks=("x",))
    assert share.mode == ShareMode.LINK and share.account_id is None
    assert _tweet_posts(fake_x) == []


def test_server_wide_x_credentials_offer_connect_x(personas, fake_x, settings):
    _without_sandbox_or_defaults(settings)
    settings.NETWORK_APP_DEFAULTS = {
        **settings.NETWORK_APP_DEFAULTS,
        "x": {"client_id": X_CLIENT[0], "client_secret": X_CLIENT[1]},
    }
    client = client_for(personas.teammate)
    page = client.get("/networks/").content.decode()
    assert "Connect X" in page and "Connect X (sandbox)" not in page
    assert _start(client).startswith(f"{fake_x.url}/i/oauth2/authorize?")


def test_account_disconnect_reports_whether_x_revoked(personas, fake_x, x_app):
    account = connect_real(personas.teammate, fake_x, "x")
    access = token_decrypt(account.access_token)
    assert account_disconnect(user=personas.teammate, account=account) is True
    assert fake_x.state.tokens[access].revoked
    assert not SocialAccount.objects.filter(pk=account.pk).exists()


@pytest.mark.django_db
def test_a_refused_app_secret_is_the_admin_s_problem_not_the_employees(personas, fake_x):
    """X answers a refresh with 401 unauthorized_client when the organisation's secret is
    wrong: the employees' refresh tokens are still good, so nobody is told to reconnect;
    the share waits and the admin page says what to fix."""
    from advocacy.models import NetworkApp
    from advocacy.token_vault import token_encrypt
    from tests.conftest import client_for

    app = network_app(personas.organization, "x")
    account = connect_real(personas.teammate, fake_x, "x")
    NetworkApp.objects.filter(pk=app.pk).update(client_secret=token_encrypt("rotated-at-x"))
    SocialAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    [share] = share_now(
        personas.teammate,
        make_content(personas.organization, author=personas.owner),
        networks=("x",),
    )
    assert share_publish(share_id=share.pk) == "retry"
    account.refresh_from_db()
    share.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert share.status == ShareStatus.SCHEDULED
    assert NetworkApp.objects.get(pk=app.pk).problem == "bad_credentials"
    assert not Notification.objects.filter(recipient=personas.teammate).exists()
    assert fake_x.live_tweets() == []
    page = client_for(personas.owner).get("/admin/networks/").content.decode()
    assert "refused your app" in page
