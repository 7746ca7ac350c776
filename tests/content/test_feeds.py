"""RSS and Atom subscriptions: items become drafts (or go to review, never published),
deduplicated by canonical URL; conditional requests; SSRF refusals; back-off and pause;
organisation scoping; the API and the Feeds page.

Feeds are served by a loopback server (tests/fakes/feed_server.py) that the tests allow
explicitly (LINK_PREVIEW_ALLOW_ADDRESSES / LINK_PREVIEW_EXTRA_PORTS); without that
allowance, as in production, the same address is refused before any connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content import feed_fetch, feeds
from content.feeds import FeedInput, feed_fetch_run, feed_subscription_create
from content.models import Content, ContentStatus, FeedItem, FeedMode, FeedSubscription
from organizations.models import Role
from tests.conftest import api_client_for, client_for
from tests.content.factories import TopicFactory
from tests.factories import UserFactory
from tests.fakes.feed_server import Document, FeedServer

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Le blog d'Acme</title><link>https://blog.acme.example/</link>
<language>fr-FR</language>
<item><title>Nos &#233;quipes &lt;b&gt;s'engagent&lt;/b&gt;</title>
  <link>https://blog.acme.example/engagement?utm_source=rss&amp;utm_medium=feed&amp;id=7#top</link>
  <guid>https://blog.acme.example/?p=7</guid>
  <description>&lt;p&gt;Un article sur nos &#233;quipes.&lt;/p&gt;</description></item>
<item><title>Un nouveau site pour la recherche</title>
  <link>https://blog.acme.example/recherche</link>
  <guid>https://blog.acme.example/?p=8</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<title>Acme press room</title><id>urn:acme:press</id><updated>2026-11-01T10:00:00Z</updated>
<entry><title>Acme opens a lab in Lyon</title><id>urn:acme:press:1</id>
  <link rel="alternate" href="https://press.acme.example/lab-lyon"/>
  <updated>2026-11-01T10:00:00Z</updated><summary>The new lab opens in spring.</summary></entry>
</feed>"""

# Unclosed tags and an undeclared entity: feedparser flags it (bozo) and still reads it.
MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken &nbsp; feed</title>
<item><title>Still readable</title><link>https://blog.acme.example/still</link></item>
<item><title>Cut short</title><link>https://blog.acme.example/cut"""

NOT_A_FEED = b"<!doctype html><html><head><title>Blog</title></head><body>Hello</body></html>"


@pytest.fixture
def server(settings) -> Iterator[FeedServer]:
    fake = FeedServer().start()
    settings.LINK_PREVIEW_ALLOW_ADDRESSES = ["127.0.0.1"]
    settings.LINK_PREVIEW_EXTRA_PORTS = [fake.port]
    yield fake
    fake.stop()


@pytest.fixture
def clock(time_machine) -> Any:
    time_machine.move_to(MOMENT, tick=False)
    return time_machine


@pytest.fixture
def editor(personas):
    return UserFactory(organization=personas.organization, role=Role.EDITOR, teams=[personas.team])


@pytest.fixture
def previews(monkeypatch) -> list[int]:
    """The link preview fetches queued (as for links typed by hand)."""
    from content import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.fetch_link_preview, "delay_on_commit", queued.append)
    monkeypatch.setattr(tasks.fetch_feed, "delay_on_commit", lambda pk: None)
    return queued


def subscribe(actor, url: str, **values: Any) -> FeedSubscription:
    return feed_subscription_create(actor=actor, data=FeedInput(url=url, **values))


def contents_of(subscription: FeedSubscription) -> list[Content]:
    return list(
        Content.objects.filter(
            pk__in=FeedItem.objects.filter(subscription=subscription).values("content")
        ).order_by("title")
    )


def run(subscription: FeedSubscription, **kwargs: Any) -> feeds.FeedRunResult:
    result = feed_fetch_run(subscription_id=subscription.pk, **kwargs)
    subscription.refresh_from_db()
    return result


# --- Reading feeds ------------------------------------------------------------------------


