"""Leaderboard scores: Redis sorted sets (one per organisation and period) derived from the
ledger, rebuilt by `manage.py points_leaderboards_rebuild` and lazily when a set is
missing, moved after each committed entry; the database answers when Redis is absent or
down. Ranking itself (ties, hidden people, teams) is in challenges.points_selectors and
takes its scores from `period_scores`, whatever their source."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from challenges.models import PointEntry, Score

logger = logging.getLogger(__name__)

PERIOD_WEEK = "week"
PERIOD_MONTH = "month"
PERIOD_ALL = "all"
PERIODS = (PERIOD_WEEK, PERIOD_MONTH, PERIOD_ALL)
# A set lives this long, then the next reader rebuilds it from the ledger: any drift (an
# increment lost between a rebuild's read and its swap) heals within the hour.
KEY_TTL_SECONDS = 3600
DOWN_RETRY_AFTER_SECONDS = 30.0
# Redis cannot hold an empty sorted set; this member marks "built, nobody scored yet".
_EMPTY = "0"
_down_until: dict[str, float] = {}

_INCREMENT = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZINCRBY', key, ARGV[1], ARGV[2])
  end
end
return 1
"""


def period_start(period: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the period began, in the organisation's time zone (None: all time)."""
    local = now.astimezone(zone).date()
    if period == PERIOD_WEEK:
        first = local - timedelta(days=local.weekday())
    elif period == PERIOD_MONTH:
        first = local.replace(day=1)
    elif period == PERIOD_ALL:
        return None
    else:
        raise ValueError(f"Unknown period {period!r}")
    return datetime.combine(first, clock.min, tzinfo=zone)


def _period_id(period: str, moment: datetime, zone: ZoneInfo) -> str:
    local: date = moment.astimezone(zone).date()
    if period == PERIOD_WEEK:
        return (local - timedelta(days=local.weekday())).isoformat()
    if period == PERIOD_MONTH:
        return f"{local:%Y-%m}"
    return "all"


def leaderboard_key(*, organization_id: int, period: str, moment: datetime, zone: ZoneInfo) -> str:
    prefix = settings.LEADERBOARD_KEY_PREFIX
    return f"{prefix}:{organization_id}:{period}:{_period_id(period, moment, zone)}"


@cache
def _client_for(url: str):  # type: ignore[no-untyped-def]
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


@cache
def _increment_script(url: str):  # type: ignore[no-untyped-def]
    # EVALSHA after the first call: the script is not sent with every entry.
    return _client_for(url).register_script(_INCREMENT)


def _client():  # type: ignore[no-untyped-def]
    """The Redis client, or None when there is none or it failed a moment ago."""
    url = settings.REDIS_URL
    if not url or time.monotonic() < _down_until.get(url, 0.0):
        return None
    return _client_for(url)


def _mark_down(error: Exception) -> None:
    _down_until[settings.REDIS_URL] = time.monotonic() + DOWN_RETRY_AFTER_SECONDS
    logger.warning("Leaderboards fall back to the database: %s", error)


def scores_from_database(
    *, organization_id: int, period: str, now: datetime, zone: ZoneInfo
) -> dict[int, int]:
    """Points per employee earned in the period, from the ledger (all time: the Score
    totals, which the ledger moves in the same transaction)."""
    start = period_start(period, now=now, zone=zone)
    if start is None:
        rows = Score.objects.filter(organization_id=organization_id).values_list(
            "user_id", "lifetime_points"
        )
    else:
        rows = (
            PointEntry.objects.filter(organization_id=organization_id, occurred_at__gte=start)
            .values("user_id")
            .annotate(total=Sum("points"))
            .values_list("user_id", "total")
        )
    return {user_id: int(total) for user_id, total in rows if total}


def _ledger_scores(
    *, organization_id: int, period: str, now: datetime, zone: ZoneInfo
) -> dict[int, int]:
    start = period_start(period, now=now, zone=zone)
    entries = PointEntry.objects.filter(organization_id=organization_id)
    if start is not None:
        entries = entries.filter(occurred_at__gte=start)
    rows = entries.values("user_id").annotate(total=Sum("points")).values_list("user_id", "total")
    return {user_id: int(total) for user_id, total in rows if total}


def leaderboard_rebuild(
    *, organization_id: int, period: str, now: datetime | None = None, time_zone: str
) -> dict[int, int]:
    """Recompute one period's set from the ledger and swap it in atomically. Raises the
    Redis error when Redis is unreachable."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    scores = _ledger_scores(organization_id=organization_id, period=period, now=now, zone=zone)
    client = _client_for(settings.REDIS_URL)
    key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
    building = f"{key}:building"
    pipe = client.pipeline(transaction=True)
    pipe.delete(building)
    pipe.zadd(building, {str(uid): points for uid, points in scores.items()} or {_EMPTY: 0})
    pipe.expire(building, KEY_TTL_SECONDS)
    pipe.rename(building, key)
    pipe.execute()
    return scores


def leaderboards_rebuild_all(*, now: datetime | None = None) -> int:
    """Rebuild the current sets of every organisation (the management command)."""
    from organizations.models import Organization

    now = now or timezone.now()
    count = 0
    for organization_id, time_zone in Organization.objects.values_list("pk", "time_zone"):
        for period in PERIODS:
            leaderboard_rebuild(
                organization_id=organization_id, period=period, now=now, time_zone=time_zone
            )
            count += 1
    return count


def period_scores(
    *, organization_id: int, period: str, time_zone: str, now: datetime | None = None
) -> tuple[dict[int, int], str]:
    """Points per employee in the period and where they came from ("redis" or
    "database"). A missing set is rebuilt from the ledger on the way."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    client = _client()
    if client is not None:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        try:
            members = client.zrange(key, 0, -1, withscores=True)
            if not members:
                built = leaderboard_rebuild(
                    organization_id=organization_id, period=period, now=now, time_zone=time_zone
                )
                return {uid: points for uid, points in built.items() if points}, "redis"
            scores = {int(member): int(score) for member, score in members}
            scores.pop(int(_EMPTY), None)
            return {uid: points for uid, points in scores.items() if points}, "redis"
        except Exception as error:  # any Redis failure: the database answers instead
            _mark_down(error)
    scores = scores_from_database(
        organization_id=organization_id, period=period, now=now, zone=zone
    )
    return scores, "database"


def leaderboard_entry_recorded(
    *, organization_id: int, user_id: int, points: int, occurred_at: datetime, time_zone: str
) -> None:
    """Move the sets an entry counts in (after commit). Sets that do not exist are left
    alone: the next reader builds them from the ledger, this entry included."""
    client = _client()
    if client is None:
        return
    zone = ZoneInfo(time_zone)
    keys = [
        leaderboard_key(
            organization_id=organization_id, period=period, moment=occurred_at, zone=zone
        )
        for period in PERIODS
    ]
    try:
        _increment_script(settings.REDIS_URL)(keys=keys, args=[points, str(user_id)])
    except Exception as error:
        _mark_down(error)


def leaderboards_forget(*, organization_id: int) -> None:
    """Drop an organisation's sets (tests and the demo reseed)."""
    client = _client()
    if client is None:
        return
    try:
        for key in client.scan_iter(
            f"{settings.LEADERBOARD_KEY_PREFIX}:{organization_id}:*", count=500
        ):
            client.delete(key)
    except Exception as error:
        _mark_down(error)
