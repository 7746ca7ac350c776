"""The one-tap share sheet on a phone: a share link opens the network in a new tab and is
confirmed with "Did you post it?"; a connected account posts in one tap; the pause
disables every Share button with its reason; the sheet is usable from the keyboard. My
shares fits a phone and a laptop without sideways scrolling."""

from __future__ import annotations

import os
import re
import time

import pytest

from advocacy.models import Share, ShareMode, ShareStatus, SharingPause
from advocacy.ratelimit import rate_limit_reset
from config.celery import app as celery_app
from content.models import Network
from organizations.models import Role
from tests.advocacy.conftest import connect
from tests.content.factories import CaptionFactory, ContentFactory, TopicFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory
from tests.fakes.social_network import FakeSocialNetwork

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
NETWORK_PAGES = re.compile(r"^https://(www\.facebook\.com|www\.linkedin\.com|x\.com)/")
STUB = "<!doctype html><title>Network stub</title><h1>The network's share page (stub)</h1>"


@pytest.fixture
def sandbox(settings):
    network = FakeSocialNetwork().start()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.SANDBOX_NETWORK_URL = network.url
    settings.RATE_LIMIT_KEY_PREFIX = f"e2e-sheet-ratelimit-{worker}"
    settings.CLICK_STREAM_KEY = f"e2e-sheet-clicks-{worker}"
    rate_limit_reset()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield network
    celery_app.conf.task_always_eager = eager
    network.stop()


@pytest.fixture
def world(db):
    organization = OrganizationFactory(
        name="Acme Santé", default_language="en", brand_colour="#0f766e"
    )
    team = TeamFactory(organization=organization, name="Sales")
    employee = UserFactory(
        email="ambassador@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language="en",
        teams=[team],
    )
    topic = TopicFactory(organization=organization, name="Careers")
    hiring = ContentFactory(
        organization=organization,
        title="We are hiring pharmacists in Lyon",
        why_it_matters="Our Lyon site doubles its team this year: every share brings candidates.",
        kind="link",
        link_url="https://www.example.org/jobs",
    )
    hiring.topics.set([topic])
    CaptionFactory(content=hiring, network=Network.LINKEDIN, text="Join our Lyon team!")
    CaptionFactory(content=hiring, network=Network.LINKEDIN, text="We are hiring in Lyon.")
    CaptionFactory(content=hiring, network=Network.FACEBOOK, text="Lyon is hiring, share it!")
    other = ContentFactory(
        organization=organization,
        title="Quarterly results: a strong first half for the whole group",
        why_it_matters="Numbers people ask about.",
        kind="text",
        link_url="",
    )
    CaptionFactory(content=other, network=Network.LINKEDIN, text="A strong first half.")
    return organization, employee, hiring