def test_rss_items_become_drafts_with_link_topic_and_language(
    server, clock, editor, previews
) -> None:
    topic = TopicFactory(organization=editor.organization, name="Blog")
    url = server.serve("/feed.xml", Document(RSS))
    subscription = subscribe(editor, url, topics=[topic])

    result = run(subscription)

    assert (result.outcome, result.created) == ("fetched", 2)
    first, second = contents_of(subscription)
    assert first.title == "Nos équipes s'engagent"  # HTML removed, entity decoded
    # Tracking parameters and the fragment are dropped; other parameters stay.
    assert first.link_url == "https://blog.acme.example/engagement?id=7"
    assert second.link_url == "https://blog.acme.example/recherche"
    for content in (first, second):
        assert content.status == ContentStatus.DRAFT
        assert content.author == editor
        assert content.language == "fr"  # the channel's <language>
        assert [t.name for t in content.topics.all()] == ["Blog"]
        assert content.kind == "link"
    assert sorted(previews) == sorted([first.pk, second.pk])
    assert subscription.title == "Le blog d'Acme"  # the feed's own title, as none was given
    assert subscription.last_error == "" and subscription.consecutive_failures == 0
    assert subscription.next_fetch_at == MOMENT + feeds.FEED_INTERVAL


def test_atom_items_go_to_review_and_never_to_published(
    server, clock, editor, previews, personas
) -> None:
    url = server.serve("/atom", Document(ATOM, content_type="application/atom+xml"))
    subscription = subscribe(editor, url, mode=FeedMode.REVIEW)

    assert run(subscription).created == 1

    (content,) = contents_of(subscription)
    assert content.title == "Acme opens a lab in Lyon"
    assert content.link_url == "https://press.acme.example/lab-lyon"
    assert content.language == "en"  # xml:lang
    assert content.status == ContentStatus.IN_REVIEW
    assert not Content.objects.filter(
        organization=editor.organization, status=ContentStatus.APPROVED
    ).exists()


def test_language_rule_of_the_feed_wins_and_organisation_default_is_the_fallback(
    server, clock, editor, previews
) -> None:
    bare = RSS.replace(b"<language>fr-FR</language>", b"").replace(b"Un article sur nos", b"Zzz")
    url = server.serve("/bare", Document(bare))
    fixed = subscribe(editor, server.serve("/fixed", Document(RSS)), language="en")
    guessed = subscribe(editor, url)
    editor.organization.default_language = "en"
    editor.organization.save()
    FeedItem.objects.all().delete()

    run(fixed)
    assert {c.language for c in contents_of(fixed)} == {"en"}
    FeedItem.objects.all().delete()
    run(guessed)
    by_title = {c.title: c.language for c in contents_of(guessed)}
    # "Un nouveau site pour la recherche" reads as French; the other title alone says
    # too little and takes the organisation's language.
    assert by_title["Un nouveau site pour la recherche"] == "fr"
    assert by_title["Nos équipes s'engagent"] == "en"


def test_malformed_feed_is_read_when_it_still_has_items(server, clock, editor, previews) -> None:
    subscription = subscribe(editor, server.serve("/broken", Document(MALFORMED)))

    result = run(subscription)

    assert result.outcome == "fetched"
    titles = [c.title for c in contents_of(subscription)]
    assert "Still readable" in titles
    assert subscription.consecutive_failures == 0


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (Document(NOT_A_FEED, content_type="text/html"), "a web page, not an RSS or Atom feed"),
        (Document(b"\x00\x01 not xml at all", content_type=""), "not valid RSS or Atom"),
        (Document(b"<rss", content_type="application/rss+xml"), "not valid RSS or Atom"),
        (Document(b"", status=500), "HTTP 500"),
    ],
)
def test_unreadable_feed_is_a_failure_in_words(
    server, clock, editor, previews, document, reason
) -> None:
    subscription = subscribe(editor, server.serve("/x", document))

    assert run(subscription).outcome == "failed"

    assert reason in subscription.last_error
    assert subscription.consecutive_failures == 1
    assert not FeedItem.objects.exists()


def test_feed_over_the_size_cap_is_refused(server, clock, editor, previews, monkeypatch) -> None:
    monkeypatch.setattr(feed_fetch, "FEED_MAX_BYTES", 100)
    subscription = subscribe(editor, server.serve("/big", Document(RSS)))

    run(subscription)

    assert subscription.last_error == "The feed is too large to be downloaded."


