"""An editor writes a post, a reviewer approves it, an employee finds it in the feed —
in French and in English."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_editor_writes_reviewer_approves_employee_finds_it(page, language):
    organization = OrganizationFactory(name="Acme Santé", default_language=language)
    team = TeamFactory(organization=organization, name="Sales")
    people = {
        role: UserFactory(
            email=f"{role}-{language}@example.test",
            organization=organization,
            role=role,
            language=language,
            teams=[team],
        )
        for role in (Role.EDITOR, Role.REVIEWER, Role.EMPLOYEE)
    }
    with translation.override(language):
        t = {
            key: gettext(key)
            for key in (
                "Save",
                "Submit for review",
                "Approve",
                "Approved.",
                "Feed",
                "Suggested captions",
                "Meets the rules",
                "In review",
                "Published",
            )
        }
    title = f"Notre nouveau site de Lyon ({language})"

    # The editor writes the post, with a live compliance preview.
    _sign_in(page, people[Role.EDITOR].email)
    page.goto("/library/new/")
    page.select_option("#id_kind", "text")
    page.fill("#id_title", title)
    page.fill("#id_why_it_matters", "Recrutement : 40 postes ouverts.")
    page.fill("#id_linkedin_captions", "Nous recrutons à Lyon ! Rejoignez-nous.")
    page.locator("#caption-preview").get_by_text(t["Meets the rules"]).first.wait_for()
    screenshot(page, f"content-editor-{language}")
    page.get_by_role("button", name=t["Save"], exact=True).click()
    page.wait_for_url("**/content/*/")
    page.get_by_role("button", name=t["Submit for review"]).click()
    assert page.locator("[data-lifecycle]").inner_text().strip() == t["In review"]

    # The reviewer approves it.
    content_url = page.url
    _sign_in(page, people[Role.REVIEWER].email)
    page.goto(content_url)
    page.get_by_role("button", name=t["Approve"], exact=True).click()
    page.locator(".messages").get_by_text(t["Approved."]).wait_for()
    assert page.locator("[data-lifecycle]").inner_text().strip() == t["Published"]

    # The employee finds it in the feed and opens it.
    _sign_in(page, people[Role.EMPLOYEE].email)
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=t["Suggested captions"]).wait_for()
    assert "Nous recrutons à Lyon" in page.locator(".caption-text").first.inner_text()
    screenshot(page, f"content-employee-{language}")
