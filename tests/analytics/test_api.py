"""The analytics API: the same numbers as the pages, periods and teams as parameters,
problem JSON naming the field on bad input, bounded queries, and a clean schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from analytics import selectors
from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        rollup(w.employee, w.content, TODAY, shares=2, clicks=10, reactions=2, emv="15.00")
        rollup(w.seller, w.other_content, TODAY - timedelta(days=3), link_confirmations=1, clicks=1)
        rollup(w.marketer, w.content, TODAY - timedelta(days=10), shares=1, clicks=4)
        rollup(w.employee, w.content, TODAY - timedelta(days=8), shares=1, clicks=2)  # previous
        yield w


def test_summary_equals_the_selector_behind_the_page(world):
    body = api_client_for(world.manager).get(reverse("api_analytics_summary"), {"period": "7d"})
    assert body.status_code == 200
    data = body.json()
    expected = selectors.summary(
        selectors.dashboard_scope(world.manager), selectors.period_resolve(key="7d", today=TODAY)
    )
    assert data["period"] == {"start": "2026-03-12", "end": "2026-03-18"}
    assert data["previous_period"] == {"start": "2026-03-05", "end": "2026-03-11"}
    assert data["totals"]["shares"] == expected.totals.all_shares == 3
    assert data["totals"]["clicks"] == expected.totals.clicks == 11
    assert Decimal(data["totals"]["emv"]) == expected.totals.emv
    assert data["previous_totals"]["clicks"] == 2
    assert Decimal(data["changes"]["clicks"]) == Decimal("450.0")
    assert data["employees"] == expected.people
    assert data["active_ambassadors"] == 2


def test_timeseries_by_day_and_by_week(world):
    api = api_client_for(world.admin)
    days = api.get(reverse("api_analytics_timeseries"), {"period": "7d"}).json()
    assert days["interval"] == "day" and len(days["points"]) == 7
    assert days["points"][-1]["totals"]["clicks"] == 10
    weeks = api.get(
        reverse("api_analytics_timeseries"), {"period": "30d", "interval": "week"}
    ).json()
    assert weeks["interval"] == "week"
    assert sum(p["totals"]["clicks"] for p in weeks["points"]) == 17


def test_rankings_and_teams(world):
    api = api_client_for(world.admin)
    contents = api.get(reverse("api_analytics_top_contents"), {"period": "30d"}).json()
    assert [(c["title"], c["totals"]["clicks"]) for c in contents] == [
        ("We are hiring", 16),
        ("Our new site", 1),
    ]
    people = api.get(reverse("api_analytics_top_ambassadors"), {"period": "30d", "limit": 1})
    assert [p["name"] for p in people.json()] == ["Nora North"]
    teams = api.get(
        reverse("api_analytics_teams"), {"period": "30d", "team": world.sales.pk}
    ).json()
    assert [(t["name"], t["totals"]["clicks"], t["employees"]) for t in teams] == [
        ("Sales", 13, 4),
        ("North", 12, 1),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "forever"}, "period"),
        ({"period": "custom", "start": "2026-03-10"}, "end"),
        ({"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"period": "custom", "start": "yesterday", "end": "2026-03-01"}, "start"),
        ({"period": "7d", "start": "2026-03-01"}, "period"),
        ({"team": "sales"}, "team"),
        ({"limit": "0"}, "limit"),
        ({"period": "custom", "start": "0001-01-01", "end": "0001-01-05"}, "start"),
        ({"period": "custom", "start": "1999-12-31", "end": "2000-01-05"}, "start"),
    ],
)
def test_bad_parameters_are_problem_json_naming_the_field(world, params, field):
    name = "api_analytics_top_contents"
    response = api_client_for(world.admin).get(reverse(name), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


def test_dates_without_a_previous_period_are_refused_by_the_summary(world):
    params = {"period": "custom", "start": "0001-01-01", "end": "0001-01-05"}
    response = api_client_for(world.admin).get(reverse("api_analytics_summary"), params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert {error["field"] for error in response.json()["errors"]} == {"start"}


def test_bad_interval_is_refused(world):
    response = api_client_for(world.admin).get(
        reverse("api_analytics_timeseries"), {"interval": "hour"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "interval"


def test_anonymous_callers_are_refused(world):
    from rest_framework.test import APIClient

    assert APIClient().get(reverse("api_analytics_summary")).status_code in (401, 403)


@pytest.mark.parametrize(
    "name",
    [
        "api_analytics_summary",
        "api_analytics_timeseries",
        "api_analytics_top_contents",
        "api_analytics_top_ambassadors",
        "api_analytics_teams",
    ],
)
def test_api_query_counts_are_bounded(world, name, django_assert_max_num_queries):
    api = api_client_for(world.manager)
    for day in range(60):
        rollup(world.seller, world.content, TODAY - timedelta(days=day + 20), shares=1, clicks=1)
    with django_assert_max_num_queries(9):
        response = api.get(reverse(name), {"period": "90d"})
    assert response.status_code == 200


def test_schema_is_valid_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/analytics/summary/" in out.getvalue()
