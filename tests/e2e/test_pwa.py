"""The installable app on a phone (390x844): the manifest, the service worker taking control,
the offline page, the one-time install offer, and a web push from the server to the fake
push service and on to the service worker's notification."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.db import connection
from PIL import Image
from playwright.sync_api import expect

from notifications.models import PushSubscription
from notifications.push import vapid_keys_generate
from notifications.services import notification_create
from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory
from tests.fakes.push_service import FakePushService

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def member(db):
    organization = OrganizationFactory(name="Acme Santé", brand_colour="#0f766e")
    team = TeamFactory(organization=organization)
    return UserFactory(
        email="phone@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language="en",
        teams=[team],
    )


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def wait_for_control(page) -> None:
    # Functions, not expression strings: those are eval'ed in the page, which the CSP forbids.
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    )


def _poll(page, expression: str, *, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"{expression} stayed empty")


def test_manifest_service_worker_and_offline_page(phone, member, live_server):
    sign_in(phone, member.email)
    href = phone.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/manifest.webmanifest"
    assert phone.locator("meta[name=theme-color]").get_attribute("content") == "#0f766e"
    response = phone.request.get(href)
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Acme Santé"
    assert manifest["start_url"] == "/feed/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0f766e"
    sizes = {}
    for icon in manifest["icons"]:
        image = phone.request.get(icon["src"])
        assert image.ok and image.headers["content-type"] == "image/png"
        width, height = Image.open(io.BytesIO(image.body())).size
        assert f"{width}x{height}" == icon["sizes"]
        sizes.setdefault(icon.get("purpose", "any"), []).append(width)
    assert sizes == {"any": [192, 512], "maskable": [512]}
    sw = phone.request.get("/sw.js")
    assert sw.headers["service-worker-allowed"] == "/"
    assert "no-cache" in sw.headers["cache-control"]

    wait_for_control(phone)
    scope = phone.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{live_server.url}/"
    # A page visited while online is kept for later; the offline page is precached.
    phone.goto("/feed/")
    _poll(
        phone,
        "caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
        ".then(all => all.flat().some(r => new URL(r.url).pathname === '/feed/'))",
    )

    phone.context.set_offline(True)
    try:
        phone.goto("/challenges/")  # never visited: the offline page stands in for it
        expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
        assert phone.url.endswith("/challenges/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(phone, "pwa-offline-390")
        phone.goto("/feed/")  # visited: its last copy
        expect(phone.locator("[data-offline-page]")).to_have_count(0)
        expect(phone.locator("nav.sidenav, nav.bottomnav").first).to_be_attached()
    finally:
        phone.context.set_offline(False)
    phone.goto("/challenges/")
    expect(phone.locator("[data-offline-page]")).to_have_count(0)


def test_install_offer_is_shown_once(phone, member):
    sign_in(phone, member.email)
    offer = """() => {
        const event = new Event("beforeinstallprompt", {cancelable: true});
        event.prompt = () => { window.__prompted = true; };
        event.userChoice = Promise.resolve({outcome: "dismissed"});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }"""
    assert phone.evaluate(offer) is True
    banner = phone.get_by_role("region", name="Install the app")
    expect(banner).to_be_visible()
    expect(banner.get_by_text("Install Acme Santé on this phone")).to_be_visible()
    expect(banner.get_by_text("Install Acme Santé on this computer")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "pwa-install-offer-390")
    banner.get_by_role("button", name="Not now").click()
    expect(banner).to_have_count(0)
    assert phone.evaluate("localStorage.getItem('portevoix.install-offer')") == "dismissed"
    phone.reload()
    # Dismissed: the browser's own event is left alone and no banner comes back.
    assert phone.evaluate(offer) is False
    expect(phone.get_by_role("region", name="Install the app")).to_have_count(0)


def test_install_button_prompts_and_remembers(phone, member):
    sign_in(phone, member.email)
    phone.evaluate(
        """() => {
        const event = new Event("beforeinstallprompt", {cancelable: true});
        event.prompt = () => { window.__prompted = true; };
        event.userChoice = Promise.resolve({outcome: "accepted"});
        window.dispatchEvent(event);
    }"""
    )
    phone.get_by_role("button", name="Install", exact=True).click()
    assert phone.evaluate("window.__prompted") is True
    phone.wait_for_function("() => localStorage.getItem('portevoix.install-offer') === 'installed'")
    expect(phone.get_by_role("region", name="Install the app")).to_have_count(0)


@pytest.fixture
def push_on(settings):
    public, private = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@portevoix.test"
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    service = FakePushService().start()
    yield service
    service.stop()
    app.conf.task_always_eager = previous


def test_web_push_journey(phone, member, live_server, push_on):
    phone.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(phone, member.email)
    phone.goto("/notifications/preferences/")
    wait_for_control(phone)
    expect(phone.get_by_role("heading", name="Notification preferences")).to_be_visible()
    expect(phone.get_by_role("switch", name="Push A challenge I can join starts")).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "pwa-preferences-390")

    # The button asks the browser for a subscription. Headless Chromium has no push service
    # to subscribe with, so it may end in the error message rather than "on"; either way the
    # page says what happened.
    phone.get_by_role("button", name="Turn on notifications on this device").click()
    state = phone.wait_for_function(
        "() => ['on', 'error'].includes(document.querySelector('[data-push-status]').dataset.state)"
        " && document.querySelector('[data-push-status]').dataset.state"
    ).json_value()
    if state == "on":
        assert PushSubscription.objects.filter(user=member).exists()
    else:
        expect(phone.locator("[data-push-status]")).to_have_text(
            "Notifications could not be turned on. Try again later."
        )
        expect(
            phone.get_by_role("button", name="Turn on notifications on this device")
        ).to_be_enabled()
    print(f"pushManager.subscribe in this Chromium: {state}")

    # What the page sends once the browser subscribed: the fake's subscription, POSTed by the
    # page itself with its CSRF token, exactly as static/js/pwa.js does.
    fake = push_on.subscribe(application_server_key=None)
    answer = phone.evaluate(
        """async (body) => {
            const response = await fetch("/notifications/push/subscribe/", {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json",
                          "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content},
                body: JSON.stringify(body)});
            return {status: response.status, body: await response.json()};
        }""",
        fake.as_json(),
    )
    assert answer["status"] == 201, answer
    assert PushSubscription.objects.filter(user=member, endpoint=fake.endpoint).exists()

    notification_create(
        recipient=member,
        kind="challenges.launched",
        title="Spring challenge starts",
        body="Share three posts this week.",
        url="/challenges/",
    )
    connection.close()  # the live server's threads use their own connections
    push = push_on.wait_for_pushes(1)[0]
    payload = push_on.decrypt(push)
    assert payload == {
        "title": "Spring challenge starts",
        "body": "Share three posts this week.",
        "url": "/challenges/",
    }

    # Hand the same payload to the page's service worker, as the push service would.
    cdp = phone.context.new_cdp_session(phone)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        phone.wait_for_timeout(100)
    registration_id = next(
        r["registrationId"] for r in registrations if r["scopeURL"] == f"{live_server.url}/"
    )
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration_id,
            "data": json.dumps(payload),
        },
    )
    shown = _poll(
        phone,
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(ns => ns.map(n => ({title: n.title, body: n.body, url: n.data && n.data.url})))",
    )
    assert shown == [
        {
            "title": "Spring challenge starts",
            "body": "Share three posts this week.",
            "url": f"{live_server.url}/challenges/",
        }
    ]
    # The click handler opens that URL, and only ever a page of this site.
    worker = next(w for w in phone.context.service_workers if w.url.endswith("/sw.js"))
    target = "self.portevoixNotificationTarget"
    assert worker.evaluate(f"{target}('/challenges/')") == f"{live_server.url}/challenges/"
    for hostile in ("https://evil.example/phish", "javascript:alert(1)", "//evil.example/x"):
        assert worker.evaluate(f"{target}({json.dumps(hostile)})") == (
            f"{live_server.url}/notifications/"
        )
