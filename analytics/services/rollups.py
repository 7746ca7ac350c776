"""The daily rollups every dashboard reads, kept by an idempotent, resumable job.

Buckets are (organisation, day in the organisation's time zone); inside a bucket one row
per (sharer, content, network). A bucket is always rebuilt whole from the raw events —
shares, clicks, metric snapshots — in one transaction (delete, then insert), so running
the job again changes nothing.

Which buckets to rebuild comes from the fill watermark (FillState `rollups:<org>`): every
event recorded after it marks the day it belongs to (a click drained late, a snapshot, a
share confirmed late). A pass keeps its own progress (`rollups:<org>:pass` holds the
pass's upper bound, `rollups:<org>:done` the last day written), so an interrupted pass
resumes at the next day instead of starting over; the watermark moves only once every
bucket of the pass is written. The watermark trails the clock by a few minutes, because
an event stamped just before a pass may commit just after it; the overlap is refilled,
which is harmless.

What a row holds:
- shares / link_confirmations: API shares published, share links confirmed that day;
- clicks / unique_clicks: counted clicks that day (bots are never stored, the sharer's own
  clicks are left out), unique by visitor;
- reactions, comments, reshares, impressions: the growth that day, from the snapshots
  (the running maximum at the day's end minus the one at its start, so a count a network
  lowers never makes a negative day);
- potential_reach: followers at share time of that day's shares (MetricPoll.followers,
  the first figure polled; for a share link, the figure of the same person's latest API
  share on that network before it; else 0);
- emv = CPM × impressions / 1000 + CPC × clicks at the organisation's rates; for a share
  whose impressions are unknown, its potential reach stands in for them and
  `reach_stands_in` is set. Changing the rates applies to buckets filled afterwards
  (`manage.py analytics_rollup --rebuild` recomputes history).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from advocacy.models import Click, Share, ShareMode
from analytics.models import (
    AnalyticsSettings,
    DailyRollup,
    FillState,
    MetricPoll,
    MetricSnapshot,
)
from analytics.services.settings import analytics_settings_get
from content.models import Network
from organizations.models import Organization

LAG = timedelta(minutes=5)
# Days read together: bounds the rows one read holds, and what an interruption loses.
CHUNK_DAYS = 31
GROWTH_FIELDS = ("impressions", "reactions", "comments", "reshares")
_CENT = Decimal("0.01")


def _names(organization_id: int) -> tuple[str, str, str]:
    base = f"rollups:{organization_id}"
    return base, f"{base}:pass", f"{base}:done"


def emv_compute(
    *, cpm: Decimal, cpc: Decimal, impressions: int, clicks: int, stand_in: int = 0
) -> Decimal:
    """EMV = CPM × impressions / 1000 + CPC × clicks, where `stand_in` (potential reach of
    shares whose impressions are unknown) counts as impressions. Rounded to the cent."""
    value = cpm * Decimal(impressions + stand_in) / 1000 + cpc * clicks
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def rollups_fill(
    *, organization_id: int | None = None, now: datetime | None = None, rebuild: bool = False
) -> int:
    """Bring the rollups up to date (every organisation, or one). Returns how many
    (organisation, day) buckets were rebuilt. `rebuild` forgets the watermark and rebuilds
    every day that has events or rows."""
    now = now or timezone.now()
    organizations = Organization.objects.order_by("pk").only("pk", "time_zone")
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    filled = sum(
        _fill_organization(organization, now=now, rebuild=rebuild) for organization in organizations
    )
    if rebuild and filled and not connection.in_atomic_block:
        # Every row was replaced: without fresh statistics the planner takes the table for
        # what it was (empty, after a load) and the dashboards' scans go row by row.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_TABLES['rollup']}")
    return filled


def _fill_organization(organization: Organization, *, now: datetime, rebuild: bool) -> int:
    zone = ZoneInfo(organization.time_zone)
    name, pass_name, done_name = _names(organization.pk)
    if rebuild:
        FillState.objects.filter(name__in=[name, pass_name, done_name]).delete()
    states = {state.name: state for state in FillState.objects.filter(name__startswith=name)}
    watermark = states[name].watermark if name in states else None
    done_day: date | None = None
    if pass_name in states:
        high = states[pass_name].watermark  # resume the interrupted pass
        if done_name in states:
            done_day = states[done_name].watermark.astimezone(UTC).date()
    else:
        high = now - LAG
        FillState.objects.update_or_create(name=pass_name, defaults={"watermark": high})
        FillState.objects.filter(name=done_name).delete()
    dirty_days, fill_days = _dirty_days, _fill_days
    if connection.vendor != "postgresql":
        # The set-based SQL needs PostgreSQL's time zones; the embedded SQLite of
        # `make run` gets the same rows from the Python aggregation.
        from analytics.services import rollups_portable

        dirty_days, fill_days = rollups_portable._dirty_days, rollups_portable._fill_days
    days = dirty_days(organization, zone, low=watermark, high=high)
    rates = analytics_settings_get(organization_id=organization.pk)
    filled = 0
    for chunk in _chunks([day for day in days if done_day is None or day > done_day]):
        with transaction.atomic():
            # One pass per organisation at a time: two would insert the same bucket.
            FillState.objects.select_for_update().filter(name=pass_name).first()
            fill_days(organization, zone, chunk, rates)
            FillState.objects.update_or_create(
                name=done_name,
                defaults={"watermark": datetime.combine(chunk[-1], time.min, tzinfo=UTC)},
            )
        filled += len(chunk)
    with transaction.atomic():
        FillState.objects.update_or_create(name=name, defaults={"watermark": high})
        FillState.objects.filter(name__in=[pass_name, done_name]).delete()
    return filled


def _chunks(days: list[date]) -> list[list[date]]:
    """Sorted days in runs spanning at most CHUNK_DAYS: each run is read with one query
    per source and written in one transaction."""
    chunks: list[list[date]] = []
    for day in days:
        if chunks and (day - chunks[-1][0]).days < CHUNK_DAYS:
            chunks[-1].append(day)
        else:
            chunks.append([day])
    return chunks


# The tables, by the models' own names (formatted into the statements once, at import).
_TABLES = {
    "share": Share._meta.db_table,
    "click": Click._meta.db_table,
    "snapshot": MetricSnapshot._meta.db_table,
    "poll": MetricPoll._meta.db_table,
    "rollup": DailyRollup._meta.db_table,
}

# Days that have an event or a row. `AT TIME ZONE <zone name>` gives the wall-clock time
# in the organisation's zone whatever the session's zone, as astimezone() does.
_ALL_DAYS_SQL = """
SELECT (published_at AT TIME ZONE %(zone)s)::date FROM {share}
 WHERE organization_id = %(org)s AND published_at IS NOT NULL
