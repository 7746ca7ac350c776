"""The Feeds page in a real Chromium: at 1280 and 390 px, in English and French, nothing
scrolls sideways (long addresses and reasons wrap), the failing feed is highlighted with
its reason in words and a Try again button, and adding a feed works from the form."""

from __future__ import annotations

import pytest

from content.feeds import FEED_MAX_FAILURES
from content.models import FeedMode, FeedSubscription
from organizations.models import Role
from tests.content.factories import TopicFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://newsroom.very-long-subdomain-of-acme.example/" + "section/" * 12 + "feed.xml"


def _feeds(editor) -> None:
    org = editor.organization
    topic = TopicFactory(organization=org, name="Innovation")
    blog = FeedSubscription.objects.create(
        organization=org, url="https://blog.acme.example/feed", title="Blog", created_by=editor
    )
    blog.topics.set([topic])
    FeedSubscription.objects.create(
        organization=org,
        url=LONG_URL,
        title="",
        mode=FeedMode.REVIEW,
        created_by=editor,
        active=False,
        consecutive_failures=FEED_MAX_FAILURES,
        last_error="This address points to a private network and cannot be previewed.",
    )
    FeedSubscription.objects.create(
        organization=org,
        url="https://www.youtube.com/feeds/videos.xml?channel_id=UCacme",
        title="YouTube",
        created_by=editor,
        active=False,
        language="en",
    )


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "window.innerWidth"
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_feeds_page_at_desktop_and_phone_width(page, language, monkeypatch) -> None:
    from content import tasks

    # The live server runs in this process: no fetch is queued to a broker nobody reads.
    monkeypatch.setattr(tasks.fetch_feed, "delay_on_commit", lambda pk: None)
    editor = UserFactory(role=Role.EDITOR, language=language)
    _feeds(editor)
    _sign_in(page, editor.email)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/library/feeds/")
        failing = page.locator("[data-feed-state=failing]")
        assert failing.count() == 1
        assert "private network" in failing.inner_text() or "réseau privé" in failing.inner_text()
        assert failing.get_by_role("button").first.is_visible()
        screenshot(page, f"feeds-{language}-{width}")
        _no_sideways_scroll(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.fill("input[name=url]", "https://press.acme.example/rss")
    page.fill("input[name=title]", "Press")
    page.locator("#add-feed button[type=submit]").click()
    page.wait_for_url("**/library/feeds/")
    assert FeedSubscription.objects.filter(url="https://press.acme.example/rss").exists()
    _no_sideways_scroll(page)
