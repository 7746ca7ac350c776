"""The archive's pages in Chromium at 390 and 1280 px, in English and French: the compliance
officer searches, opens a record, asks for an export and downloads it; the org admin sets
the retention. No page scrolls sideways. Screenshots go to test-artifacts/screenshots (or ARCHIVE_SHOTS)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from advocacy.models import Share, ShareStatus
from archive.models import ArchiveExport, ArchivePolicy
from archive.services import archive_export_build, share_archive_observe
from organizations.models import Role
from tests.archive.conftest import approved_content, archived
from tests.e2e import conftest as e2e
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

browser = e2e.browser  # fixtures
page = e2e.page

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
WIDTHS = (390, 1280)
# ARCHIVE_SHOTS=<folder> keeps them elsewhere for review; by default with the e2e ones.
SHOTS = Path(os.environ.get("ARCHIVE_SHOTS") or e2e.SCREENSHOTS)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()


def _shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name


def _organization(language: str):
    organization = OrganizationFactory(name="Acme Santé", default_language=language)
    team = TeamFactory(organization=organization, name="Affaires médicales")
    officer = UserFactory(
        organization=organization,
        role=Role.COMPLIANCE_OFFICER,
        email=f"clara-{language}@acme.test",
        first_name="Clara",
        last_name="Conformité",
        language=language,
    )
    reviewer = UserFactory(
        organization=organization, role=Role.REVIEWER, first_name="Rémi", last_name="Relecteur"
    )
    people = [
        UserFactory(organization=organization, first_name=first, last_name=last, teams=[team])
        for first, last in (("Léa", "Martin"), ("Hugo", "Bernard"), ("Inès", "Dubois"))
    ]
    texts = [
        "Fiers de nos équipes : les résultats du trimestre sont en ligne. #ad",
        "Our new plant in Lyon opens today, with 200 jobs created. Read more "
        "https://www.example.org/a-very-long-link-that-should-wrap-nicely-on-phones #ad",
        "Join us at the medical congress next week.",
    ]
    records = []
    for n in range(27):
        content = approved_content(organization, title=f"Quarterly results {n}", reviewer=reviewer)
        records.append(
            archived(
                people[n % 3],
                content,
                text=texts[n % 3],
                network=("linkedin", "x", "facebook")[n % 3],
                at=NOW - timedelta(days=n),
            )
        )
    Share.objects.filter(pk=records[0].share_id).update(status=ShareStatus.RECALL_ASKED)
    share_archive_observe(share_id=records[0].share_id)
    return organization, officer, records


@pytest.mark.parametrize("language", ["en", "fr"])
def test_officer_searches_reads_a_record_and_exports(page, live_server, language):
    organization, officer, records = _organization(language)
    _sign_in(page, officer)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/archive/")
        expect(page.locator("li[data-share]")).to_have_count(25)
        _shot(page, f"archive-search-{language}", width)
        page.goto(f"/archive/{records[0].pk}/")
        expect(page.get_by_test_id("final-text")).to_have_text(records[0].text)
        expect(page.get_by_test_id("record-hash")).to_have_text(records[0].record_hash)
        _shot(page, f"archive-detail-{language}", width)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/archive/")
    page.fill("input[name=words]", "congress")
    page.locator("form.archive-filters button[type=submit]").click()
    expect(page.locator("li[data-share]")).to_have_count(9)
    page.goto("/archive/?words=nothing-like-this")
    expect(page.locator(".empty-state")).to_be_visible()
    _shot(page, f"archive-search-empty-{language}", 1280)

    page.goto("/archive/exports/")
    _shot(page, f"archive-exports-empty-{language}", 1280)
    page.fill("input[name=date_from]", "2026-05-01")
    page.fill("input[name=date_to]", "2026-06-15")
    page.locator("form[method=post] button[type=submit]").click()
    export = ArchiveExport.objects.get(organization=organization)
    expect(page).to_have_url(f"{live_server.url}/archive/exports/{export.pk}/")
    expect(page.get_by_test_id("export-status")).to_have_text(
        "Being prepared" if language == "en" else "En préparation"
    )
    archive_export_build(export_id=export.pk)  # as the worker would
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/archive/exports/{export.pk}/")
        _shot(page, f"archive-export-{language}", width)
        page.goto("/archive/exports/")
        _shot(page, f"archive-exports-{language}", width)
    page.goto(f"/archive/exports/{export.pk}/")
    with page.expect_download() as download:
        page.locator(f"a[href='/archive/exports/{export.pk}/download/']").click()
    assert download.value.suggested_filename == export.filename


@pytest.mark.parametrize("language", ["en", "fr"])
def test_admin_sets_the_retention(page, live_server, language):
    organization = OrganizationFactory(name="Acme Santé", default_language=language)
    admin = UserFactory(
        organization=organization, role=Role.ORG_ADMIN, email="ada@acme.test", language=language
    )
    _sign_in(page, admin)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/archive/")
        _shot(page, f"archive-settings-{language}", width)
    page.fill("input[name=retention_years]", "10")
    page.locator("form[method=post] button[type=submit]").click()
    expect(page.locator(".message-success")).to_be_visible()
    assert ArchivePolicy.objects.get(organization=organization).retention_years == 10