# --- Deduplication ------------------------------------------------------------------------


def test_items_are_imported_once_across_runs_and_across_feeds(
    server, clock, editor, previews
) -> None:
    blog = subscribe(editor, server.serve("/feed.xml", Document(RSS)))
    run(blog)
    clock.shift(feeds.FEED_INTERVAL)
    assert run(blog).created == 0  # same items again: nothing new

    # Another feed of the organisation carries the same article, with other tracking
    # parameters and a fragment: the same canonical URL, no second draft.
    echo = RSS.replace(
        b"utm_source=rss&amp;utm_medium=feed&amp;id=7#top", b"id=7&amp;utm_campaign=x#c"
    )
    mirror = subscribe(editor, server.serve("/mirror.xml", Document(echo)))
    assert run(mirror).created == 0

    assert Content.objects.filter(organization=editor.organization).count() == 2
    assert FeedItem.objects.count() == 2


def test_another_organisation_imports_the_same_article(
    server, clock, editor, previews, personas
) -> None:
    other_editor = UserFactory(organization=personas.other_organization, role=Role.EDITOR)
    url = server.serve("/feed.xml", Document(RSS))
    run(subscribe(editor, url))
    theirs = subscribe(other_editor, url)

    assert run(theirs).created == 2
    assert Content.objects.filter(organization=personas.other_organization).count() == 2


def test_first_fetch_imports_the_newest_items_and_remembers_the_rest(
    server, clock, editor, previews
) -> None:
    items = b"".join(
        b"<item><title>Post %d</title><link>https://blog.acme.example/%d</link></item>" % (n, n)
        for n in range(15)
    )
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Long</title>%s</channel></rss>'
    subscription = subscribe(editor, server.serve("/long", Document(body % items)))

    assert run(subscription).created == feeds.FEED_MAX_NEW_ITEMS
    assert FeedItem.objects.filter(subscription=subscription).count() == 15
    clock.shift(feeds.FEED_INTERVAL)
    assert run(subscription).created == 0  # the older five are not imported later


def test_deleting_a_feed_keeps_its_drafts_and_its_memory(server, clock, editor, previews) -> None:
    url = server.serve("/feed.xml", Document(RSS))
    subscription = subscribe(editor, url)
    run(subscription)
    feeds.feed_subscription_delete(actor=editor, subscription=subscription)

    again = subscribe(editor, url)
    assert run(again).created == 0
    assert Content.objects.filter(organization=editor.organization).count() == 2


# --- Conditional requests -----------------------------------------------------------------


def test_conditional_get_sends_the_validators_and_takes_304(
    server, clock, editor, previews
) -> None:
    stamp = "Mon, 02 Nov 2026 07:00:00 GMT"
    url = server.serve("/feed.xml", Document(RSS, etag='"v1"', last_modified=stamp))
    subscription = subscribe(editor, url)

    run(subscription)
    assert (subscription.etag, subscription.last_modified) == ('"v1"', stamp)
    assert "If-None-Match" not in server.seen("/feed.xml")[0].headers

    clock.shift(feeds.FEED_INTERVAL)
    result = run(subscription)

    second = server.seen("/feed.xml")[1].headers
    assert second["If-None-Match"] == '"v1"'
    assert second["If-Modified-Since"] == stamp
    assert result.outcome == "not_modified"
    assert subscription.etag == '"v1"'  # kept although the 304 had no Last-Modified
    assert subscription.last_success_at == MOMENT + feeds.FEED_INTERVAL
    assert subscription.next_fetch_at == MOMENT + 2 * feeds.FEED_INTERVAL

    # The server changes the document: its new ETag no longer matches, the body comes back.
    server.documents["/feed.xml"] = Document(RSS, etag='"v2"')
    clock.shift(feeds.FEED_INTERVAL)
    assert run(subscription).outcome == "fetched"
    assert subscription.etag == '"v2"'


