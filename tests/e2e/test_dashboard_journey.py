"""A manager opens the dashboard, sees their teams' numbers and trend chart, changes the
period, and the chart and the cards update in place (htmx); then narrows to one team and
exports the table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analytics.selectors import organization_today
from tests.analytics.dashboards_data import build_world, rollup
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_changes_the_period_and_the_dashboard_follows(page, live_server):
    w = build_world()
    w.organization.default_language = "en"
    w.organization.save()
    w.manager.language = "en"
    w.manager.save()
    today = organization_today(w.organization)
    # 90 days of activity for the manager's people; more recently than long ago.
    for days_ago in range(90):
        day = today - timedelta(days=days_ago)
        rollup(w.employee, w.content, day, shares=1, clicks=3, reactions=1, emv="4.50")
        if days_ago % 3 == 0:
            rollup(w.seller, w.other_content, day, link_confirmations=1, clicks=2, emv="3.00")
    rollup(w.marketer, w.content, today, shares=40, clicks=400)  # not the manager's

    page.goto("/accounts/login/")
    page.fill("input[name=login]", w.manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")
    page.get_by_role("link", name="Dashboards").click()
    page.wait_for_url("**/dashboards/")

    shares = page.locator("[data-card=shares] [data-value]")
    clicks = page.locator("[data-card=clicks] [data-value]")
    canvas = page.locator("canvas[data-chart]")
    # Last 30 days by default: Nora 30 shares, Sam 10 share-link posts.
    assert shares.inner_text().strip() == "40"
    assert clicks.inner_text().strip() == "110"
    expect(canvas).to_have_attribute("data-drawn", "30")
    assert "Mia" not in page.inner_text("main")
    screenshot(page, "dashboard-30-days")

    # The last 7 days: cards and chart update without a page load.
    page.evaluate("window.__sameDocument = true")
    page.select_option("select[name=period]", "7d")
    expect(shares).to_have_text("10")
    assert page.evaluate("window.__sameDocument") is True
    assert shares.inner_text().strip() == "10"  # 7 by Nora, 3 by Sam (days 0, 3, 6)
    assert clicks.inner_text().strip() == "27"
    expect(canvas).to_have_attribute("data-drawn", "7")
    assert canvas.count() == 1
    assert "period=7d" in page.url
    # The table behind the chart holds the same numbers.
    page.locator("details", has_text="Numbers behind the chart").locator("summary").click()
    rows = page.locator("table[data-table=trend] tbody tr")
    assert rows.count() == 7
    screenshot(page, "dashboard-7-days")

    # Narrow to North: only Nora's numbers.
    page.select_option("select[name=team]", str(w.north.pk))
    expect(shares).to_have_text("7")
    assert page.locator("table[data-table=teams] tbody tr").count() == 1

    # Export of the team table, same scope and period.
    with page.expect_download() as download_info:
        page.locator("a[href*='/dashboards/export/teams.csv']").click()
    download = download_info.value
    assert download.suggested_filename.startswith("portevoix-teams-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("North;1;1;")
