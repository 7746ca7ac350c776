"""The tracked-link redirect and click counting: the redirect itself, which requests count,
attribution, the Redis stream and its consumer, and the direct write when Redis is away."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from unittest import mock

import pytest
import redis
from django.db import OperationalError
from django.urls import reverse

from advocacy.models import Activity, ActivityKind, Click, TrackedLink
from advocacy.services import clicks
from advocacy.services.clicks import click_record, clicks_drain, clicks_pending
from advocacy.signals import activity_recorded
from tests.advocacy.conftest import make_content, share_now
from tests.conftest import client_for, free_port
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
DESTINATION = "https://www.example.org/news/1?ref=a%20b#top"


# --- Redis for the click stream ---------------------------------------------------------


def _wait_for(condition, *, deadline_seconds: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}")


@pytest.fixture(scope="session")
def click_redis_url(tmp_path_factory):
    """A Redis of our own on a free port: the shared test Redis is flushed by every test's
    cache.clear(), which would wipe a stream another xdist worker is using."""
    binary = shutil.which("redis-server")
    if binary is None:
        shared = os.environ.get("REDIS_URL", "")
        if not shared:
            pytest.skip("needs redis-server or REDIS_URL")
        # No redis-server here: a database of the shared server that the cache never uses.
        yield shared.rsplit("/", 1)[0] + "/15"
        return
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("click-redis")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)

    def answers() -> bool:
        try:
            return bool(probe.ping())
        except redis.RedisError:
            return False

    try:
        _wait_for(answers, what="the click Redis to start")
        yield url
    finally:
        probe.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _fresh_stream_state():
    clicks._stream_down_until.clear()
    yield
    clicks._stream_down_until.clear()


@pytest.fixture
def click_redis_at(settings):
    """Point the click stream at a Redis for one test. The shared fixtures' teardown (the
    rate limiter's reset) still wants the test Redis, so it is given back first."""
    original = settings.REDIS_URL

    def point(url: str) -> None:
        settings.REDIS_URL = url

    yield point
    settings.REDIS_URL = original


@pytest.fixture
def stream(settings, click_redis_url, click_redis_at):
    """Clicks go through the Redis stream."""
    click_redis_at(click_redis_url)
    client = redis.Redis.from_url(click_redis_url)
    client.delete(settings.CLICK_STREAM_KEY)
    yield client
    client.delete(settings.CLICK_STREAM_KEY)
    client.close()


@pytest.fixture
def direct(settings, click_redis_at):
    """No Redis (the embedded default): clicks are written by the redirect itself."""
    click_redis_at("")
    return settings