def test_last_modified_alone_makes_a_conditional_request(server, clock, editor, previews) -> None:
    stamp = "Sun, 01 Nov 2026 07:00:00 GMT"
    subscription = subscribe(editor, server.serve("/lm", Document(RSS, last_modified=stamp)))
    run(subscription)
    clock.shift(feeds.FEED_INTERVAL)

    assert run(subscription).outcome == "not_modified"
    assert server.seen("/lm")[1].headers["If-Modified-Since"] == stamp


# --- SSRF ---------------------------------------------------------------------------------


def test_loopback_feed_is_refused_in_production_settings(settings, clock, editor, previews):
    fake = FeedServer().start()
    try:
        settings.LINK_PREVIEW_ALLOW_ADDRESSES = []
        settings.LINK_PREVIEW_EXTRA_PORTS = [fake.port]  # the port is not what stops it
        url = fake.serve("/feed.xml", Document(RSS))
        subscription = FeedSubscription.objects.create(
            organization=editor.organization, url=url, created_by=editor, next_fetch_at=MOMENT
        )

        assert run(subscription).outcome == "failed"

        assert fake.requests == []  # refused before any connection
        assert "points to the server itself" in subscription.last_error
    finally:
        fake.stop()


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("10.1.2.3", "private network"),
        ("169.254.169.254", "cloud metadata"),
        ("127.0.0.1", "server itself"),
    ],
)
def test_name_resolving_to_a_private_address_is_refused(
    settings, clock, editor, previews, address, words
) -> None:
    settings.LINK_PREVIEW_ALLOW_ADDRESSES = []
    asked: list[str] = []

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    subscription = subscribe(editor, "https://feeds.acme.example/rss")

    assert run(subscription, resolver=resolver).outcome == "failed"

    assert asked == ["feeds.acme.example"]
    assert words in subscription.last_error
    assert not FeedItem.objects.exists()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1/feed.xml", "server itself"),
        ("http://10.0.0.8/feed.xml", "private network"),
        ("http://localhost/rss", "server itself"),
        ("ftp://blog.acme.example/feed", "Only http and https"),
        ("https://user:secret@blog.acme.example/feed", "user name or password"),
    ],
)
def test_refused_addresses_are_refused_when_saved(editor, previews, url, words) -> None:
    with pytest.raises(feeds.DomainError) as refused:
        subscribe(editor, url)
    assert refused.value.field == "url"
    assert words in refused.value.message
    assert not FeedSubscription.objects.exists()


# --- Back-off and pause -------------------------------------------------------------------


