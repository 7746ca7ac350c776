"""An employee connects LinkedIn (sandbox network), shares one post for real through it
and another by share link, sees both in My shares, and a visitor's click on the tracked
link is counted."""

from __future__ import annotations

import re

import pytest

from advocacy.models import Click, Share, ShareMode, ShareStatus
from advocacy.ratelimit import rate_limit_reset
from advocacy.services.clicks import clicks_drain
from config.celery import app as celery_app
from content.models import Network
from organizations.models import Role
from tests.content.factories import CaptionFactory, ContentFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory
from tests.fakes.social_network import FakeSocialNetwork

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def sandbox(settings):
    import os

    network = FakeSocialNetwork().start()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.SANDBOX_NETWORK_URL = network.url
    settings.RATE_LIMIT_KEY_PREFIX = f"e2e-ratelimit-{worker}"
    settings.CLICK_STREAM_KEY = f"e2e-clicks-{worker}"
    rate_limit_reset()
    # The live server runs the publish task in-process; the pipeline's own tests use real
    # workers.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield network
    celery_app.conf.task_always_eager = eager
    network.stop()


def test_employee_shares_by_api_and_by_link_and_a_click_counts(page, browser, live_server, sandbox):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    team = TeamFactory(organization=organization, name="Sales")
    employee = UserFactory(
        email="ambassador@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language="en",
        teams=[team],
    )
    first = ContentFactory(
        organization=organization,
        title="Our new Lyon site",
        kind="link",
        link_url="https://www.example.org/lyon",
    )
    CaptionFactory(content=first, network=Network.LINKEDIN, text="Proud of the Lyon team!")
    second = ContentFactory(
        organization=organization,
        title="We are hiring pharmacists",
        kind="link",
        link_url=f"{live_server.url}/healthz",
    )
    CaptionFactory(content=second, network=Network.FACEBOOK, text="Join us!")

    page.goto("/accounts/login/")
    page.fill("input[name=login]", employee.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")

    # Connect LinkedIn on the sandbox network.
    page.goto("/networks/")
    page.locator("[data-network=linkedin] button[type=submit]").click()
    page.wait_for_url("**/networks/")
    assert page.locator("[data-network=linkedin] .badge-ok").is_visible()

    # Share the first post on LinkedIn, posted for me, now, from the full share page (the
    # feed's Share button opens the share sheet: tests/e2e/test_share_sheet.py).
    page.goto(f"/share/{first.pk}/")
    # The connected network is chosen by default.
    assert page.is_checked("input[name=networks][value=linkedin]")
    assert not page.is_checked("input[name=networks][value=facebook]")
    page.wait_for_selector("#caption-preview .caption-preview")
    assert "Meets the rules" in page.inner_text("#caption-preview")
    screenshot(page, "share-form")
    page.get_by_role("button", name="Share", exact=True).click()
    page.wait_for_url("**/shares/")
    row = page.locator("tr", has_text="Our new Lyon site")
    row.locator("[data-status=published]").wait_for()
    [post] = sandbox.live_posts()
    assert post.text.startswith("Proud of the Lyon team!")
    share = Share.objects.get(content=first)
    assert share.mode == ShareMode.API and share.status == ShareStatus.PUBLISHED

    # Share the second post by Facebook share link, then confirm.
    page.goto(f"/share/{second.pk}/")
    page.uncheck("input[name=networks][value=linkedin]")
    page.check("input[name=networks][value=facebook]")
    page.get_by_role("button", name="Share", exact=True).click()
    page.wait_for_url("**/shares/")
    row = page.locator("tr", has_text="We are hiring pharmacists")
    link = row.get_by_role("button", name="Open Facebook")
    href = link.get_attribute("href")
    assert href.startswith("https://www.facebook.com/sharer/sharer.php?u=")
    code = re.search(r"%2Fs%2F([A-Za-z0-9_-]+)", href).group(1)
    row.get_by_role("button", name="I posted it").click()
    page.wait_for_url("**/shares/")
    page.locator("tr", has_text="We are hiring pharmacists").locator(
        "[data-status=published]"
    ).wait_for()
    screenshot(page, "my-shares")

    # A visitor (not signed in) follows the tracked link; the click is counted.
    visitor = browser.new_context(user_agent=BROWSER_AGENT)
    try:
        tab = visitor.new_page()
        tab.goto(f"{live_server.url}/s/{code}".replace("localhost", "127.0.0.1"))
        # The destination (a page of the live server here: the test has no internet).
        assert "/healthz?utm_source=facebook" in tab.url
        assert "utm_medium=employee_advocacy" in tab.url
    finally:
        visitor.close()
    clicks_drain(consumer="e2e", min_idle_ms=0)
    click = Click.objects.get()
    assert click.sharer == employee and click.content == second and not click.is_self
    page.reload()
    clicks_cell = page.locator("tr", has_text="We are hiring pharmacists").locator("td").nth(4)
    assert clicks_cell.inner_text().strip() == "1"
