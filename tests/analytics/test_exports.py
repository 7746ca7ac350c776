"""CSV exports: the same numbers as the page (the same selectors, the same scope), a
filename naming the period, a byte-order mark for Excel, semicolons quoted, formulas
defused, and bounded queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from analytics import exports
from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        w.content.title = '=HYPERLINK("http://evil"); hiring'
        w.content.save()
        rollup(w.employee, w.content, TODAY, shares=2, clicks=10, reactions=1, emv="15.50")
        rollup(w.seller, w.other_content, TODAY - timedelta(days=3), link_confirmations=1, clicks=3)
        rollup(w.marketer, w.content, TODAY - timedelta(days=2), shares=1, clicks=4)
        yield w


def read_csv(response) -> list[list[str]]:
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_csv_has_a_bom_a_dated_filename_and_quoted_semicolons(world):
    response = client_for(world.admin).get(
        reverse("dashboard_export", args=["top-contents"]), {"period": "7d"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="portevoix-top-contents-2026-03-12_2026-03-18.csv"'
    )
    rows = read_csv(response)
    assert rows[0][:3] == ["Content", "Ambassadors", "Shares"]
    # The title holds a semicolon (quoted, so one cell) and starts like a formula.
    assert rows[1][0] == '\'=HYPERLINK("http://evil"); hiring'
    assert '"\'=HYPERLINK(""http://evil""); hiring"' in response.content.decode("utf-8-sig")


def test_summary_csv_equals_the_cards_on_the_page(world):
    client = client_for(world.manager)
    html = client.get(reverse("dashboards"), {"period": "7d"}).content.decode()
    rows = read_csv(client.get(reverse("dashboard_export", args=["summary"]), {"period": "7d"}))
    by_label = {row[0]: row for row in rows[1:]}
    for key, label in [("shares", "Shares"), ("clicks", "Clicks"), ("emv", "Earned media value")]:
        on_page = re.search(rf'data-card="{key}".*?data-value>(.*?)</span>', html, re.S).group(1)
        number = re.sub(r"[^\d.,]", "", on_page).replace(",", ".")
        assert float(number) == float(by_label[label][1]), key
    assert by_label["Shares"][1] == "3" and by_label["Clicks"][1] == "13"
    assert by_label["Earned media value"][1] == "15.50"


def test_team_csv_equals_the_team_table(world):
    client = client_for(world.admin)
    html = client.get(reverse("dashboards"), {"period": "7d"}).content.decode()
    rows = read_csv(client.get(reverse("dashboard_export", args=["teams"]), {"period": "7d"}))
    header = rows[0]
    clicks = header.index("Clicks")
    for row in rows[1:]:
        cells = re.search(
            rf"<td>(?:<a [^>]*>)?{re.escape(row[0])}(?:</a>)?</td><td>(\d+)</td>"
            r".*?</td><td>(\d+)</td><td>(\d+)</td>",
            html,
        )
        assert cells, row[0]
        assert cells.group(1) == row[header.index("Employees")]
        assert cells.group(3) == row[clicks]
    assert {row[0]: row[clicks] for row in rows[1:]} == {
        "Marketing": "4",
        "Sales": "13",
        "North": "10",
    }


def test_every_table_exports_in_scope(world):
    client = client_for(world.admin)
    for table in exports.TABLES:
        params = {"period": "30d"}
        if table == "content-people":
            params["content"] = world.content.pk
        response = client.get(reverse("dashboard_export", args=[table]), params)
        assert response.status_code == 200, table
        assert len(read_csv(response)) >= 2, table
    assert client.get(reverse("dashboard_export", args=["nope"])).status_code == 404
    manager_rows = read_csv(
        client_for(world.manager).get(reverse("dashboard_export", args=["segments"]))
    )
    names = {row[1] for row in manager_rows[1:]}
    assert "Nora North" in names and "Mia Marketer" not in names


def test_export_queries_are_bounded(world, django_assert_max_num_queries):
    client = client_for(world.admin)
    client.get(reverse("dashboard_export", args=["teams"]))
    for day in range(40):
        rollup(world.both, world.other_content, TODAY - timedelta(days=day + 5), shares=1)
    for table in exports.TABLES:
        if table == "content-people":
            continue
        with django_assert_max_num_queries(10):
            client.get(reverse("dashboard_export", args=[table]), {"period": "90d"})
