"""The digest's pages in Chromium at 390 and 1280 px: a person's choice, and the org
admin's preview with the email in its sandboxed frame and the text version."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from digests.models import DigestSettings, Frequency
from organizations.models import Role
from tests.content.factories import ContentFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
WIDTHS = (1280, 390)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _organisation():
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    DigestSettings.objects.create(
        organization=organization, default_frequency=Frequency.DAILY, hour=9
    )
    team = TeamFactory(organization=organization, name="Pharmacy")
    admin = UserFactory(
        organization=organization,
        role=Role.ORG_ADMIN,
        email="admin@acme.test",
        first_name="Ada",
        last_name="Admin",
        teams=[team],
    )
    employee = UserFactory(
        organization=organization, email="lea@acme.test", first_name="Léa", teams=[team]
    )
    ContentFactory(
        organization=organization,
        author=None,
        title="Our new plant opens in Lyon",
        why_it_matters="Two hundred jobs in the region, and a greener process.",
        language="en",
    )
    return admin, employee


def _sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()


def test_a_person_chooses_their_digest(page, live_server):
    _admin, employee = _organisation()
    _sign_in(page, employee)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/digest/")
        expect(page.get_by_role("heading", name="Email digest")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"digest-preferences-{width}")
    page.get_by_label("Every week").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your digest choice is saved.")).to_be_visible()
    expect(page.get_by_label("Every week")).to_be_checked()


def test_the_admin_previews_a_digest(page, live_server):
    admin, employee = _organisation()
    _sign_in(page, admin)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/admin/digest/?person={employee.pk}#preview")
        frame = page.frame_locator("iframe.digest-preview-frame")
        expect(frame.get_by_role("heading", name="Our new plant opens in Lyon")).to_be_visible()
        expect(page.locator("pre.digest-preview-text")).to_contain_text("Two hundred jobs")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"digest-admin-preview-{width}")
