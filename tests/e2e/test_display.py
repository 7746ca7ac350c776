"""The lobby screen in Chromium at 1920×1080: it renders, re-requests its board on its
own, and says so once its address is rotated (the old address is then a 404). The widget
shows inside a listed intranet origin and is refused by frame-ancestors elsewhere. The
admin page is photographed in English and French at 1280 and 390 px."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from challenges.display import display_screen_issue
from challenges.models import DisplayScreen
from challenges.services.points import points_hide_from_rankings
from content.models import ContentStatus
from organizations.models import Role
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.content.factories import ContentFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A Wednesday afternoon in Paris, the clock running: "this week" has days on both sides.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _english(settings):
    # A screen whose address is unknown speaks the site's default language (French).
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _organisation(language: str = "en"):
    organization = OrganizationFactory(name="Acme Santé", default_language=language)
    team = TeamFactory(organization=organization, name="Pharmacy")
    admin = UserFactory(
        organization=organization,
        role=Role.ORG_ADMIN,
        email="admin@acme.test",
        first_name="Ada",
        last_name="Admin",
        language=language,
        teams=[team],
    )
    names = [("Léa", "Martin"), ("Hugo", "Bernard"), ("Chloé", "Petit"), ("Nora", "Diallo")]
    people = [
        UserFactory(organization=organization, first_name=first, last_name=last, teams=[team])
        for first, last in names
    ]
    for index, person in enumerate(people):
        give_points(person, 120 - index * 25)
    hidden = UserFactory(
        organization=organization, first_name="Hidden", last_name="Person", teams=[team]
    )
    give_points(hidden, 500)
    points_hide_from_rankings(user=hidden, hidden=True)
    make_challenge(
        organization, title="Spring launch: points for our vaccine site", metric="points", goal=150
    )
    make_challenge(organization, title="Clicks for the careers page", metric="clicks", goal=40)
    ContentFactory(
        organization=organization,
        title="We are hiring 40 pharmacists in Lyon",
        why_it_matters="Every share reaches candidates our job ads never see.",
        status=ContentStatus.APPROVED,
    )
    ContentFactory(
        organization=organization,
        title="Our new vaccine site opens on Monday",
        why_it_matters="Patients look for the address: help them find it.",
        status=ContentStatus.APPROVED,
    )
    return organization, admin


def test_the_screen_renders_refreshes_and_goes_dark_once_rotated(page, live_server, settings):
    settings.DISPLAY_REFRESH_SECONDS = 1
    _organization, admin = _organisation()
    secret = display_screen_issue(actor=admin)
    page.set_viewport_size({"width": 1920, "height": 1080})
    response = page.goto(f"/display/{secret}/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Acme Santé")).to_be_visible()
    expect(page.get_by_role("heading", name="This week's leaderboard")).to_be_visible()
    expect(page.locator(".display-week").get_by_text("Léa M.")).to_be_visible()
    expect(page.get_by_text("Hidden")).to_have_count(0)
    # Everything fits the screen: no scrolling on a lobby TV.
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert overflow[0] <= 1920 and overflow[1] <= 1080
    screenshot(page, "display-1920")

    # The board is re-requested on its own (htmx polling), within a deadline.
    with page.expect_request(re.compile(rf"/display/{secret}/live/$"), timeout=10_000):
        pass
    give_points(admin, 900)
    expect(page.locator(".display-week").get_by_text("Ada A.")).to_be_visible(timeout=10_000)

    display_screen_issue(actor=admin)
    expect(page.get_by_text("This screen is no longer connected")).to_be_visible(timeout=10_000)
    screenshot(page, "display-1920-rotated")
    response = page.goto(f"/display/{secret}/")
    assert response is not None and response.status == 404


def test_the_screen_reads_at_1280_and_390(page, live_server):
    _organization, admin = _organisation(language="fr")
    secret = display_screen_issue(actor=admin)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"/display/{secret}/")
    expect(page.get_by_role("heading", name="Acme Santé")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    screenshot(page, "display-1280-fr")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/display/{secret}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "display-390-fr")


@contextmanager
def _intranet(widget_url: str) -> Iterator[str]:
    """An intranet page framing the widget, served from its own loopback origin by a
    real server (Chromium refuses loopback frames in pages it does not know the address
    of, such as pages answered by Playwright's routing)."""
    body = (
        "<!DOCTYPE html><html lang='en'><head><title>Intranet</title></head><body>"
        "<h1>Intranet home</h1>"
        f"<iframe id='widget' src='{widget_url}' title='Lobby' width='400' height='760'>"
        "</iframe></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_widget_is_framed_only_by_listed_origins(page, live_server):
    _organization, admin = _organisation()
    secret = display_screen_issue(actor=admin)
    widget_url = f"{live_server.url}/display/{secret}/widget/"
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "frame-ancestors" in message.text else None
        ),
    )
    frame = page.frame_locator("#widget")
    # Both intranets are other origins than the live server's (127.0.0.1, not localhost);
    # only the first is listed.
    with _intranet(widget_url) as listed, _intranet(widget_url) as unlisted:
        DisplayScreen.objects.filter(organization=admin.organization).update(
            intranet_origins=[listed]
        )
        page.goto(f"{unlisted}/intranet/")
        deadline = time.monotonic() + 10
        while not refusals and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert refusals, "Chromium did not report the frame-ancestors refusal"
        expect(frame.get_by_role("heading", name="This week's leaderboard")).to_have_count(0)
        assert all("This week" not in f.content() for f in page.frames if f != page.main_frame)

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{listed}/intranet/")
        expect(frame.get_by_role("heading", name="This week's leaderboard")).to_be_visible()
        expect(frame.get_by_text("Léa M.").first).to_be_visible()
        screenshot(page, "display-widget-in-intranet")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_admin_creates_and_rotates_the_screen(page, live_server, language):
    _organization, admin = _organisation(language=language)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/display/")
    page.locator("form:has(input[name=action][value=issue]) button[type=submit]").click()
    address = page.locator("#display-screen-url")
    expect(address).to_have_value(re.compile(r"/display/[A-Za-z0-9_-]{40,}/$"))
    first = address.input_value()
    screenshot(page, f"display-admin-created-1280-{language}")
    page.goto("/admin/display/")
    expect(page.locator("#display-screen-url")).to_have_count(0)
    page.locator("details.display-admin-rotate summary").click()
    page.locator("details.display-admin-rotate button[type=submit]").click()
    expect(page.locator("#display-screen-url")).not_to_have_value(first)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"display-admin-390-{language}")
    response = page.goto(urlsplit(first).path)
    assert response is not None and response.status == 404
