"""The publication calendar page: a month grid of seven columns and a week view, both
counted in the organisation's time zone, with their navigation, scoping and queries."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import ContentStatus
from organizations.models import Role
from tests.conftest import client_for
from tests.content.factories import ContentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# UTC+14 all year: 11:00 UTC on 28 February is already 1 March there, so a page that
# counted days in UTC (or in the server's zone) would show the wrong month and day.
ZONE = "Pacific/Kiritimati"
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 2, 28, 11, 0, tzinfo=UTC)


@pytest.fixture
def desk(personas, time_machine):
    time_machine.move_to(NOW, tick=False)
    personas.organization.time_zone = ZONE
    personas.organization.save(update_fields=["time_zone"])
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR, language="en")
    return client_for(editor)


def _month_cells(html: str) -> dict[str, str]:
    """Each day cell of the month grid by its date (YYYY-MM-DD), in page order."""
    grid = html.split('<table class="cal-month"', 1)[1].split("</table>", 1)[0]
    parts = re.split(r'<td class="cal-day[^"]*" data-date="(\d{4}-\d{2}-\d{2})"', grid)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _week_cells(html: str) -> dict[str, str]:
    week = html.split('<ol class="cal-week"', 1)[1].split("</ol>", 1)[0]
    parts = re.split(r'<li class="cal-week-day[^"]*" data-date="(\d{4}-\d{2}-\d{2})"', week)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _headers(html: str) -> list[str]:
    head = html.split('<table class="cal-month"', 1)[1].split("</thead>", 1)[0]
    return re.findall(r'<th scope="col">([^<]+)</th>', head)


def test_this_month_is_the_organisations_month_in_seven_columns(desk):
    html = desk.get("/library/calendar/").content.decode()
    assert _headers(html) == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ]  # fmt: skip
    cells = _month_cells(html)
    days = list(cells)
    # March 2026 starts on a Sunday: six Monday-to-Sunday weeks, from 23 Feb to 5 April.
    assert len(days) == 42
    assert days[0] == "2026-02-23" and days[-1] == "2026-04-05"
    assert "March 2026" in html
    today = [day for day, cell in cells.items() if 'aria-current="date"' in cell]
    assert today == ["2026-03-01"]
    assert "cal-outside" in html.split('data-date="2026-02-28"', 1)[0].rsplit("<td", 1)[1]


def test_a_post_sits_on_its_day_in_the_organisations_zone(desk, personas):
    # 23:30 UTC on 10 March is 13:30 on 11 March in Kiritimati.
    ContentFactory(
        organization=personas.organization,
        title="Launch in Lyon",
        publish_at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC),
    )
    cells = _month_cells(desk.get("/library/calendar/?month=2026-03").content.decode())
    assert "Launch in Lyon" in cells["2026-03-11"]
    assert "13:30" in cells["2026-03-11"]
    assert "Launch in Lyon" not in cells["2026-03-10"]


def test_month_navigation_links(desk):
    html = desk.get("/library/calendar/?month=2026-07").content.decode()
    assert "July 2026" in html
    assert 'href="?month=2026-06"' in html
    assert 'href="?month=2026-08"' in html
    assert 'href="?view=week&amp;week=2026-W27"' in html  # the week switch: 1 July's week
    january = desk.get("/library/calendar/?month=2027-01").content.decode()
    assert 'href="?month=2026-12"' in january and 'href="?month=2027-02"' in january


def test_the_old_year_and_month_address_still_works(desk):
    html = desk.get("/library/calendar/?year=2026&month=7").content.decode()
    assert "July 2026" in html


@pytest.mark.parametrize("query", ["?view=week&week=2026-W11", "?view=week&date=2026-03-13"])
def test_week_view_shows_monday_to_sunday(desk, personas, query):
    ContentFactory(
        organization=personas.organization,
        title="Wednesday post",
        publish_at=datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo(ZONE)),
    )
    html = desk.get(f"/library/calendar/{query}").content.decode()
    cells = _week_cells(html)
    assert list(cells) == [f"2026-03-{day:02d}" for day in range(9, 16)]
    assert "Wednesday post" in cells["2026-03-11"]
    assert "Week 11" in html
    assert 'href="?view=week&amp;week=2026-W10"' in html
    assert 'href="?view=week&amp;week=2026-W12"' in html
    assert 'href="?month=2026-03"' in html  # the month switch
    assert '<a href="?view=week&amp;week=2026-W11" aria-current="page">' in html


def test_week_view_without_a_week_is_this_week_in_the_organisations_zone(desk):
    cells = _week_cells(desk.get("/library/calendar/?view=week").content.decode())
    # Sunday 1 March 2026 there (still Saturday 28 February in UTC).
    assert next(iter(cells)) == "2026-02-23"
    assert 'aria-current="date"' in cells["2026-03-01"]


def test_a_crowded_day_shows_three_chips_and_how_many_more(desk, personas):
    for hour in range(8, 13):
        ContentFactory(
            organization=personas.organization,
            title=f"Busy {hour}",
            publish_at=datetime(2026, 3, 18, hour, 0, tzinfo=ZoneInfo(ZONE)),
        )
    cell = _month_cells(desk.get("/library/calendar/?month=2026-03").content.decode())["2026-03-18"]
    assert cell.count('class="cal-chip ') == 3
    assert "+2 more" in cell
    assert 'href="?view=week&amp;date=2026-03-18"' in cell


def test_only_approved_and_in_review_content_of_this_organisation_appears(desk, personas):
    when = datetime(2026, 3, 12, 9, 0, tzinfo=ZoneInfo(ZONE))
    ContentFactory(organization=personas.organization, title="Ours approved", publish_at=when)
    ContentFactory(
        organization=personas.organization,
        title="Ours in review",
        publish_at=when,
        status=ContentStatus.IN_REVIEW,
    )
    ContentFactory(
        organization=personas.organization,
        title="Ours draft",
        publish_at=when,
        status=ContentStatus.DRAFT,
    )
    ContentFactory(organization=personas.other_organization, title="Theirs", publish_at=when)
    for query in ("?month=2026-03", "?view=week&week=2026-W11"):
        html = desk.get(f"/library/calendar/{query}").content.decode()
        assert "Ours approved" in html and "Ours in review" in html
        assert "Ours draft" not in html
        assert "Theirs" not in html


@pytest.mark.parametrize(
    "query",
    ["?month=2026-13", "?month=abc", "?month=1999-01", "?view=week&week=2026-W60", "?date=x"],
)
def test_an_unreadable_period_shows_the_current_one_with_a_note(desk, query):
    response = desk.get(f"/library/calendar/{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "could not be read" in html
    assert "2026-03-01" in html  # today, in the organisation's zone, is on the page


def test_employees_and_outsiders_do_not_get_the_calendar(personas):
    assert client_for(personas.teammate).get("/library/calendar/").status_code == 404


def test_weekday_and_month_names_follow_the_users_language(desk, personas):
    french = UserFactory(organization=personas.organization, role=Role.EDITOR, language="fr")
    html = client_for(french).get("/library/calendar/?month=2026-03").content.decode()
    assert _headers(html)[0].lower() == "lundi"
    assert "mars 2026" in html.lower()
    week = client_for(french).get("/library/calendar/?view=week&week=2026-W11").content.decode()
    assert "mercredi" in week.lower()


@pytest.mark.parametrize("query", ["?month=2026-03", "?view=week&week=2026-W11"])
def test_the_calendar_runs_a_bounded_number_of_queries(desk, personas, query):
    def count() -> int:
        desk.get(f"/library/calendar/{query}")  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            assert desk.get(f"/library/calendar/{query}").status_code == 200
        return len(queries)

    when = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo(ZONE))
    ContentFactory(organization=personas.organization, publish_at=when)
    few = count()
    for day in range(9, 16):
        ContentFactory(organization=personas.organization, publish_at=when.replace(day=day))
        ContentFactory(
            organization=personas.organization,
            publish_at=when.replace(day=day, hour=15),
            status=ContentStatus.IN_REVIEW,
        )
    assert count() == few
