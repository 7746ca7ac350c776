"""A person in two organisations switches from the header on a phone: the menu lists both
with the role in each, the choice takes effect for the next pages, and the other
organisation's content never shows."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from organizations.models import Membership, Role
from tests.content.factories import ContentFactory
from tests.e2e.conftest import screenshot
from tests.e2e.test_every_page import AXE, AXE_TAGS, BLOCKING_IMPACTS, RUN_AXE
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_switching_organisation_from_the_header_at_390_px(page, live_server):
    home = OrganizationFactory(name="Acme Santé", slug="acme")
    client = OrganizationFactory(name="Laboratoires Vexia", slug="vexia", brand_colour="#7c3aed")
    agent = UserFactory(
        email="agent@agency.test",
        organization=home,
        role=Role.EDITOR,
        language="en",
        teams=[TeamFactory(organization=home)],
    )
    Membership.objects.create(user=agent, organization=client, role=Role.ORG_ADMIN)
    ContentFactory(organization=home, title="Acme marker post")
    ContentFactory(organization=client, title="Vexia marker post")

    # Signed in through Django's own login (which notes the organisations in the session).
    browser_client = Client()
    browser_client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": browser_client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/feed/")
    expect(page.locator("a.brand")).to_contain_text("Acme Santé")
    expect(page.get_by_text("Acme marker post")).to_be_visible()
    assert page.get_by_text("Vexia marker post").count() == 0

    switcher = page.locator("details.org-switch")
    switcher.locator("summary").click()
    options = switcher.get_by_role("button")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("aria-current", "true")
    expect(options.nth(1)).to_contain_text("Organisation admin")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = [v for v in page.evaluate(RUN_AXE, AXE_TAGS) if v["impact"] in BLOCKING_IMPACTS]
    assert violations == []
    box = switcher.locator("ul").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(options.nth(1)).to_contain_text("Laboratoires Vexia")
    screenshot(page, "organization-switcher-phone")

    options.nth(1).click()
    page.wait_for_url("**/feed/")
    expect(page.locator("a.brand")).to_contain_text("Laboratoires Vexia")
    expect(page.get_by_text("Vexia marker post")).to_be_visible()
    assert page.get_by_text("Acme marker post").count() == 0
    # The choice holds for the next pages.
    page.goto("/me/")
    expect(page.locator("a.brand")).to_contain_text("Laboratoires Vexia")
    agent.refresh_from_db()
    assert agent.organization == home

    # The agency view: one card per client, one click into each.
    page.locator("details.org-switch summary").click()
    page.get_by_role("link", name="All my client organisations").click()
    page.wait_for_url("**/agency/")
    cards = page.locator("article.agency-card")
    expect(cards).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "agency-view-phone")
    cards.filter(has_text="Acme Santé").get_by_role("button").click()
    page.wait_for_url("**/feed/")
    expect(page.locator("a.brand")).to_contain_text("Acme Santé")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_platform_operator_creates_an_organisation(page, live_server, width):
    operator = UserFactory(email=f"ops{width}@platform.test", organization=None, is_staff=True)
    OrganizationFactory(name="Acme Santé", slug="acme")
    browser_client = Client()
    browser_client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": browser_client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/operator/organizations/")
    page.fill("input[name=name]", "Laboratoires Vexia")
    page.fill("input[name=admin_email]", "admin@vexia.test")
    page.get_by_role("button", name="Create and invite the administrator").click()
    expect(page.locator("tr[data-organization=laboratoires-vexia]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, f"operator-organizations-{width}")
