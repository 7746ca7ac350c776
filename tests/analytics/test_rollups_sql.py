"""The set-based SQL rollup writes exactly the rows the old row-by-row Python job wrote
(kept for SQLite in analytics/services/rollups_portable.py): on generated histories in several time zones, and
on a hand-built one with the edges spelled out (self clicks, a click at local midnight, the
spring DST change, a person in two teams, a share link taking its reach from an earlier
API share, a count a network lowered, rates that are not the defaults). Every dimension
the dashboards cut by (content, sharer, team, network) is compared."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advocacy.models import ShareMode
from analytics import selectors
from analytics.models import AnalyticsSettings, DailyRollup
from analytics.services.rollups import rollups_fill
from analytics.services.rollups_portable import rollup_rows as python_rollup_rows
from analytics.services.settings import analytics_settings_get
from organizations.models import Role
from tests.analytics.conftest import make_click, make_share, make_snapshot
from tests.analytics.test_rollups import NOW, START, build, share_spec
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = (
    "shares",
    "link_confirmations",
    "clicks",
    "unique_clicks",
    "reactions",
    "comments",
    "reshares",
    "impressions",
    "potential_reach",
    "reach_stands_in",
    "emv",
)


def _key(row: DailyRollup) -> tuple:
    return (row.day, row.user_id, row.content_id, row.network)


def sql_rows(organization) -> dict[tuple, tuple]:
    return {
        _key(row): tuple(getattr(row, name) for name in COLUMNS)
        for row in DailyRollup.objects.filter(organization=organization)
    }


def python_rows(organization, first: date, last: date) -> dict[tuple, tuple]:
    zone = ZoneInfo(organization.time_zone)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rates = analytics_settings_get(organization_id=organization.pk)
    return {
        _key(row): tuple(getattr(row, name) for name in COLUMNS)
        for row in python_rollup_rows(organization, zone, days, rates)
    }


def by_dimension(rows: dict[tuple, tuple], index: int) -> dict:
    """Sums of every count per value of one key part (1 sharer, 2 content, 3 network)."""
    sums: dict = defaultdict(lambda: [0] * (len(COLUMNS) - 2))
    for key, values in rows.items():
        counts = [v for name, v in zip(COLUMNS, values, strict=True) if name not in ("emv",)]
        counts = [v for v in counts if not isinstance(v, bool)]
        sums[key[index]] = [a + b for a, b in zip(sums[key[index]], counts, strict=True)]
    return dict(sums)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(share_spec, min_size=1, max_size=8),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]),
)
def test_sql_rollup_equals_the_python_rollup(db, specs, zone):
    organization = OrganizationFactory(time_zone=zone)
    with time_machine.travel(NOW, tick=False):
        build(organization, specs)
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        rollups_fill(organization_id=organization.pk, rebuild=True)
    expected = python_rows(
        organization, (START - timedelta(days=2)).date(), (NOW + timedelta(days=2)).date()
    )
    assert sql_rows(organization) == expected
    for index in (1, 2, 3):
        assert by_dimension(sql_rows(organization), index) == by_dimension(expected, index)


@pytest.fixture
def edges(db):
    """A Paris organisation across the spring DST change (29 March 2026), two teams, one
    person in both, and every edge the aggregation has."""
    organization = OrganizationFactory(time_zone="Europe/Paris")
    AnalyticsSettings.objects.create(
        organization=organization,
        cpc=Decimal("0.35"),
        cpm_linkedin=Decimal("27.13"),
        cpm_x=Decimal("4.99"),
        cpm_facebook=Decimal("8.01"),
    )
    red, blue = TeamFactory(organization=organization), TeamFactory(organization=organization)
    alice = UserFactory(organization=organization, role=Role.EMPLOYEE)
    bob = UserFactory(organization=organization, role=Role.EMPLOYEE)
    alice.teams.add(red, blue)
    bob.teams.add(blue)
    news, story = (ContentFactory(organization=organization) for _ in range(2))
    dst = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 in Paris, just after the change
    with time_machine.travel(datetime(2026, 4, 5, tzinfo=UTC), tick=False):
        first = make_share(
            user=alice, content=news, published_at=dst - timedelta(hours=3), followers=1200
        )
        make_snapshot(first, at=dst - timedelta(hours=1), impressions=400, reactions=10)
        # The network lowered its counts: the day shows no negative growth.
        make_snapshot(first, at=dst + timedelta(days=1), impressions=350, reactions=12, comments=2)
        make_snapshot(first, at=dst + timedelta(days=2), impressions=900, reshares=3)
        # 23:30 UTC on 28 March is 00:30 on 29 March in Paris (UTC+1 before the change).
        make_click(first, at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC), visitor="night")
        make_click(first, at=datetime(2026, 3, 28, 22, 59, tzinfo=UTC), visitor="night")
        make_click(first, at=dst, visitor="night")
        make_click(first, at=dst + timedelta(minutes=5), visitor="self", is_self=True)
        # X: no impressions ever, so potential reach stands in.
        x_api = make_share(user=alice, content=story, network="x", published_at=dst, followers=300)
        make_snapshot(x_api, at=dst + timedelta(hours=2), impressions=None, reactions=1)
        link = make_share(
            user=alice,
            content=news,
            network="x",
            mode=ShareMode.LINK,
            published_at=dst + timedelta(days=1),
        )
        make_click(link, at=dst + timedelta(days=1, hours=1), visitor="a")
        make_click(link, at=dst + timedelta(days=1, hours=2), visitor="b")
        make_click(link, at=dst + timedelta(days=1, hours=3), visitor="a")
        make_click(link, at=dst + timedelta(days=1, hours=3), visitor="alice", is_self=True)
        bobs = make_share(
            user=bob,
            content=story,
            network="facebook",
            mode=ShareMode.LINK,
            published_at=dst + timedelta(hours=20),
        )
        make_click(bobs, at=dst + timedelta(hours=21), visitor="z")
        # Only a self click on a day: no row for that day.
        make_click(bobs, at=dst + timedelta(days=3), visitor="bob", is_self=True)
    with time_machine.travel(datetime(2026, 4, 5, 0, 10, tzinfo=UTC), tick=False):
        rollups_fill(organization_id=organization.pk)
    return organization, alice, news


def test_sql_rollup_equals_the_python_rollup_on_the_edges(edges):
    organization, alice, news = edges
    expected = python_rows(organization, date(2026, 3, 20), date(2026, 4, 5))
    got = sql_rows(organization)
    assert got == expected
    # The facts the edges were built for, so the comparison cannot pass vacuously.
    days = {key[0] for key in got}
    assert date(2026, 3, 29) in days and date(2026, 4, 1) not in days
    assert date(2026, 3, 28) in days  # 22:59 UTC on 28 March is 23:59 in Paris
    assert sum(v[COLUMNS.index("clicks")] for v in got.values()) == 7  # self clicks left out
    link_row = got[(date(2026, 3, 30), alice.pk, news.pk, "x")]
    assert link_row[COLUMNS.index("unique_clicks")] == 2
    assert link_row[COLUMNS.index("potential_reach")] == 300
    assert link_row[COLUMNS.index("reach_stands_in")] is True
    assert all(v[COLUMNS.index("impressions")] >= 0 for v in got.values())


def test_team_numbers_are_the_same_from_either_rollup(edges):
    """The team dimension is resolved at read time: the team rows read from the SQL rows
    equal those read from the Python rows written in their place."""
    organization, _alice, _news = edges
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN)
    period = selectors.Period(start=date(2026, 3, 20), end=date(2026, 4, 5))

    def teams() -> list[tuple]:
        scope = selectors.dashboard_scope(admin)
        return [
            (row.name, row.people, row.active, row.totals)
            for row in selectors.by_team(scope, period)
        ]

    from_sql = teams()
    zone = ZoneInfo(organization.time_zone)
    days = [period.start + timedelta(days=n) for n in range(period.days)]
    rows = python_rollup_rows(
        organization, zone, days, analytics_settings_get(organization_id=organization.pk)
    )
    DailyRollup.objects.filter(organization=organization).delete()
    DailyRollup.objects.bulk_create(rows)
    assert teams() == from_sql
    assert any(total.clicks for _n, _p, _a, total in from_sql)