UNION
SELECT (clicked_at AT TIME ZONE %(zone)s)::date FROM {click} WHERE organization_id = %(org)s
UNION
SELECT (fetched_at AT TIME ZONE %(zone)s)::date FROM {snapshot} WHERE organization_id = %(org)s
UNION
SELECT day FROM {rollup} WHERE organization_id = %(org)s
ORDER BY 1
""".format(**_TABLES)

# Days touched by events recorded in (low, high]: a click drained late, a share published
# or confirmed, a snapshot (its own day and its share's publication day). A share's first
# followers figure also sets the reach of the same person's later share links on that
# network, so their days are refilled too.
_DIRTY_DAYS_SQL = """
WITH late AS (
    SELECT ms.share_id, ms.fetched_at, s.published_at
      FROM {snapshot} ms JOIN {share} s ON s.id = ms.share_id
     WHERE ms.organization_id = %(org)s
       AND ms.recorded_at > %(low)s AND ms.recorded_at <= %(high)s
), first_figures AS (
    SELECT DISTINCT late.share_id FROM late
     WHERE NOT EXISTS (
        SELECT 1 FROM {snapshot} known
         WHERE known.share_id = late.share_id AND known.recorded_at <= %(low)s
           AND known.followers IS NOT NULL)
), moments AS (
    SELECT clicked_at AS at FROM {click}
     WHERE organization_id = %(org)s AND recorded_at > %(low)s AND recorded_at <= %(high)s
    UNION ALL
    SELECT published_at FROM {share}
     WHERE organization_id = %(org)s AND updated_at > %(low)s AND updated_at <= %(high)s
       AND published_at IS NOT NULL
    UNION ALL
    SELECT fetched_at FROM late
    UNION ALL
    SELECT published_at FROM late WHERE published_at IS NOT NULL
    UNION ALL
    SELECT link.published_at
      FROM {share} first JOIN {share} link
        ON link.user_id = first.user_id AND link.network = first.network
       AND link.published_at >= first.published_at
     WHERE first.id IN (SELECT share_id FROM first_figures)
       AND link.organization_id = %(org)s AND link.mode = %(link)s
)
SELECT DISTINCT (at AT TIME ZONE %(zone)s)::date FROM moments ORDER BY 1
""".format(**_TABLES)  # noqa: S608 - table names from the models; values are parameters

# One bucket run rebuilt in one statement, from three sources summed per
# (day, sharer, content, network):
# - shares: one per API share or confirmed share link; potential reach is the share's first
#   followers figure (API) or that of the same person's latest API share on the network
#   published at or before the link (ties: the latest share id); it stands in for the
#   impressions of a share with no impressions figure ever;
# - clicks: the sharer's own left out, unique by visitor;
# - growth: per share and day, the running maximum of each count at the day's end minus
#   the one before the day (max over every earlier snapshot), so a count a network lowers
#   never makes a negative day; only the shares polled in the run are read.
# A row with nothing but reach is not written; EMV rounds half up to the cent, as
# emv_compute does.
_FILL_SQL = """
WITH wanted AS (SELECT unnest(%(days)s::date[]) AS day),
chunk_shares AS MATERIALIZED (
    SELECT d.day, s.id, s.user_id, s.content_id, s.network, s.published_at,
           s.mode = %(api)s AS api
      FROM {share} s
      CROSS JOIN LATERAL (SELECT (s.published_at AT TIME ZONE %(zone)s)::date AS day) d
     WHERE s.organization_id = %(org)s
       AND s.published_at >= %(start)s AND s.published_at < %(end)s
       AND d.day IN (SELECT day FROM wanted)
),
with_impressions AS (
    SELECT DISTINCT ms.share_id FROM {snapshot} ms
     WHERE ms.share_id IN (SELECT id FROM chunk_shares WHERE api)
       AND ms.impressions IS NOT NULL
),
link_reach AS MATERIALIZED (
    -- The latest followers figure at or before each link: the same person's API shares on
    -- the network, newest first (at the same instant an API share comes before the link,
    -- then the latest id), read backwards on share_user_network_api: one index entry per
    -- link, however long the history.
    SELECT cs.id, (
               SELECT p.followers
                 FROM {share} api JOIN {poll} p ON p.share_id = api.id
                WHERE api.user_id = cs.user_id AND api.network = cs.network
                  AND api.mode = %(api)s
                  AND api.published_at IS NOT NULL AND api.published_at <= cs.published_at
                  AND p.organization_id = %(org)s AND p.followers IS NOT NULL
                ORDER BY api.published_at DESC, api.id DESC
                LIMIT 1
           ) AS followers, true AS is_link
      FROM chunk_shares cs
     WHERE NOT cs.api
),
sharing AS (
    SELECT cs.day, cs.user_id, cs.content_id, cs.network,
           cs.api::int AS shares, (NOT cs.api)::int AS link_confirmations,
           COALESCE(CASE WHEN cs.api THEN p.followers ELSE lr.followers END, 0) AS reach,
           NOT (cs.api AND wi.share_id IS NOT NULL) AS stands_in
      FROM chunk_shares cs
      LEFT JOIN {poll} p ON cs.api AND p.share_id = cs.id AND p.followers IS NOT NULL
      LEFT JOIN link_reach lr ON NOT cs.api AND lr.is_link AND lr.id = cs.id
      LEFT JOIN with_impressions wi ON wi.share_id = cs.id
),
visits AS (
    -- Per visitor first, then per bucket: two hash aggregations instead of the sort that
    -- count(DISTINCT visitor) needs.
    SELECT d.day, c.sharer_id AS user_id, c.content_id, c.network, count(*) AS clicks
      FROM {click} c
      CROSS JOIN LATERAL (SELECT (c.clicked_at AT TIME ZONE %(zone)s)::date AS day) d
     WHERE c.organization_id = %(org)s AND NOT c.is_self
       AND c.clicked_at >= %(start)s AND c.clicked_at < %(end)s
       AND d.day IN (SELECT day FROM wanted)
     GROUP BY 1, 2, 3, 4, c.visitor
),
clicking AS (
    SELECT day, user_id, content_id, network,
           sum(clicks) AS clicks, count(*) AS unique_clicks
      FROM visits
     GROUP BY 1, 2, 3, 4
),
polled AS (
    SELECT DISTINCT share_id FROM {snapshot}
     WHERE organization_id = %(org)s AND fetched_at >= %(start)s AND fetched_at < %(end)s
),
daily_max AS (
    SELECT ms.share_id, (ms.fetched_at AT TIME ZONE %(zone)s)::date AS day,
           max(ms.impressions) AS impressions, max(ms.reactions) AS reactions,
           max(ms.comments) AS comments, max(ms.reshares) AS reshares
      FROM {snapshot} ms
     WHERE ms.share_id IN (SELECT share_id FROM polled) AND ms.fetched_at < %(end)s
     GROUP BY 1, 2
),
running AS (
    SELECT share_id, day,
           max(impressions) OVER upto AS impressions_after,
           max(impressions) OVER before AS impressions_before,
           max(reactions) OVER upto AS reactions_after,
           max(reactions) OVER before AS reactions_before,
           max(comments) OVER upto AS comments_after,
           max(comments) OVER before AS comments_before,
           max(reshares) OVER upto AS reshares_after,
           max(reshares) OVER before AS reshares_before
      FROM daily_max
    WINDOW upto AS (PARTITION BY share_id ORDER BY day),
           before AS (PARTITION BY share_id ORDER BY day
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
growing AS (
    SELECT r.day, s.user_id, s.content_id, s.network,
           COALESCE(r.impressions_after - COALESCE(r.impressions_before, 0), 0) AS impressions,
           COALESCE(r.reactions_after - COALESCE(r.reactions_before, 0), 0) AS reactions,
           COALESCE(r.comments_after - COALESCE(r.comments_before, 0), 0) AS comments,
           COALESCE(r.reshares_after - COALESCE(r.reshares_before, 0), 0) AS reshares
      FROM running r JOIN {share} s ON s.id = r.share_id
     WHERE r.day IN (SELECT day FROM wanted)
),
parts AS (
    SELECT day, user_id, content_id, network, shares, link_confirmations,
           0::bigint AS clicks, 0::bigint AS unique_clicks, 0 AS impressions, 0 AS reactions,
           0 AS comments, 0 AS reshares, reach, CASE WHEN stands_in THEN reach ELSE 0 END
           AS stand_in, stands_in
      FROM sharing
    UNION ALL
    SELECT day, user_id, content_id, network, 0, 0, clicks, unique_clicks, 0, 0, 0, 0, 0, 0,
           false
      FROM clicking
    UNION ALL
    SELECT day, user_id, content_id, network, 0, 0, 0, 0, impressions, reactions, comments,
           reshares, 0, 0, false
      FROM growing
)
INSERT INTO {rollup} (
    organization_id, day, user_id, content_id, network, shares, link_confirmations, clicks,
    unique_clicks, reactions, comments, reshares, impressions, potential_reach,
    reach_stands_in, emv)
SELECT %(org)s, day, user_id, content_id, network, sum(shares), sum(link_confirmations),
       sum(clicks), sum(unique_clicks), sum(reactions), sum(comments), sum(reshares),
       sum(impressions), sum(reach), bool_or(stands_in),
       round(
           CASE network WHEN %(linkedin)s THEN %(cpm_linkedin)s::numeric
                        WHEN %(x)s THEN %(cpm_x)s::numeric
                        WHEN %(facebook)s THEN %(cpm_facebook)s::numeric
                        ELSE 0 END
           * (sum(impressions) + sum(stand_in))::numeric / 1000
           + %(cpc)s::numeric * sum(clicks), 2)
  FROM parts
 GROUP BY day, user_id, content_id, network
HAVING sum(shares) + sum(link_confirmations) + sum(clicks) + sum(reactions) + sum(comments)
       + sum(reshares) + sum(impressions) > 0
""".format(**_TABLES)  # noqa: S608 - table names from the models; values are parameters


def _dirty_days(
    organization: Organization, zone: ZoneInfo, *, low: datetime | None, high: datetime
) -> list[date]:
    params = {"org": organization.pk, "zone": zone.key}
    if low is None:
        return _days_of(_ALL_DAYS_SQL, params)
    return _days_of(_DIRTY_DAYS_SQL, params | {"low": low, "high": high, "link": ShareMode.LINK})


def _days_of(sql: str, params: dict[str, Any]) -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [day for (day,) in cursor.fetchall()]


def _fill_days(
    organization: Organization, zone: ZoneInfo, days: list[date], rates: AnalyticsSettings
) -> None:
    """Rebuild the buckets of `days` (sorted, within CHUNK_DAYS) from the raw events: the
    buckets are deleted and refilled by one set-based statement."""
    start, end = _day_bounds(days[0], zone)[0], _day_bounds(days[-1], zone)[1]
    DailyRollup.objects.filter(organization_id=organization.pk, day__in=days).delete()
    with connection.cursor() as cursor:
        # The statement's estimated cost is far above PostgreSQL's JIT thresholds at company
        # scale, and compiling it took 2.2 s of a 10 s month (50,000 people): the plan is a
        # few hash aggregations, which run as fast interpreted. Only for this transaction.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _FILL_SQL,
            {
                "org": organization.pk,
                "zone": zone.key,
                "days": list(days),
                "start": start,
                "end": end,
                "api": ShareMode.API.value,
                "linkedin": Network.LINKEDIN.value,
                "x": Network.X.value,
                "facebook": Network.FACEBOOK.value,
                "cpm_linkedin": rates.cpm_linkedin,
                "cpm_x": rates.cpm_x,
                "cpm_facebook": rates.cpm_facebook,
                "cpc": rates.cpc,
            },
        )
