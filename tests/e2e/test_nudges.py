"""The reminders page and the nudges admin page in Chromium at 390 and 1280 px: a person
switches a reminder off, the admin changes the cap and sees what was sent; no page scrolls
sideways."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from nudges.models import NudgeDelivery, NudgeOptOut, NudgeSettings
from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 12, 9, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
WIDTHS = (390, 1280)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_person_switches_a_reminder_off(page, live_server):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    NudgeSettings.objects.create(organization=organization, challenge_ending_enabled=False)
    employee = UserFactory(organization=organization, email="lea@acme.test", language="en")
    _sign_in(page, employee)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/nudges/")
        expect(page.get_by_role("heading", name="Reminders", exact=True)).to_be_visible()
        expect(page.get_by_text("does not send this reminder at the moment")).to_be_visible()
        _fits(page, width)
        screenshot(page, f"nudges-preferences-{width}")
    page.get_by_role("switch", name="Reminder: I have not shared for a few weeks").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your reminder choices are saved.")).to_be_visible()
    assert list(NudgeOptOut.objects.filter(user=employee).values_list("kind", flat=True)) == [
        "inactive"
    ]
    page.goto("/me/")
    expect(page.get_by_role("heading", name="Reminders")).to_be_visible()


def test_admin_sets_the_cap_and_sees_what_was_sent(page, live_server):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    admin = UserFactory(
        organization=organization, role=Role.ORG_ADMIN, email="ada@acme.test", language="en"
    )
    colleague = UserFactory(organization=organization, language="en")
    NudgeDelivery.objects.create(
        organization=organization,
        user=colleague,
        kind="charter",
        key="charter:v1",
        run=uuid.uuid4(),
        sent_at=NOW - timedelta(days=3),
    )
    _sign_in(page, admin)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/nudges/")
    page.fill("input[name=weekly_cap]", "9")
    page.get_by_role("button", name="Save the nudges").click()
    expect(page.locator(".error-summary")).to_be_visible()
    screenshot(page, "nudges-admin-error-1280")
    page.fill("input[name=weekly_cap]", "2")
    page.get_by_role("button", name="Save the nudges").click()
    expect(page.get_by_text("The nudge settings are saved.")).to_be_visible()
    assert NudgeSettings.objects.get(organization=organization).weekly_cap == 2
    row = page.get_by_role("row", name="Reminder: the social media charter is waiting for me")
    expect(row).to_contain_text("1")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/nudges/")
        _fits(page, width)
        screenshot(page, f"nudges-admin-{width}")
