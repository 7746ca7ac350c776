"""The rollup job's aggregation in Python, for databases without PostgreSQL's time-zone
SQL (the embedded SQLite of `make run`): the same buckets and rows as the set-based SQL in
analytics.services.rollups, which PostgreSQL runs (tests/analytics/test_rollups_sql.py
checks the two agree). The job's control flow (watermark, passes, chunks) is shared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Max

from advocacy.models import Click, Share, ShareMode
from analytics.models import (
    AnalyticsSettings,
    DailyRollup,
    MetricPoll,
    MetricSnapshot,
)
from analytics.services.rollups import GROWTH_FIELDS, _day_bounds, emv_compute
from organizations.models import Organization

Key = tuple[int, int, str]  # (user, content, network)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _dirty_days(
    organization: Organization, zone: ZoneInfo, *, low: datetime | None, high: datetime
) -> list[date]:
    org = organization.pk
    if low is None:
        return _all_days(organization, zone, high)
    moments: list[datetime] = []
    moments += Click.objects.filter(
        organization_id=org, recorded_at__gt=low, recorded_at__lte=high
    ).values_list("clicked_at", flat=True)
    moments += Share.objects.filter(
        organization_id=org,
        updated_at__gt=low,
        updated_at__lte=high,
        published_at__isnull=False,
    ).values_list("published_at", flat=True)
    late = list(
        MetricSnapshot.objects.filter(
            organization_id=org, recorded_at__gt=low, recorded_at__lte=high
        ).values_list("share_id", "fetched_at", "share__published_at")
    )
    first_figures: set[int] = set()
    if late:
        late_ids = {share_id for share_id, _at, _published in late}
        # A share's first followers figure sets the potential reach of its publication
        # day, and of the same person's later share links on that network.
        known_before = set(
            MetricSnapshot.objects.filter(
                share_id__in=late_ids, recorded_at__lte=low, followers__isnull=False
            ).values_list("share_id", flat=True)
        )
        first_figures = late_ids - known_before
    for _share_id, fetched_at, published_at in late:
        moments.append(fetched_at)
        if published_at is not None:
            moments.append(published_at)
    if first_figures:
        for user_id, network, published_at in Share.objects.filter(
            pk__in=first_figures
        ).values_list("user_id", "network", "published_at"):
            moments += Share.objects.filter(
                organization_id=org,
                user_id=user_id,
                network=network,
                mode=ShareMode.LINK,
                published_at__gte=published_at,
            ).values_list("published_at", flat=True)
    return sorted({_local_day(moment, zone) for moment in moments})


def _all_days(organization: Organization, zone: ZoneInfo, high: datetime) -> list[date]:
    """Every day that has an event or a row (a day whose events are gone is emptied)."""
    org = organization.pk
    moments: list[datetime] = []
    moments += Share.objects.filter(organization_id=org, published_at__isnull=False).values_list(
        "published_at", flat=True
    )
    moments += Click.objects.filter(organization_id=org).values_list("clicked_at", flat=True)
    moments += (
        MetricSnapshot.objects.filter(organization_id=org)
        .values_list("fetched_at", flat=True)
        .distinct()
    )
    days = {_local_day(moment, zone) for moment in moments}
    days.update(
        DailyRollup.objects.filter(organization_id=org).values_list("day", flat=True).distinct()
    )
    return sorted(days)


@dataclass
class _Row:
    shares: int = 0
    link_confirmations: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    impressions: int = 0
    potential_reach: int = 0
    stand_in: int = 0
    reach_stands_in: bool = False

    def empty(self) -> bool:
        return not (
            self.shares
            or self.link_confirmations
            or self.clicks
            or self.reactions
            or self.comments
            or self.reshares
            or self.impressions
        )


def _fill_days(
    organization: Organization, zone: ZoneInfo, days: list[date], rates: AnalyticsSettings
) -> None:
    """Rebuild the buckets of `days` (sorted, within CHUNK_DAYS) from the raw events."""
    rows = rollup_rows(organization, zone, days, rates)
    DailyRollup.objects.filter(organization_id=organization.pk, day__in=days).delete()
    DailyRollup.objects.bulk_create(rows, batch_size=500)


def rollup_rows(
    organization: Organization, zone: ZoneInfo, days: list[date], rates: AnalyticsSettings
) -> list[DailyRollup]:
    """The rows of the buckets of `days` (sorted), unsaved."""
    start, end = _day_bounds(days[0], zone)[0], _day_bounds(days[-1], zone)[1]
    wanted = set(days)
    org = organization.pk
    rows: dict[date, dict[Key, _Row]] = {day: defaultdict(_Row) for day in days}

    shares = [
        (pk, user, content, network, mode, at, _local_day(at, zone))
        for pk, user, content, network, mode, at in Share.objects.filter(
            organization_id=org, published_at__gte=start, published_at__lt=end
        )
        .order_by()
        .values_list("pk", "user_id", "content_id", "network", "mode", "published_at")
    ]
    shares = [share for share in shares if share[6] in wanted]
    api_ids = [share[0] for share in shares if share[4] == ShareMode.API]
    followers = dict(
        MetricPoll.objects.filter(share_id__in=api_ids, followers__isnull=False).values_list(
            "share_id", "followers"
        )
    )
    with_impressions = set(
        MetricSnapshot.objects.filter(share_id__in=api_ids, impressions__isnull=False)
        .order_by()
        .values_list("share_id", flat=True)
        .distinct()
    )
    link_reach = _link_followers(
        org,
        [
            (pk, user, network, at)
            for pk, user, _c, network, mode, at, _d in shares
            if mode != "api"
        ],
        end,
    )
    for pk, user_id, content_id, network, mode, _at, day in shares:
        row = rows[day][(user_id, content_id, network)]
        if mode == ShareMode.API:
            row.shares += 1
            reach = followers.get(pk, 0)
            known = pk in with_impressions
        else:
            row.link_confirmations += 1
            reach = link_reach.get(pk, 0)
            known = False
        row.potential_reach += reach
        if not known:
            row.stand_in += reach
            row.reach_stands_in = True

    visitors: dict[tuple[date, Key], set[str]] = defaultdict(set)
    for sharer, content_id, network, clicked_at, visitor in (
        Click.objects.filter(
            organization_id=org, clicked_at__gte=start, clicked_at__lt=end, is_self=False
        )
        .order_by()
        .values_list("sharer_id", "content_id", "network", "clicked_at", "visitor")
    ):
        day = _local_day(clicked_at, zone)
        if day in wanted:
            rows[day][(sharer, content_id, network)].clicks += 1
            visitors[(day, (sharer, content_id, network))].add(visitor)
    for (day, key), seen in visitors.items():
        rows[day][key].unique_clicks = len(seen)

    _add_growth(org, zone, start, end, wanted, rows)

    return [
        DailyRollup(
            organization_id=org,
            day=day,
            user_id=user_id,
            content_id=content_id,
            network=network,
            shares=row.shares,
            link_confirmations=row.link_confirmations,
            clicks=row.clicks,
            unique_clicks=row.unique_clicks,
            reactions=row.reactions,
            comments=row.comments,
            reshares=row.reshares,
            impressions=row.impressions,
            potential_reach=row.potential_reach,
            reach_stands_in=row.reach_stands_in,
            emv=emv_compute(
                cpm=rates.cpm_for(network),
                cpc=rates.cpc,
                impressions=row.impressions,
                clicks=row.clicks,
                stand_in=row.stand_in,
            ),
        )
        for day in days
        for (user_id, content_id, network), row in sorted(rows[day].items())
        if not row.empty()
    ]


def _add_growth(
    org: int,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    wanted: set[date],
    rows: dict[date, dict[Key, _Row]],
) -> None:
    """Metric growth per day: the running maximum of each count at the day's end minus
    the one at its start, for the shares polled in the range."""
    polled = MetricSnapshot.objects.filter(
        organization_id=org, fetched_at__gte=start, fetched_at__lt=end
    ).values("share_id")
    keys = {
        pk: (user, content, network)
        for pk, user, content, network in Share.objects.filter(pk__in=polled)
        .order_by()
        .values_list("pk", "user_id", "content_id", "network")
    }
    if not keys:
        return
    # The running maximum before the range, in one aggregate: earlier snapshots are not read.
    running: dict[int, list[int | None]] = {
        row["share_id"]: [row[f"max_{field}"] for field in GROWTH_FIELDS]
        for row in MetricSnapshot.objects.filter(share__in=polled, fetched_at__lt=start)
        .order_by()
        .values("share_id")
        .annotate(**{f"max_{field}": Max(field) for field in GROWTH_FIELDS})
    }
    before: dict[tuple[int, date], list[int | None]] = {}
    after: dict[tuple[int, date], list[int | None]] = {}
    for share_id, fetched_at, *counts in (
        MetricSnapshot.objects.filter(share__in=polled, fetched_at__gte=start, fetched_at__lt=end)
        .order_by("share_id", "fetched_at", "pk")
        .values_list("share_id", "fetched_at", *GROWTH_FIELDS)
    ):
        current = running.setdefault(share_id, [None] * len(GROWTH_FIELDS))
        bucket = (share_id, _local_day(fetched_at, zone))
        if bucket not in before:
            before[bucket] = list(current)
        for index, count in enumerate(counts):
            if count is not None and (current[index] is None or count > current[index]):
                current[index] = count
        after[bucket] = list(current)
    for (share_id, day), ended in after.items():
        if day not in wanted:
            continue
        row = rows[day][keys[share_id]]
        for index, field in enumerate(GROWTH_FIELDS):
            if ended[index] is not None:
                grown = ended[index] - (before[(share_id, day)][index] or 0)
                setattr(row, field, getattr(row, field) + grown)


def _link_followers(
    org: int, links: list[tuple[int, int, str, datetime]], end: datetime
) -> dict[int, int]:
    """Followers for share-link shares: the figure of the same person's latest API share on
    that network published at or before the link was confirmed."""
    if not links:
        return {}
    known: dict[tuple[int, str], list[tuple[datetime, int]]] = defaultdict(list)
    for user_id, network, published_at, followers in (
        MetricPoll.objects.filter(
            organization_id=org,
            share__user_id__in={user for _pk, user, _n, _at in links},
            share__published_at__lt=end,
            followers__isnull=False,
        )
        .order_by("share__published_at", "share_id")
        .values_list("share__user_id", "share__network", "share__published_at", "followers")
    ):
        known[(user_id, network)].append((published_at, followers))
    found = {}
    for pk, user_id, network, at in links:
        earlier = [count for moment, count in known.get((user_id, network), []) if moment <= at]
        if earlier:
            found[pk] = earlier[-1]
    return found