def open_page(browser, live_server, viewport, *, locale="en-GB"):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=viewport)
    # Nothing leaves the machine: the networks' share pages are a local stub.
    context.route(
        NETWORK_PAGES, lambda route: route.fulfill(status=200, content_type="text/html", body=STUB)
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """limit => Array.from(document.querySelectorAll('body *'))
        .filter(el => el.getBoundingClientRect().right > limit + 1)
        .slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' +
            Math.round(el.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )
    assert width <= page.viewport_size["width"], f"page is {width}px wide: {wide}"


def poll(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_share_by_link_in_one_tap_then_did_you_post_it(browser, live_server, world):
    _organization, employee, hiring = world
    context, page = open_page(browser, live_server, PHONE)
    try:
        sign_in(page, employee.email)
        no_sideways_scroll(page)
        card = page.locator(".content-card", has_text="We are hiring pharmacists")
        assert "Earns 8–10 points" in card.inner_text()
        screenshot(page, "sheet-feed-phone")

        card.get_by_role("button", name="Share").click()
        sheet = page.locator("dialog#share-sheet")
        sheet.get_by_role("button", name="Share on LinkedIn").wait_for()
        assert page.url.endswith("/feed/")  # no page change
        sheet.locator("#sheet-check .badge-ok").first.wait_for()
        caption = sheet.locator("#sheet-caption").input_value()
        assert caption in ("Join our Lyon team!", "We are hiring in Lyon.")
        # One click on another suggestion.
        sheet.get_by_role("button", name="Suggestion 3").click()
        assert sheet.locator("#sheet-caption").input_value() == "Lyon is hiring, share it!"
        sheet.get_by_role("button", name="Suggestion 1").click()
        screenshot(page, "sheet-open-phone")

        with page.expect_popup() as opened:
            sheet.get_by_role("button", name="Share on LinkedIn").click()
        tab = opened.value
        tab.wait_for_url(NETWORK_PAGES)
        assert "share-offsite" in tab.url and "%2Fs%2F" in tab.url
        share = poll(lambda: Share.objects.filter(user=employee, content=hiring).first())
        assert share.mode == ShareMode.LINK
        assert share.status == ShareStatus.AWAITING_CONFIRMATION
        assert share.text == "Join our Lyon team!"
        assert share.tracked_link.code in tab.url

        # Back to the feed's tab: one question.
        tab.close()
        page.bring_to_front()
        sheet.get_by_role("heading", name="Did you post it?").wait_for()
        assert sheet.get_by_role("heading", name="Did you post it?").count() == 1
        screenshot(page, "sheet-did-you-post-it-phone")
        sheet.get_by_role("button", name="Yes, I posted it").click()
        sheet.get_by_text("Thank you! Your share counts.").wait_for()
        share.refresh_from_db()
        assert share.status == ShareStatus.PUBLISHED

        # My shares on the phone: a card with its words and its actions on screen.
        page.goto("/shares/")
        no_sideways_scroll(page)
        row = page.locator("tr", has_text="We are hiring pharmacists")
        assert "Published" in row.inner_text() and "Share link" in row.inner_text()
        screenshot(page, "sheet-my-shares-phone")
    finally:
        context.close()


def test_not_yet_keeps_the_share_waiting_in_my_shares(browser, live_server, world):
    _organization, employee, hiring = world
    context, page = open_page(browser, live_server, PHONE)
    try:
        sign_in(page, employee.email)
        page.locator(".content-card", has_text="We are hiring pharmacists").get_by_role(
            "button", name="Share"
        ).click()
        sheet = page.locator("dialog#share-sheet")
        with page.expect_popup() as opened:
            sheet.get_by_role("button", name="Share on Facebook").click()
        opened.value.wait_for_url(NETWORK_PAGES)
        opened.value.close()
        page.bring_to_front()
        sheet.get_by_role("button", name="Not yet").click()
        sheet.wait_for(state="hidden")
        share = Share.objects.get(user=employee, content=hiring)
        assert share.network == "facebook" and share.status == ShareStatus.AWAITING_CONFIRMATION
        page.goto("/shares/")
        row = page.locator("tr", has_text="We are hiring pharmacists")
        for action in ("Open Facebook", "I posted it", "I did not post it"):
            button = row.get_by_role("button", name=action)
            box = button.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert "Waiting for your confirmation" in row.inner_text()
        no_sideways_scroll(page)
        screenshot(page, "sheet-my-shares-waiting-phone")
    finally:
        context.close()


def test_a_connected_account_posts_in_one_tap(browser, live_server, world, sandbox):
    _organization, employee, hiring = world
    connect(employee, Network.LINKEDIN)
    context, page = open_page(browser, live_server, PHONE)
    try:
        sign_in(page, employee.email)
        page.locator(".content-card", has_text="We are hiring pharmacists").get_by_role(
            "button", name="Share"
        ).click()
        sheet = page.locator("dialog#share-sheet")
        post = sheet.get_by_role("button", name="Post on LinkedIn")
        post.wait_for()
        assert sheet.get_by_label("Now").is_checked()
        post.click()
        sheet.get_by_text("We are posting it on LinkedIn now.").wait_for()
        screenshot(page, "sheet-posted-phone")
        share = Share.objects.get(user=employee, content=hiring)
        assert share.mode == ShareMode.API
        assert share.status in (
            ShareStatus.SCHEDULED,
            ShareStatus.PUBLISHING,
            ShareStatus.PUBLISHED,
        )
        assert poll(lambda: sandbox.live_posts())
    finally:
        context.close()


def test_while_paused_every_share_button_is_disabled_with_the_reason(browser, live_server, world):
    organization, employee, _hiring = world
    from django.utils import timezone

    SharingPause.objects.create(
        organization=organization,
        paused_at=timezone.now(),
        reason="Crisis: we check every post first",
    )
    context, page = open_page(browser, live_server, PHONE)
    try:
        sign_in(page, employee.email)
        buttons = page.locator(".content-card .share-button")
        assert buttons.count() == 2
        for n in range(2):
            assert buttons.nth(n).is_disabled()
            assert buttons.nth(n).get_attribute("aria-disabled") == "true"
        reasons = page.locator(".card-paused")
        assert reasons.count() == 2
        assert "Crisis: we check every post first" in reasons.first.inner_text()
        assert reasons.first.is_visible()
        screenshot(page, "sheet-paused-phone")
    finally:
        context.close()


def test_the_sheet_from_the_keyboard_on_a_laptop(browser, live_server, world):
    _organization, employee, _hiring = world
    context, page = open_page(browser, live_server, LAPTOP)
    try:
        sign_in(page, employee.email)
        no_sideways_scroll(page)
        heights = page.locator(".content-card").evaluate_all(
            "cards => cards.map(c => Math.round(c.getBoundingClientRect().height))"
        )
        assert len(set(heights)) == 1, heights  # even cards in a row
        screenshot(page, "sheet-feed-laptop")
        share = page.locator(".content-card", has_text="We are hiring pharmacists").get_by_role(
            "button", name="Share"
        )
        share.focus()
        page.keyboard.press("Enter")
        sheet = page.locator("dialog#share-sheet")
        sheet.get_by_role("button", name="Share on Facebook").wait_for()
        inside = "document.getElementById('share-sheet').contains(document.activeElement)"
        assert poll(lambda: page.evaluate(inside))
        for _ in range(25):
            page.keyboard.press("Tab")
            assert page.evaluate(inside)
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
        screenshot(page, "sheet-open-laptop")
        page.keyboard.press("Escape")
        sheet.wait_for(state="hidden")
        assert page.evaluate("document.activeElement.hasAttribute('data-sheet-url')")
        assert "pharmacists" in page.evaluate(
            "document.activeElement.closest('.content-card').innerText"
        )
    finally:
        context.close()


def test_my_shares_fits_a_laptop_and_reads_in_french(browser, live_server, world):
    _organization, employee, hiring = world
    employee.language = "fr"
    employee.save(update_fields=["language"])
    from tests.advocacy.conftest import share_now

    share_now(employee, hiring, networks=("facebook", "linkedin"))
    context, page = open_page(browser, live_server, LAPTOP, locale="fr-FR")
    try:
        sign_in(page, employee.email)
        screenshot(page, "sheet-feed-laptop-fr")
        page.goto("/shares/")
        no_sideways_scroll(page)
        table = page.locator("table.shares")
        assert table.bounding_box()["width"] <= LAPTOP["width"]
        screenshot(page, "sheet-my-shares-laptop-fr")
        page.set_viewport_size(PHONE)
        no_sideways_scroll(page)
        screenshot(page, "sheet-my-shares-phone-fr")
        page.set_viewport_size(LAPTOP)
        page.goto("/feed/")
        page.locator(".content-card").first.locator(".share-button").click()
        page.locator("dialog#share-sheet #sheet-caption").wait_for()
        screenshot(page, "sheet-open-laptop-fr")
        page.set_viewport_size(PHONE)
        screenshot(page, "sheet-open-phone-fr")
    finally:
        context.close()
