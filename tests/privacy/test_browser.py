"""The privacy pages in a real Chromium, at phone and desktop widths, in English and
French: no sideways scroll, the export journey (request, ready, download), the erasure
page. Screenshots go to $PRIVACY_SCREENSHOTS (or test-artifacts/screenshots)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from privacy.models import DataExport, PrivacySettings
from privacy.services.exports import data_export_build
from tests.e2e.conftest import ROOT, browser  # noqa: F401 (the session's Chromium)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("PRIVACY_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def _page(browser, live_server, width: str, language: str):  # noqa: F811
    w, h = WIDTHS[width]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": w, "height": h},
        locale="fr-FR" if language == "fr" else "en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, page.url


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_privacy_pages_at_each_width(browser, live_server, personas, width, language):  # noqa: F811
    PrivacySettings.objects.create(
        organization=personas.organization,
        contact_name="Délégué à la protection des données",
        contact_email="dpo@acme.example",
        notice="Our data-protection officer answers within a month.",
    )
    context, page = _page(browser, live_server, width, language)
    try:
        personas.owner.language = language
        personas.owner.save(update_fields=["language"])
        _sign_in(page, personas.owner.email)
        page.goto("/me/data/")
        _no_sideways_scroll(page)
        _shot(page, f"my-data-empty-{language}-{width}")
        page.locator("#data-export form button[type=submit]").click()
        page.wait_for_selector("[data-export-status]")
        export = DataExport.objects.get(user=personas.owner)
        data_export_build(export_id=export.pk)
        page.goto("/me/data/")
        page.wait_for_selector('[data-export-status="ready"]')
        with page.expect_download() as download:
            page.locator("a[href='/me/data/download/']").click()
        assert download.value.suggested_filename.endswith(".zip")
        _no_sideways_scroll(page)
        _shot(page, f"my-data-ready-{language}-{width}")

        page.goto("/privacy/")
        page.wait_for_selector("[data-privacy-contact]")
        _no_sideways_scroll(page)
        _shot(page, f"privacy-{language}-{width}")

        page.goto("/admin/privacy/")
        _no_sideways_scroll(page)
        _shot(page, f"privacy-admin-{language}-{width}")

        page.goto(f"/admin/people/{personas.teammate.pk}/erase/")
        _no_sideways_scroll(page)
        _shot(page, f"erase-{language}-{width}")
    finally:
        context.close()
