"""Dashboard answers kept in the cache (Redis in production) until new rollups land.

Every number of a dashboard is a sum of daily rollups, and the rollups only change when the
rollup job runs: the job moves its watermark (FillState `rollups:<org>`) at the end of
every pass. The key of a cached answer holds that watermark, so the first reader after a
pass computes afresh and every later reader of the same organisation, scope, period and
language gets the stored answer; keys of older watermarks are never read again and expire.

What is not a rollup is read live around the cached part: the reader's access (the scope
is resolved before the key is made, and is part of it), the currency, the challenges of
the period. Team memberships, names and titles inside a cached answer are those of the
moment it was computed: they follow the next rollup pass (every five minutes), as the
numbers themselves trail the events by that much.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from analytics import selectors
from analytics.models import FillState
from analytics.selectors import DashboardNumbers, Period, Scope, Summary, TeamRow

T = TypeVar("T")
KEY_VERSION = 2
# Answers of a superseded watermark are never read again; this only bounds the memory they
# hold (a pass every five minutes moves every key long before).
CACHE_SECONDS = 60 * 60
_MISSING = object()


def rollups_watermark(organization_id: int) -> datetime | None:
    """The organisation's rollup watermark, read where the dashboards read (the replica
    when configured); None before the first pass."""
    return (
        FillState.objects.filter(name=f"rollups:{organization_id}")
        .values_list("watermark", flat=True)
        .first()
    )


def _scope_token(scope: Scope) -> str:
    def ids(values: frozenset[int] | None) -> str:
        return "all" if values is None else ",".join(map(str, sorted(values)))

    text = "|".join((ids(scope.team_ids), ids(scope.content_ids), scope.network))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def dashboard_cache_key(
    scope: Scope, period: Period, part: str, *, watermark: datetime | None, extra: str = ""
) -> str:
    """The key of one answer: organisation, rollup watermark, scope, period, language."""
    mark = "none" if watermark is None else f"{watermark.timestamp():.6f}"
    return ":".join(
        (
            f"analytics:dash:v{KEY_VERSION}",
            # Two databases behind one cache (a staging copy, the benchmarks' scales) hold
            # the same organisation ids and may hold the same watermark.
            str(settings.DATABASES["default"].get("NAME", "")),
            str(scope.organization_id),
            mark,
            part,
            extra,
            f"{period.start:%Y%m%d}-{period.end:%Y%m%d}",
            _scope_token(scope),
            get_language() or settings.LANGUAGE_CODE,
        )
    )


def dashboard_cached(
    scope: Scope, period: Period, part: str, compute: Callable[[], T], *, extra: str = ""
) -> T:
    """`compute()` once per rollup pass for this organisation, scope, period and language;
    the stored answer otherwise. One query (the watermark) and one cache read on a hit."""
    key = dashboard_cache_key(
        scope, period, part, watermark=rollups_watermark(scope.organization_id), extra=extra
    )
    found: Any = cache.get(key, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[no-any-return]
    value = compute()
    cache.set(key, value, CACHE_SECONDS)
    return value


# The answers the dashboard page and the API read, cached. The currency is not a rollup:
# it is put back from the organisation's settings at each read.


def summary_cached(scope: Scope, period: Period) -> Summary:
    summary = dashboard_cached(scope, period, "summary", lambda: selectors.summary(scope, period))
    return replace(summary, currency=selectors.rates_for(scope.organization).currency)


def teams_cached(scope: Scope, period: Period, shape: Callable[[list[TeamRow]], T]) -> T:
    """Every team row in scope as `shape` turns them out (the API keeps its serialized
    answer: a company's thousands of rows cost more to serialize than to read)."""
    return dashboard_cached(scope, period, "teams", lambda: shape(selectors.by_team(scope, period)))


def dashboard_numbers_cached(scope: Scope, period: Period, *, interval: str) -> DashboardNumbers:
    numbers = dashboard_cached(
        scope,
        period,
        "page",
        lambda: selectors.dashboard_numbers(scope, period, interval=interval),
        extra=interval,
    )
    currency = selectors.rates_for(scope.organization).currency
    return replace(numbers, summary=replace(numbers.summary, currency=currency))
