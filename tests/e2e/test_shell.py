"""First journey: an employee signs in, in French and in English, and sees the shell."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_employee_signs_in_and_sees_the_shell(page, language):
    with translation.override(language):
        feed, sign_in, nav_missing = gettext("Feed"), gettext("Sign in"), gettext("Administration")
    if language == "fr":
        assert (feed, sign_in) != ("Feed", "Sign in"), "the French catalogue is not compiled"
    organization = OrganizationFactory(name="Acme Santé", brand_colour="#0f766e")
    team = TeamFactory(organization=organization)
    UserFactory(
        email=f"ambassador-{language}@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language=language,
        teams=[team],
    )
    page.goto("/accounts/login/")
    # The anonymous page follows the language switch.
    page.select_option("#language-select", language)
    # The switch reloads the same address: wait for the page in that language, not for
    # the address (which matches before the reload and made this test flaky).
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("form[action$='/accounts/login/'] button[type=submit]")).to_have_text(
        sign_in
    )
    page.fill("input[name=login]", f"ambassador-{language}@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")
    assert page.locator("html").get_attribute("lang") == language
    nav = page.locator("nav.sidenav")
    assert nav.get_by_role("link", name=feed, exact=True).is_visible()
    assert nav.get_by_role("link", name=nav_missing).count() == 0  # employees do not administer
    assert page.locator("a.brand").inner_text().strip() == "Acme Santé"
    brand = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand')")
    assert brand.strip() == "#0f766e"
    screenshot(page, f"shell-employee-{language}")

    # Phone width: a bottom bar holds the daily places, the menu button lists every page,
    # and nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    with translation.override(language):
        challenges, me, menu = gettext("Challenges"), gettext("Me"), gettext("Menu")
    bottom = page.locator("nav.bottomnav")
    expect(bottom).to_be_visible()
    expect(bottom.get_by_role("link", name=feed)).to_have_attribute("aria-current", "page")
    assert nav.is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, f"shell-employee-{language}-phone")
    page.get_by_label(menu, exact=True).click()
    expect(page.locator(".nav-menu nav").get_by_role("link", name=challenges)).to_be_visible()
    bottom.get_by_role("link", name=me).click()
    page.wait_for_url("**/me/")
    expect(page.locator("nav.bottomnav").get_by_role("link", name=me)).to_have_attribute(
        "aria-current", "page"
    )