def test_failures_back_off_then_pause_the_feed(server, clock, editor, previews) -> None:
    subscription = subscribe(editor, server.serve("/down", Document(b"", status=503)))
    delays = []
    for attempt in range(1, feeds.FEED_MAX_FAILURES + 1):
        assert run(subscription).outcome == "failed"
        assert subscription.consecutive_failures == attempt
        delays.append(subscription.next_fetch_at - subscription.last_fetched_at)
        clock.move_to(subscription.next_fetch_at, tick=False)

    minutes = [int(d.total_seconds() // 60) for d in delays]
    assert minutes == [15, 30, 60, 120, 240, 480]
    assert subscription.active is False
    assert feeds.feed_state(subscription) == feeds.FeedState.FAILING
    assert subscription.last_error == "The site answered with an error (HTTP 503)."

    # Paused: not due, not fetched, however long we wait.
    clock.shift(timedelta(days=3))
    assert subscription.pk not in feeds.feed_due_ids()
    assert run(subscription).outcome == "skipped"
    assert len(server.seen("/down")) == feeds.FEED_MAX_FAILURES

    # "Try again": active, counted from zero, due now; it works once the site is back.
    server.documents["/down"] = Document(RSS)
    feeds.feed_subscription_resume(actor=editor, subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.active and subscription.consecutive_failures == 0
    assert run(subscription).created == 2
    assert subscription.last_error == ""


def test_back_off_is_capped(clock) -> None:
    assert feeds.retry_delay(1) == timedelta(minutes=15)
    assert feeds.retry_delay(20) == feeds.FEED_RETRY_MAX


def test_a_claimed_feed_is_not_fetched_twice(server, clock, editor, previews) -> None:
    subscription = subscribe(editor, server.serve("/feed.xml", Document(RSS)))
    FeedSubscription.objects.filter(pk=subscription.pk).update(
        next_fetch_at=MOMENT + feeds.FEED_LEASE
    )  # what a running fetch holds
    assert run(subscription).outcome == "skipped"
    assert server.requests == []


def test_creator_who_can_no_longer_edit_pauses_the_feed(server, clock, editor, previews) -> None:
    subscription = subscribe(editor, server.serve("/feed.xml", Document(RSS)))
    editor.role = Role.EMPLOYEE
    editor.save()

    assert run(subscription).outcome == "failed"
    assert feeds.feed_state(subscription) == feeds.FeedState.FAILING
    assert "can no longer edit the library" in subscription.last_error
    assert not Content.objects.exists()
    assert not FeedItem.objects.exists()  # nothing is lost: retried once taken over


def test_beat_task_queues_due_feeds(server, clock, editor, previews, monkeypatch) -> None:
    from content import tasks

    due = subscribe(editor, server.serve("/a", Document(RSS)))
    later = subscribe(editor, server.serve("/b", Document(RSS)))
    paused = subscribe(editor, server.serve("/c", Document(RSS)))
    FeedSubscription.objects.filter(pk=later.pk).update(next_fetch_at=MOMENT + timedelta(hours=1))
    FeedSubscription.objects.filter(pk=paused.pk).update(active=False)
    queued: list[int] = []
    monkeypatch.setattr(tasks.fetch_feed, "delay", queued.append)

    assert tasks.fetch_due_feeds() == 1
    assert queued == [due.pk]


# --- Pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Blog.Example.COM:443/a?utm_source=x&b=1#frag", "https://blog.example.com/a?b=1"),
        ("http://blog.example.com:8080", "http://blog.example.com:8080/"),
        ("https://blog.example.com/a?UTM_Medium=y", "https://blog.example.com/a"),
        ("javascript:alert(1)", ""),
        ("/relative/path", ""),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert feed_fetch.canonical_url(url) == canonical


# --- Access and the API -------------------------------------------------------------------

API = "/api/v1/feeds/"


def test_api_lists_creates_updates_and_deletes(personas, editor, previews) -> None:
    topic = TopicFactory(organization=personas.organization, name="Presse")
    api = api_client_for(editor)

    created = api.post(
        API,
        {"url": "https://blog.acme.example/feed", "new_items": "review", "topics": [topic.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "active" and body["new_items"] == "review"
    assert body["topics"] == [{"id": topic.pk, "name": "Presse", "slug": "presse"}]
    assert body["created_by"] == editor.email and body["items_created"] == 0
    pk = body["id"]

    paused = api.patch(f"{API}{pk}/", {"active": False}, format="json")
    assert paused.json()["state"] == "paused"
    fetched = api.post(f"{API}{pk}/fetch/")
    assert fetched.status_code == 200 and fetched.json()["state"] == "active"
    renamed = api.patch(f"{API}{pk}/", {"title": "Salle de presse"}, format="json")
    assert renamed.json()["title"] == "Salle de presse"
    assert renamed.json()["url"] == "https://blog.acme.example/feed"
    assert [f["id"] for f in api.get(API).json()["results"]] == [pk]

    assert api.delete(f"{API}{pk}/").status_code == 204
    assert not FeedSubscription.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "http://10.0.0.1/feed"}, "url"),
        ({"url": "https://blog.acme.example/feed", "new_items": "publish"}, "new_items"),
        ({"url": "https://blog.acme.example/feed", "topics": [999999]}, "topics"),
        ({}, "url"),
    ],
)
def test_api_bad_input_is_problem_json_naming_the_field(editor, previews, payload, field) -> None:
    response = api_client_for(editor).post(API, payload, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not FeedSubscription.objects.exists()


def test_api_duplicate_address_names_the_field(editor, previews) -> None:
    api = api_client_for(editor)
    api.post(API, {"url": "https://blog.acme.example/feed"}, format="json")
    again = api.post(
        API, {"url": "https://blog.acme.example/feed"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert again.status_code == 400
    assert again.json()["errors"][0] == {
        "field": "url",
        "message": "This feed is already in the list.",
    }


def test_api_and_pages_are_scoped_to_the_organisation(personas, editor, previews) -> None:
    theirs = subscribe(personas.outsider, "https://other.example/feed")
    mine = subscribe(editor, "https://blog.acme.example/feed")
    api = api_client_for(editor)

    assert [f["id"] for f in api.get(API).json()["results"]] == [mine.pk]
    for call in (
        lambda: api.get(f"{API}{theirs.pk}/"),
        lambda: api.patch(f"{API}{theirs.pk}/", {"title": "x"}, format="json"),
        lambda: api.delete(f"{API}{theirs.pk}/"),
        lambda: api.post(f"{API}{theirs.pk}/fetch/"),
    ):
        assert call().status_code == 404
    web = client_for(editor)
    assert web.get(f"/library/feeds/{theirs.pk}/edit/").status_code == 404
    assert web.post(f"/library/feeds/{theirs.pk}/delete/").status_code == 404
    assert FeedSubscription.objects.filter(pk=theirs.pk).exists()
    assert "other.example" not in web.get("/library/feeds/").content.decode()


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.REVIEWER, Role.MANAGER])
def test_only_editors_see_feeds(personas, editor, previews, role) -> None:
    subscribe(editor, "https://blog.acme.example/feed")
    person = UserFactory(organization=personas.organization, role=role)
    assert api_client_for(person).get(API).status_code == 403
    assert api_client_for(person).post(API, {"url": "https://x.example/f"}).status_code == 403
    assert client_for(person).get("/library/feeds/").status_code == 404


def test_api_list_query_count_does_not_grow(personas, editor, previews) -> None:
    topic = TopicFactory(organization=personas.organization, name="Presse")
    api = api_client_for(editor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(API).status_code == 200
        return len(queries)

    subscribe(editor, "https://blog.acme.example/0", topics=[topic])
    few = count()
    for n in range(1, 6):
        subscribe(editor, f"https://blog.acme.example/{n}", topics=[topic])
    assert count() == few


# --- The page -----------------------------------------------------------------------------


def test_page_adds_lists_pauses_and_deletes(personas, editor, previews) -> None:
    web = client_for(editor)
    assert 'href="/library/feeds/"' in web.get("/library/").content.decode()

    added = web.post(
        "/library/feeds/",
        {"url": "https://blog.acme.example/feed", "title": "Blog", "mode": "draft"},
    )
    assert added.status_code == 302
    subscription = FeedSubscription.objects.get()
    assert subscription.created_by == editor

    page = web.get("/library/feeds/").content.decode()
    assert "Blog" in page and 'data-feed-state="active"' in page and "Fetch now" in page

    web.post(f"/library/feeds/{subscription.pk}/pause/")
    subscription.refresh_from_db()
    assert not subscription.active
    assert "Resume" in web.get("/library/feeds/").content.decode()

    edited = web.post(
        f"/library/feeds/{subscription.pk}/edit/",
        {"url": "https://blog.acme.example/feed", "title": "Le blog", "mode": "review"},
    )
    assert edited.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.title, subscription.mode) == ("Le blog", "review")

    web.post(f"/library/feeds/{subscription.pk}/delete/")
    assert not FeedSubscription.objects.exists()


def test_page_shows_a_failing_feed_with_its_reason_and_try_again(personas, editor, previews):
    subscription = subscribe(editor, "https://blog.acme.example/feed", title="Blog")
    FeedSubscription.objects.filter(pk=subscription.pk).update(
        active=False,
        consecutive_failures=feeds.FEED_MAX_FAILURES,
        last_error="The site took too long to answer.",
    )
    page = client_for(editor).get("/library/feeds/").content.decode()
    assert 'data-feed-state="failing"' in page
    assert "The site took too long to answer." in page
    assert f"Fetching failed {feeds.FEED_MAX_FAILURES} times in a row" in page
    assert "Try again" in page


def test_page_form_error_in_words_translated(personas, editor, previews) -> None:
    editor.language = "fr"
    editor.save()
    response = client_for(editor).post(
        "/library/feeds/",
        {"url": "http://127.0.0.1/feed", "mode": "draft"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert not FeedSubscription.objects.exists()
    assert "errorlist" in response.content.decode()