@pytest.fixture
def dead_redis(click_redis_at):
    """The click stream's Redis is down: nothing listens on its port."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    click_redis_at(url)
    return url


# --- helpers ----------------------------------------------------------------------------


def link_for(user, organization, *, link: str = DESTINATION) -> TrackedLink:
    content = make_content(organization, link=link)
    # Facebook is never connected, so this is a share-link share with a tracked link.
    [share] = share_now(user, content, networks=("facebook",))
    return share.tracked_link


def visit(link_or_code, *, client=None, method: str = "get", query: str = "", **headers):
    from django.test import Client

    code = link_or_code if isinstance(link_or_code, str) else link_or_code.code
    headers.setdefault("User-Agent", BROWSER)
    url = reverse("tracked_link", args=[code]) + query
    return getattr(client or Client(), method)(url, headers=headers)


def expected_target(link: TrackedLink) -> str:
    return (
        "https://www.example.org/news/1?ref=a%20b&utm_source=facebook"
        f"&utm_medium=employee_advocacy&utm_campaign={link.utm_campaign}#top"
    )


# --- the redirect -----------------------------------------------------------------------


def test_redirects_to_the_destination_with_utm(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link)
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert response["Cache-Control"] == "no-store"
    assert link.utm_campaign  # the campaign names the content


@pytest.mark.parametrize(
    "query",
    [
        "?next=https://evil.com/",
        "?url=https%3A%2F%2Fevil.com",
        "?destination=//evil.com",
        "?utm_source=evil&utm_medium=evil&utm_campaign=evil",
        "?redirect=javascript:alert(1)",
        "?next=%2F%2Fevil.com&url=%5C%5Cevil.com",
        "?" + "a=1&" * 500,
    ],
)
def test_query_parameters_never_change_the_destination(personas, direct, query):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, query=query)
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)


@pytest.mark.parametrize(
    "suffix",
    [
        "/https://evil.com",
        "/",
        "%2F%2Fevil.com",
        "%2Fevil.com",
        "%5Cevil.com",
        "%00",
        "%0d%0aLocation:%20https://evil.com",
        ";evil.com",
        "@evil.com",
        "..%2F..%2Fevil.com",
    ],
)
def test_anything_after_the_code_is_not_found(personas, direct, suffix):
    from django.test import Client

    link = link_for(personas.teammate, personas.organization)
    response = Client().get(
        reverse("tracked_link", args=[link.code]) + suffix, headers={"User-Agent": BROWSER}
    )
    assert response.status_code == 404
    assert not Click.objects.exists()


@pytest.mark.parametrize(
    "code", ["nope", "x" * 17, "a" * 200, "évé", "abc%00", "%00", "' OR 1=1 --", ".."]
)
def test_unknown_code_is_a_404_page(personas, direct, code):
    from django.test import Client

    response = Client().get(f"/s/{code}", headers={"User-Agent": BROWSER})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_code_is_case_sensitive(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    other = link.code.swapcase()
    if other == link.code:  # digits, dashes and underscores only
        pytest.skip("a code without letters")
    assert visit(other).status_code == 404


def test_other_methods_are_refused_and_not_counted(personas, direct):
    from django.test import Client

    link = link_for(personas.teammate, personas.organization)
    url = reverse("tracked_link", args=[link.code])
    assert Client().post(url, headers={"User-Agent": BROWSER}).status_code == 405
    assert Client().options(url, headers={"User-Agent": BROWSER}).status_code == 405
    assert not Click.objects.exists()


def test_malformed_referer_is_not_a_500(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, Referer="http://[::1")
    assert response.status_code == 302
    assert Click.objects.get().referrer_host == ""


def test_referrer_host_is_kept(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    visit(link, Referer="https://www.linkedin.com/feed/update/urn:li:activity:1/")
    assert Click.objects.get().referrer_host == "www.linkedin.com"


# --- what counts ------------------------------------------------------------------------

PREVIEW_BOTS = [
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slackbot 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mastodon/4.2.0 (http.rb/5.1.1; +https://mastodon.social/)",
    "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36",
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Wget/1.21.4",
    "",
    "   ",
]

PEOPLE = [
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.1234",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36 LinkedInApp/4.1.900",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/9.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0.33.117;FBBV/1;FBDV/iPhone15,2]",
    "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 "
    "Telegram-Android/10.5.0 (Samsung SM-A536B; Android 13; SDK 33; AVERAGE)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 300.0.0.0.0",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
]


@pytest.mark.parametrize("agent", PREVIEW_BOTS)
def test_bots_and_previews_are_redirected_but_not_counted(personas, direct, agent):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, **{"User-Agent": agent})
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert not Click.objects.exists()


@pytest.mark.parametrize("agent", PEOPLE)
def test_people_are_counted_in_app_browsers_included(personas, direct, agent):
    link = link_for(personas.teammate, personas.organization)
    assert visit(link, **{"User-Agent": agent}).status_code == 302
    assert Click.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"X-Moz": "prefetch"},
        {"X-Purpose": "preview"},
    ],
)
def test_prefetches_are_redirected_but_not_counted(personas, direct, headers):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, **headers)
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert not Click.objects.exists()


def test_head_is_redirected_but_not_counted(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, method="head")
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert not Click.objects.exists()


def test_the_sharers_own_click_is_flagged(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    visit(link, client=client_for(personas.teammate))
    visit(link, client=client_for(personas.owner))
    visit(link)
    assert sorted(Click.objects.values_list("is_self", flat=True)) == [False, False, True]


# --- attribution, activity, organisations -----------------------------------------------


def test_click_is_attributed_to_share_content_sharer_team_and_network(personas, direct):
    later_team = TeamFactory(organization=personas.organization, name="Aardvarks")
    personas.teammate.teams.add(later_team)
    link = link_for(personas.teammate, personas.organization)
    visit(link)
    click = Click.objects.get()
    share = link.share
    assert click.link_id == link.pk
    assert click.share_id == share.pk
    assert click.content_id == share.content_id
    assert click.sharer_id == personas.teammate.pk
    assert click.team_id == personas.team.pk  # the first team, not the one first by name
    assert click.network == "facebook"
    assert click.organization_id == personas.organization.pk
    assert len(click.visitor) == 32
    activity = Activity.objects.get()
    assert activity.kind == ActivityKind.CLICK_RECORDED
    assert (activity.click_id, activity.share_id, activity.user_id) == (
        click.pk,
        share.pk,
        personas.teammate.pk,
    )


def test_sharer_without_a_team(personas, direct):
    personas.teammate.teams.clear()
    link = link_for(personas.teammate, personas.organization)
    visit(link)
    assert Click.objects.get().team_id is None


def test_a_click_on_one_organisations_link_counts_for_that_organisation_only(personas, direct):
    ours = link_for(personas.teammate, personas.organization)
    theirs = link_for(personas.outsider, personas.other_organization)
    # Someone logged in elsewhere clicking our link is a visitor like any other.
    visit(ours, client=client_for(personas.outsider))
    click = Click.objects.get()
    assert click.organization_id == personas.organization.pk
    assert click.link_id == ours.pk
    assert not click.is_self
    assert not Click.objects.filter(organization=personas.other_organization).exists()
    assert not Click.objects.filter(link=theirs).exists()
    assert list(Activity.objects.values_list("organization_id", flat=True)) == [
        personas.organization.pk
    ]


class _Receiver:
    def __init__(self):
        self.activities = []

    def __call__(self, sender, activity, **kwargs):
        self.activities.append(activity)


@pytest.fixture
def receiver():
    receiver = _Receiver()
    activity_recorded.connect(receiver, dispatch_uid="test-clicks-receiver")
    yield receiver
    activity_recorded.disconnect(dispatch_uid="test-clicks-receiver")


def test_direct_click_signals_once_after_commit(
    personas, direct, receiver, django_capture_on_commit_callbacks
):
    link = link_for(personas.teammate, personas.organization)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        visit(link)
    assert receiver.activities == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    [activity] = receiver.activities
    assert activity.kind == ActivityKind.CLICK_RECORDED
    assert activity.click.share_id == link.share_id


def test_stream_click_signals_once_even_when_replayed(
    personas, stream, settings, receiver, django_capture_on_commit_callbacks
):
    link = link_for(personas.teammate, personas.organization)
    visit(link)
    [(_entry_id, fields)] = stream.xrange(settings.CLICK_STREAM_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        assert clicks_drain(consumer="a") == 1
    # The same event again (a replay after a crash): stored once, signalled once.
    stream.xadd(settings.CLICK_STREAM_KEY, fields)
    with django_capture_on_commit_callbacks(execute=True):
        assert clicks_drain(consumer="a") == 0
    assert len(receiver.activities) == 1
    assert Click.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.CLICK_RECORDED).count() == 1


def test_recording_an_event_twice_stores_it_once(personas, direct):
    link = link_for(personas.teammate, personas.organization)
    event = {
        "event_id": str(uuid.uuid4()),
        "link_id": link.pk,
        "at": "2026-01-05T10:00:00+00:00",
        "visitor": "v",
        "is_self": False,
        "referrer_host": "",
    }
    assert click_record(event=event) is not None
    assert click_record(event=event) is None
    assert Click.objects.count() == 1
    assert Activity.objects.count() == 1


# --- the stream and its consumer --------------------------------------------------------


def test_stream_click_waits_in_the_stream_until_drained(personas, stream):
    link = link_for(personas.teammate, personas.organization)
    for _ in range(3):
        assert visit(link).status_code == 302
    assert not Click.objects.exists()  # the redirect did not write
    assert clicks_pending() == 3
    assert clicks_drain(consumer="a") == 3
    assert Click.objects.count() == 3
    assert clicks_pending() == 0


def test_drain_without_redis_does_nothing(direct):
    assert clicks_drain() == 0
    assert clicks_pending() == 0


class ConsumerKilled(BaseException):
    """The worker process dying (a BaseException, so no `except Exception` catches it)."""


def test_clicks_survive_a_consumer_dying_before_acknowledging(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    total = 10
    for _ in range(total):
        visit(link)
    # The first consumer reads a batch of four, stores it and dies before XACK.
    with (
        mock.patch.object(redis.Redis, "xack", side_effect=ConsumerKilled),
        pytest.raises(ConsumerKilled),
    ):
        clicks_drain(consumer="first", batch=4)
    assert Click.objects.count() == 4
    pending = stream.xpending(settings.CLICK_STREAM_KEY, "recorders")
    assert (pending["pending"], pending["consumers"][0]["name"]) == (4, b"first")
    # A consumer running beside it does not take over entries that are not idle long enough;
    # it reads the rest of the stream.
    assert clicks_drain(consumer="neighbour", batch=4) == total - 4
    assert stream.xpending(settings.CLICK_STREAM_KEY, "recorders")["pending"] == 4
    # The restarted consumer takes the pending entries over and stores nothing twice.
    assert clicks_drain(consumer="restarted", min_idle_ms=0) == 0
    assert Click.objects.count() == total
    assert len(set(Click.objects.values_list("event_id", flat=True))) == total
    assert Activity.objects.filter(kind=ActivityKind.CLICK_RECORDED).count() == total
    assert stream.xpending(settings.CLICK_STREAM_KEY, "recorders")["pending"] == 0
    assert clicks_pending() == 0


def test_clicks_read_but_not_stored_by_a_dead_consumer_are_taken_over(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    total = 7
    for _ in range(total):
        visit(link)
    real_record = clicks.click_record
    calls = {"n": 0}

    def die_on_the_fifth(**kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise ConsumerKilled
        return real_record(**kwargs)

    # Killed in the middle of its batch: nothing of the batch was committed or acknowledged.
    with mock.patch.object(clicks, "click_record", die_on_the_fifth), pytest.raises(ConsumerKilled):
        clicks_drain(consumer="first")
    assert Click.objects.count() == 0
    assert stream.xpending(settings.CLICK_STREAM_KEY, "recorders")["pending"] == total
    assert clicks_drain(consumer="restarted", min_idle_ms=0) == total
    assert Click.objects.count() == total
    assert clicks_pending() == 0


def test_takeover_pages_through_many_pending_entries(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    total = 12
    for _ in range(total):
        visit(link)
    stream.xgroup_create(settings.CLICK_STREAM_KEY, "recorders", id="0")
    # A consumer that read everything and died before storing anything.
    stream.xreadgroup("recorders", "dead", {settings.CLICK_STREAM_KEY: ">"}, count=100)
    assert clicks_drain(consumer="restarted", min_idle_ms=0, batch=5) == total
    assert Click.objects.count() == total
    assert stream.xpending(settings.CLICK_STREAM_KEY, "recorders")["pending"] == 0


def test_malformed_events_are_dropped_without_blocking_the_stream(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    key = settings.CLICK_STREAM_KEY
    stream.xadd(key, {"other": "field"})
    stream.xadd(key, {"event": "{not json"})
    stream.xadd(key, {"event": json.dumps({"event_id": "nope", "link_id": link.pk})})
    stream.xadd(key, {"event": json.dumps(["a", "list"])})
    stream.xadd(key, {"event": json.dumps({"event_id": str(uuid.uuid4()), "link_id": 0})})
    visit(link)
    assert clicks_drain(consumer="a") == 1
    assert Click.objects.count() == 1
    assert clicks_pending() == 0
    assert clicks_drain(consumer="a") == 0


def test_a_database_outage_leaves_the_rest_pending(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    for _ in range(3):
        visit(link)
    real_record = clicks.click_record
    calls = {"n": 0}

    def fail_on_second(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("server closed the connection")
        return real_record(**kwargs)

    with mock.patch.object(clicks, "click_record", fail_on_second), pytest.raises(OperationalError):
        clicks_drain(consumer="a")
    # The batch is rolled back whole and stays pending.
    assert Click.objects.count() == 0
    assert stream.xpending(settings.CLICK_STREAM_KEY, "recorders")["pending"] == 3
    assert clicks_drain(consumer="a", min_idle_ms=0) == 3
    assert Click.objects.count() == 3
    assert clicks_pending() == 0


# --- Redis unavailable ------------------------------------------------------------------


def test_dead_redis_writes_the_click_directly(personas, dead_redis):
    link = link_for(personas.teammate, personas.organization)
    real_redis = clicks._redis
    with mock.patch.object(clicks, "_redis", side_effect=real_redis) as redis_used:
        for _ in range(3):
            response = visit(link)
            assert response.status_code == 302
            assert response["Location"] == expected_target(link)
    assert Click.objects.count() == 3
    assert Activity.objects.count() == 3
    # After the first failure the next redirects do not wait for Redis again.
    assert redis_used.call_count == 1


def test_stream_error_falls_back_to_the_database(personas, stream, settings):
    link = link_for(personas.teammate, personas.organization)
    stream.set(settings.CLICK_STREAM_KEY, "not a stream")  # XADD answers WRONGTYPE
    assert visit(link).status_code == 302
    assert Click.objects.count() == 1


def test_failing_direct_write_still_redirects(personas, direct, caplog):
    link = link_for(personas.teammate, personas.organization)
    with mock.patch.object(
        Click.objects, "create", side_effect=OperationalError("database is down")
    ):
        response = visit(link)
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert "Could not record click" in caplog.text
    assert link.share_id and str(link.pk) in caplog.text  # the event is in the log to replay


# --- query counts -----------------------------------------------------------------------


def test_stream_redirect_runs_one_query(personas, stream, django_assert_num_queries):
    link = link_for(personas.teammate, personas.organization)
    with django_assert_num_queries(1):
        visit(link)
    assert clicks_pending() == 1


def test_direct_redirect_queries_are_bounded(personas, direct, django_assert_max_num_queries):
    link = link_for(personas.teammate, personas.organization)
    with django_assert_max_num_queries(8):
        visit(link)
    assert Click.objects.count() == 1


def test_logged_in_redirect_queries_are_bounded(personas, stream, django_assert_max_num_queries):
    link = link_for(personas.teammate, personas.organization)
    client = client_for(personas.teammate)
    # The link; the session, the user and their organisation are the middleware's (the
    # user's language).
    with django_assert_max_num_queries(4):
        visit(link, client=client)


def test_drain_does_not_look_links_up_per_click(personas, stream, django_assert_max_num_queries):
    link = link_for(personas.teammate, personas.organization)
    for _ in range(20):
        visit(link)
    # The batch's savepoint and release and two lookups, then per click: savepoint,
    # insert, savepoint, insert, two releases.
    with django_assert_max_num_queries(4 + 20 * 6):
        assert clicks_drain(consumer="a") == 20
