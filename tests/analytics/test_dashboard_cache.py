"""The dashboard cache: a cached answer equals the computed one, the key follows the rollup
watermark (a new rollup pass means fresh numbers), the scope and the language, and a
cached read costs a bounded, small number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analytics import dashboard_cache, selectors
from analytics.models import AnalyticsSettings, FillState
from analytics.services.rollups import rollups_fill
from organizations.models import User
from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        # A first pass rebuilds every day from the raw events (there are none here): it
        # runs before the hand-written rows, and only its watermark matters.
        rollups_fill(organization_id=w.organization.pk)
        rollup(w.employee, w.content, TODAY, shares=2, clicks=10, reactions=2, emv="15.00")
        rollup(w.seller, w.other_content, TODAY - timedelta(days=3), link_confirmations=1, clicks=1)
        rollup(w.marketer, w.content, TODAY - timedelta(days=10), shares=1, clicks=4)
        rollup(w.both, w.content, TODAY - timedelta(days=1), shares=1, impressions=300)
        rollup(w.employee, w.content, TODAY - timedelta(days=8), shares=1, clicks=2)  # previous
        yield w


def _period(key: str = "30d") -> selectors.Period:
    return selectors.period_resolve(key=key, today=TODAY)


@pytest.mark.parametrize("reader", ["manager", "admin"])
def test_the_cached_dashboard_equals_the_computed_one(world, reader, django_assert_num_queries):
    scope = selectors.dashboard_scope(getattr(world, reader))
    period = _period()
    computed = selectors.dashboard_numbers(scope, period, interval="day")
    first = dashboard_cache.dashboard_numbers_cached(scope, period, interval="day")
    # The second read comes from the cache: one query, the watermark (the currency was
    # read once for this organisation object).
    with django_assert_num_queries(1):
        second = dashboard_cache.dashboard_numbers_cached(scope, period, interval="day")
    assert first == computed
    assert second == computed
    assert second.summary.totals.clicks == (13 if reader == "manager" else 17)


def test_the_cached_api_answers_equal_the_uncached_ones(world, settings):
    api = api_client_for(world.manager)
    urls = ("api_analytics_summary", "api_analytics_teams")
    configured = settings.CACHES
    settings.CACHES = DUMMY
    uncached = {url: api.get(reverse(url), {"period": "30d"}).json() for url in urls}
    settings.CACHES = configured
    for url in urls:
        api.get(reverse(url), {"period": "30d"})  # computes and stores
    cached = {url: api.get(reverse(url), {"period": "30d"}).json() for url in urls}
    assert cached == uncached
    assert cached["api_analytics_summary"]["totals"]["clicks"] == 13
    assert [row["name"] for row in cached["api_analytics_teams"]] == ["Sales", "North"]


def test_a_new_rollup_run_changes_the_key_and_brings_the_new_numbers(world):
    scope = selectors.dashboard_scope(world.manager)
    period = _period()
    with time_machine.travel(NOW, tick=False):
        before_mark = dashboard_cache.rollups_watermark(world.organization.pk)
        key_before = dashboard_cache.dashboard_cache_key(
            scope, period, "summary", watermark=before_mark
        )
        assert dashboard_cache.summary_cached(scope, period).totals.clicks == 13
        # Rows written without a rollup pass (only tests do that) are not seen yet...
        rollup(world.seller, world.content, TODAY, clicks=5)
        assert dashboard_cache.summary_cached(scope, period).totals.clicks == 13
    with time_machine.travel(datetime.fromisoformat(NOW) + timedelta(minutes=5), tick=False):
        rollups_fill(organization_id=world.organization.pk)
        after_mark = dashboard_cache.rollups_watermark(world.organization.pk)
        key_after = dashboard_cache.dashboard_cache_key(
            scope, period, "summary", watermark=after_mark
        )
        # ...the next pass moves the watermark, so the next read computes afresh.
        assert after_mark is not None and before_mark is not None and after_mark > before_mark
        assert key_after != key_before
        assert dashboard_cache.summary_cached(scope, period).totals.clicks == 18
        assert cache.get(key_before) is not None and cache.get(key_after) is not None


def test_the_key_separates_organisations_scopes_periods_and_languages(world):
    mark = FillState.objects.get(name=f"rollups:{world.organization.pk}").watermark
    manager = selectors.dashboard_scope(world.manager)
    admin = selectors.dashboard_scope(world.admin)
    north = selectors.dashboard_scope(world.manager, team_id=world.north.pk)
    outsider = selectors.dashboard_scope(world.outsider)

    def key(scope: selectors.Scope, period: selectors.Period | None = None) -> str:
        return dashboard_cache.dashboard_cache_key(
            scope, period or _period(), "page", watermark=mark
        )

    keys = {key(manager), key(admin), key(north), key(outsider), key(manager, _period("7d"))}
    with translation.override("fr"):
        keys.add(key(manager))
    assert len(keys) == 6
    # The same reader's key is stable: a second reader of the same scope shares it.
    assert key(manager) == key(selectors.dashboard_scope(world.manager))


def test_an_answer_cached_in_english_is_not_served_in_french(world):
    scope = selectors.dashboard_scope(world.admin)
    period = _period()
    with translation.override("en"):
        english = dashboard_cache.dashboard_numbers_cached(scope, period, interval="day")
    with translation.override("fr"):
        french = dashboard_cache.dashboard_numbers_cached(scope, period, interval="day")
        computed = selectors.dashboard_numbers(scope, period, interval="day")
    assert french == computed
    assert [s.label for s in english.segments] != [s.label for s in french.segments]


def test_the_currency_is_read_live_around_the_cached_numbers(world):
    scope = selectors.dashboard_scope(world.admin)
    period = _period()
    assert dashboard_cache.summary_cached(scope, period).currency == "EUR"
    AnalyticsSettings.objects.update_or_create(
        organization=world.organization, defaults={"currency": "CHF"}
    )
    # A new request reads its user and organisation afresh.
    fresh_scope = selectors.dashboard_scope(User.objects.get(pk=world.admin.pk))
    assert dashboard_cache.summary_cached(fresh_scope, period).currency == "CHF"


@pytest.mark.parametrize(
    ("url", "params", "cached_bound"),
    [
        ("dashboards", {"period": "30d"}, 11),
        ("api_analytics_summary", {"period": "30d"}, 7),
        ("api_analytics_teams", {"period": "30d"}, 7),
    ],
)
def test_a_cached_read_costs_few_queries(world, client, url, params, cached_bound):
    if url == "dashboards":
        client.force_login(world.manager)
        get = client.get
    else:
        get = api_client_for(world.manager).get
    with CaptureQueriesContext(connection) as computed:
        assert get(reverse(url), params).status_code == 200
    with CaptureQueriesContext(connection) as cached:
        assert get(reverse(url), params).status_code == 200
    assert len(cached.captured_queries) <= cached_bound
    assert len(cached.captured_queries) < len(computed.captured_queries)
