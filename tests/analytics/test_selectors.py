"""The dashboard numbers: periods and their previous period, the organisation's days,
headline sums and changes, trend buckets, rankings, teams, networks and segments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from analytics import selectors
from analytics.models import MetricPoll, PollStatus
from analytics.selectors import Period, period_resolve
from content.models import Network
from organizations.errors import DomainError
from tests.analytics.conftest import make_share
from tests.analytics.dashboards_data import TODAY, build_world, rollup

pytestmark = pytest.mark.django_db


# --- periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "start", "end", "previous_start", "previous_end"),
    [
        ("7d", date(2026, 3, 12), date(2026, 3, 18), date(2026, 3, 5), date(2026, 3, 11)),
        ("30d", date(2026, 2, 17), date(2026, 3, 18), date(2026, 1, 18), date(2026, 2, 16)),
        ("90d", date(2025, 12, 19), date(2026, 3, 18), date(2025, 9, 20), date(2025, 12, 18)),
        ("this_month", date(2026, 3, 1), date(2026, 3, 18), date(2026, 2, 11), date(2026, 2, 28)),
        # February 2026 has 28 days: the previous period is the 28 days before it.
        (
            "previous_month",
            date(2026, 2, 1),
            date(2026, 2, 28),
            date(2026, 1, 4),
            date(2026, 1, 31),
        ),
    ],
)
def test_periods_and_their_previous_period(key, start, end, previous_start, previous_end):
    period = period_resolve(key=key, today=TODAY)
    assert (period.start, period.end) == (start, end)
    assert (period.previous.start, period.previous.end) == (previous_start, previous_end)
    assert period.previous.days == period.days


def test_previous_month_across_a_year_and_a_leap_february():
    january = period_resolve(key="previous_month", today=date(2026, 1, 5))
    assert (january.start, january.end) == (date(2025, 12, 1), date(2025, 12, 31))
    leap = period_resolve(key="previous_month", today=date(2024, 3, 1))
    assert (leap.start, leap.end, leap.days) == (date(2024, 2, 1), date(2024, 2, 29), 29)


def test_custom_period_and_its_errors_name_the_field():
    period = period_resolve(
        key="custom", today=TODAY, start=date(2026, 1, 1), end=date(2026, 1, 10)
    )
    assert period.days == 10 and period.previous.end == date(2025, 12, 31)
    cases = [
        ({"start": None, "end": date(2026, 1, 1)}, "start"),
        ({"start": date(2026, 1, 1), "end": None}, "end"),
        ({"start": date(2026, 1, 10), "end": date(2026, 1, 1)}, "end"),
        ({"start": date(2026, 4, 1), "end": date(2026, 4, 2)}, "start"),
        ({"start": date(2024, 1, 1), "end": date(2026, 1, 1)}, "end"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DomainError) as error:
            period_resolve(key="custom", today=TODAY, **kwargs)
        assert error.value.field == field
    with pytest.raises(DomainError) as error:
        period_resolve(key="fortnight", today=TODAY)
    assert error.value.field == "period"


def test_today_is_the_organisations_day_not_the_servers():
    world = build_world()
    # 23:30 UTC on 17 March is already 18 March in Paris (UTC+1 in winter).
    late = datetime(2026, 3, 17, 23, 30, tzinfo=UTC)
    assert selectors.organization_today(world.organization, now=late) == date(2026, 3, 18)
    world.organization.time_zone = "America/New_York"
    assert selectors.organization_today(world.organization, now=late) == date(2026, 3, 17)


# --- summary ----------------------------------------------------------------------------


def test_summary_sums_the_period_and_compares_with_the_previous_one():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    rollup(
        w.employee,
        w.content,
        TODAY,
        shares=2,
        clicks=10,
        reactions=3,
        comments=1,
        reshares=1,
        impressions=900,
        potential_reach=500,
        emv="27.00",
    )
    rollup(w.seller, w.content, period.start, link_confirmations=1, clicks=2, emv="3.00")
    # The previous period: one share, four clicks.
    rollup(w.employee, w.other_content, period.start - timedelta(days=1), shares=1, clicks=4)
    # Outside both periods, and another organisation: never counted.
    rollup(w.employee, w.content, period.previous.start - timedelta(days=1), shares=9, clicks=99)
    rollup(w.outsider_employee, w.outsider_content, TODAY, shares=50, clicks=500)

    scope = selectors.dashboard_scope(w.admin)
    result = selectors.summary(scope, period)

    assert result.totals.all_shares == 3
    assert (result.totals.shares, result.totals.link_confirmations) == (2, 1)
    assert result.totals.clicks == 12
    assert result.totals.engagement == 5
    assert result.totals.emv == Decimal("30.00")
    assert result.totals.clicks_per_share == Decimal("4.00")
    assert result.previous_totals.all_shares == 1 and result.previous_totals.clicks == 4
    # 7 active members in the organisation (admin, editor, manager and four employees).
    assert result.people == 7
    assert (result.active, result.previous_active) == (2, 1)
    cards = {card.key: card for card in result.cards()}
    assert cards["shares"].change == Decimal("200.0")
    assert cards["clicks"].change == Decimal("200.0")
    assert cards["active_ambassadors"].value == Decimal("28.6")
    assert cards["engagement"].change is None  # nothing before: no percentage invented
    assert cards["emv"].unit == "EUR"


def test_days_at_the_edges_of_the_period_are_included_once():
    w = build_world()
    period = period_resolve(key="custom", today=TODAY, start=date(2026, 3, 1), end=date(2026, 3, 2))
    rollup(w.employee, w.content, date(2026, 2, 28), shares=1)  # previous period's last day
    rollup(w.employee, w.content, date(2026, 3, 1), shares=2)
    rollup(w.employee, w.content, date(2026, 3, 2), shares=4)
    rollup(w.employee, w.content, date(2026, 3, 3), shares=8)
    result = selectors.summary(selectors.dashboard_scope(w.admin), period)
    assert result.totals.shares == 6
    assert result.previous_totals.shares == 1


def test_a_person_in_two_teams_counts_once_in_the_total_and_in_both_team_rows():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    rollup(w.both, w.content, TODAY, shares=1, clicks=5)
    rollup(w.employee, w.content, TODAY, shares=1, clicks=1)
    scope = selectors.dashboard_scope(w.admin)
    assert selectors.summary(scope, period).totals.clicks == 6
    rows = {row.name: row for row in selectors.by_team(scope, period)}
    # Sales counts its own members and North's.
    assert rows["Sales"].totals.clicks == 6 and rows["Sales"].active == 2
    assert rows["North"].totals.clicks == 1 and rows["North"].people == 1
    assert rows["Marketing"].totals.clicks == 5 and rows["Marketing"].people == 2
    assert [(row.name, row.depth) for row in selectors.by_team(scope, period)] == [
        ("Marketing", 0),
        ("Sales", 0),
        ("North", 1),
    ]
    # The manager of Sales: only Sales and North, and Bea's clicks once.
    manager_scope = selectors.dashboard_scope(w.manager)
    assert selectors.summary(manager_scope, period).totals.clicks == 6
    assert [row.name for row in selectors.by_team(manager_scope, period)] == ["Sales", "North"]


# --- trend ------------------------------------------------------------------------------


def test_timeseries_fills_empty_days_and_cuts_weeks_at_the_period_ends():
    w = build_world()
    period = Period(start=date(2026, 3, 4), end=date(2026, 3, 18))  # Wednesday to Wednesday
    rollup(w.employee, w.content, date(2026, 3, 4), shares=1, clicks=2)
    rollup(w.employee, w.content, date(2026, 3, 8), shares=1, clicks=3)  # a Sunday
    rollup(w.seller, w.content, date(2026, 3, 9), clicks=7)  # the next Monday
    scope = selectors.dashboard_scope(w.admin)
    days = selectors.timeseries(scope, period, interval="day")
    assert len(days) == 15
    assert [p.totals.clicks for p in days[:6]] == [2, 0, 0, 0, 3, 7]
    weeks = selectors.timeseries(scope, period, interval="week")
    assert [(p.start, p.end) for p in weeks] == [
        (date(2026, 3, 4), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)),
        (date(2026, 3, 16), date(2026, 3, 18)),
    ]
    assert [p.totals.clicks for p in weeks] == [5, 7, 0]
    assert sum(p.totals.clicks for p in weeks) == selectors.summary(scope, period).totals.clicks


# --- rankings, networks, segments -------------------------------------------------------


def test_top_contents_and_ambassadors_are_ranked_and_scoped():
    w = build_world()
    period = period_resolve(key="30d", today=TODAY)
    rollup(w.employee, w.content, TODAY, shares=1, clicks=3)
    rollup(w.seller, w.other_content, TODAY, shares=2, clicks=9)
    rollup(w.marketer, w.content, TODAY, shares=5, clicks=1)
    rollup(w.outsider_employee, w.outsider_content, TODAY, shares=9, clicks=90)
    admin_scope = selectors.dashboard_scope(w.admin)
    contents = selectors.top_contents(admin_scope, period)
    assert [(c.title, c.totals.clicks, c.ambassadors) for c in contents] == [
        ("Our new site", 9, 1),
        ("We are hiring", 4, 2),
    ]
    people = selectors.top_ambassadors(admin_scope, period)
    assert [p.name for p in people] == ["Mia Marketer", "Sam Seller", "Nora North"]
    manager_people = selectors.top_ambassadors(selectors.dashboard_scope(w.manager), period)
    assert [p.name for p in manager_people] == ["Sam Seller", "Nora North"]


def test_networks_say_where_the_numbers_are_partial():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    rollup(w.employee, w.content, TODAY, network=Network.LINKEDIN, shares=2, clicks=4)
    rollup(
        w.seller,
        w.content,
        TODAY,
        network=Network.X,
        shares=1,
        impressions=300,
        reactions=2,
        clicks=1,
        emv="3.30",
    )
    rollup(
        w.seller,
        w.content,
        TODAY,
        network=Network.FACEBOOK,
        link_confirmations=1,
        potential_reach=200,
        reach_stands_in=True,
        clicks=2,
        emv="4.80",
    )
    rows = {
        row.network: row for row in selectors.by_network(selectors.dashboard_scope(w.admin), period)
    }
    assert [str(selectors.LINKEDIN_NOTE)] == rows["linkedin"].notes
    assert rows["x"].notes == []
    facebook = " ".join(rows["facebook"].notes)
    assert "share link" in facebook and "Potential reach stands in" in facebook


def test_a_network_without_permission_gets_its_note_from_the_polling_state():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    share = make_share(
        user=w.seller,
        content=w.content,
        network=Network.X,
        published_at=datetime(2026, 3, 17, 9, 0, tzinfo=UTC),
    )
    MetricPoll.objects.filter(share=share).update(status=PollStatus.NO_PERMISSION)
    rollup(w.seller, w.content, TODAY, network=Network.X, shares=1, reactions=1, impressions=10)
    rows = {
        row.network: row for row in selectors.by_network(selectors.dashboard_scope(w.admin), period)
    }
    assert any("X gives no numbers" in note for note in rows["x"].notes)


def test_segments_put_everyone_in_scope_in_exactly_one_group():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    # Nora: shared in 3 of the last 4 weeks (this week, 2 and 3 weeks ago).
    for weeks_ago in (0, 2, 3):
        rollup(w.employee, w.content, TODAY - timedelta(days=7 * weeks_ago), shares=1)
    rollup(w.seller, w.content, TODAY - timedelta(days=1), link_confirmations=1)  # once
    rollup(w.both, w.content, TODAY, clicks=5)  # clicks but no share: inactive
    groups = {s.key: s for s in selectors.segments(selectors.dashboard_scope(w.manager), period)}
    assert [m.name for m in groups["regulars"].members] == ["Nora North"]
    assert [m.name for m in groups["occasional"].members] == ["Sam Seller"]
    assert [m.name for m in groups["inactive"].members] == ["Bea Both", "Max Manager"]


def test_what_works_by_topic_kind_and_weekday():
    w = build_world()
    period = period_resolve(key="7d", today=TODAY)
    rollup(w.employee, w.content, TODAY, shares=2, clicks=10)  # Wednesday, link, Hiring
    rollup(w.seller, w.other_content, TODAY - timedelta(days=2), shares=1, clicks=1)  # Monday
    scope = selectors.dashboard_scope(w.editor)
    topics = {row.label: row.totals.clicks for row in selectors.what_works_by_topic(scope, period)}
    assert topics == {"Hiring": 10, "No topic": 1}
    kinds = [
        (row.key, row.totals.clicks_per_share)
        for row in selectors.what_works_by_kind(scope, period)
    ]
    assert kinds == [("link", Decimal("5.00")), ("text", Decimal("1.00"))]
    weekdays = selectors.what_works_by_weekday(scope, period)
    assert [row.key for row in weekdays] == ["1", "2", "3", "4", "5", "6", "7"]
    assert weekdays[0].totals.clicks == 1 and weekdays[2].totals.clicks == 10


def test_own_numbers_over_30_and_90_days():
    w = build_world()
    now = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)
    rollup(w.employee, w.content, TODAY, shares=1, clicks=2, reactions=1, emv="3.00")
    rollup(w.employee, w.content, TODAY - timedelta(days=45), shares=2, clicks=5, emv="7.50")
    rollup(w.employee, w.content, TODAY - timedelta(days=95), shares=7)
    rollup(w.seller, w.content, TODAY, shares=4)
    thirty, ninety = selectors.own_numbers(w.employee, now=now)
    assert (thirty.days, thirty.totals.all_shares, thirty.totals.clicks) == (30, 1, 2)
    assert (ninety.days, ninety.totals.all_shares, ninety.totals.emv) == (90, 3, Decimal("10.50"))
