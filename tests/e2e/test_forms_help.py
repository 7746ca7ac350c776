"""A comms member's caption is refused for a blocked term: the error summary takes the
focus, the offending word is marked in the caption, a click on the mark selects it in the
field, and once fixed the save goes through."""

from __future__ import annotations

import pytest

from content.models import ComplianceRule, Content, RuleKind
from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_comms_member_fixes_a_refused_caption_from_the_highlight(page):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    team = TeamFactory(organization=organization, name="Communication")
    editor = UserFactory(
        email="comms@example.test",
        organization=organization,
        role=Role.EDITOR,
        language="en",
        teams=[team],
    )
    ComplianceRule.objects.create(
        organization=organization, kind=RuleKind.BLOCKED_TERM, value="miracle"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/accounts/login/")
    page.fill("input[name=login]", editor.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")

    page.goto("/library/new/")
    page.select_option("#id_kind", "text")
    page.fill("#id_title", "Our Lyon site")
    page.fill("#id_linkedin_captions", "A miracle treatment for everyone in Lyon.")
    page.get_by_role("button", name="Save", exact=True).click()

    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert "Blocked term “miracle”" in summary.inner_text()
    page.wait_for_function(
        "document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
    )
    mark = page.locator(".caption-refused mark")
    assert mark.inner_text() == "miracle"
    assert page.locator("#id_linkedin_captions").get_attribute("aria-invalid") == "true"
    # The caption as typed is kept in the field.
    assert page.input_value("#id_linkedin_captions") == "A miracle treatment for everyone in Lyon."
    screenshot(page, "forms-help-refused-1280")

    # Fix it from the highlight: the word is selected in the field, typing replaces it.
    mark.click()
    selected = page.evaluate(
        "() => { const f = document.getElementById('id_linkedin_captions');"
        " return f === document.activeElement ? f.value.slice(f.selectionStart, f.selectionEnd) : null; }"
    )
    assert selected == "miracle"
    page.keyboard.type("new")
    assert page.input_value("#id_linkedin_captions") == "A new treatment for everyone in Lyon."
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/content/*/")
    content = Content.objects.get(organization=organization)
    assert content.captions.get().text == "A new treatment for everyone in Lyon."
