"""Leaderboard scores: Redis sorted sets (one per organisation and period) derived from the
ledger, rebuilt by `manage.py points_leaderboards_rebuild` and lazily when a set is
missing, moved after each committed entry; the database answers when Redis is absent or
down, with the same ranking code (`DatabasePeopleBoard`).

A period has two sets: the listed people and the people hidden from rankings (a hidden
caller still gets their own rank). Members are user ids zero-padded to a fixed width and
scores are minus the points, so that ZRANGE (ascending) lists the most points first and
equal points by id, the database order. A person whose points come back to zero leaves
the set. A reader takes only what it shows: the page slice, the count, the caller's
window; a competition rank is 1 + ZCOUNT of the scores strictly above."""

from __future__ import annotations

import logging
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from challenges.models import PointEntry, Score
from organizations.models import User

logger = logging.getLogger(__name__)

PERIOD_WEEK = "week"
PERIOD_MONTH = "month"
PERIOD_ALL = "all"
PERIODS = (PERIOD_WEEK, PERIOD_MONTH, PERIOD_ALL)
# A set lives this long, then the next reader rebuilds it from the ledger: any drift (an
# increment lost between a rebuild's read and its swap) heals within the hour.
KEY_TTL_SECONDS = 3600
DOWN_RETRY_AFTER_SECONDS = 30.0
MEMBER_DIGITS = 12
# Redis cannot hold an empty sorted set; this member marks "built". Its score (+inf) keeps
# it after every person, so it is never in a slice of the first ZCARD - 1 members.
_EMPTY = "~"
_down_until: dict[str, float] = {}

_INCREMENT = """
local hidden = redis.call('SISMEMBER', KEYS[#KEYS], ARGV[2]) == 1
for i = 1, #KEYS - 1, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local target = KEYS[i]
    if hidden then target = KEYS[i + 1] end
    local left = redis.call('ZINCRBY', target, -tonumber(ARGV[1]), ARGV[2])
    if tonumber(left) == 0 then redis.call('ZREM', target, ARGV[2]) end
  end
end
return 1
"""

# The caller's window: their score, whether they are hidden, the index of the window's
# first row, how many listed scores are strictly above that row, and the rows before and
# after the caller. A hidden caller is placed where they would stand if listed.
_AROUND = """
local member, n = ARGV[1], tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], member)
local hidden = 0
local pos
if score then
  pos = redis.call('ZRANK', KEYS[1], member)
else
  score = redis.call('ZSCORE', KEYS[2], member)
  if not score then return {} end
  hidden = 1
  local lo = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. score)
  local hi = redis.call('ZCOUNT', KEYS[1], '-inf', score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if redis.call('ZRANGE', KEYS[1], mid, mid)[1] < member then lo = mid + 1 else hi = mid end
  end
  pos = lo
end
local from = math.max(0, pos - n)
local before = {}
if pos > from then before = redis.call('ZRANGE', KEYS[1], from, pos - 1, 'WITHSCORES') end
local after
if hidden == 1 then
  after = redis.call('ZRANGE', KEYS[1], pos, pos + n - 1, 'WITHSCORES')
else
  after = redis.call('ZRANGE', KEYS[1], pos + 1, pos + n, 'WITHSCORES')
end
local first = score
if #before > 0 then first = before[2] end
local above = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. first)
return {score, hidden, from, above, before, after}
"""

_SLICE = """
local rows = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
if #rows == 0 then return {0, rows} end
return {redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. rows[2]), rows}
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


def _unlisted_key(key: str) -> str:
    return f"{key}:hidden"


def _hidden_key(organization_id: int) -> str:
    """Who is hidden, for the increment script (a set of members, one per organisation)."""
    return f"{settings.LEADERBOARD_KEY_PREFIX}:{organization_id}:hidden"


def leaderboard_member(user_id: int) -> str:
    return f"{user_id:0{MEMBER_DIGITS}d}"


def _pairs(rows: list) -> list[tuple[int, int]]:
    """(user id, points) of ZRANGE ... WITHSCORES rows, without the built marker."""
    found = []
    for member, score in zip(rows[::2], rows[1::2], strict=True):
        name = member.decode() if isinstance(member, bytes) else member
        if name != _EMPTY:
            found.append((int(name), -int(float(score))))
    return found


@cache
def _client_for(url: str):  # type: ignore[no-untyped-def]
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


@cache
def _script(url: str, source: str):  # type: ignore[no-untyped-def]
    # EVALSHA after the first call: the script is not sent with every call.
    return _client_for(url).register_script(source)


def _client():  # type: ignore[no-untyped-def]
    """The Redis client, or None when there is none or it failed a moment ago."""
    url = settings.REDIS_URL
    if not url or time.monotonic() < _down_until.get(url, 0.0):
        return None
    return _client_for(url)


def _mark_down(error: Exception) -> None:
    _down_until[settings.REDIS_URL] = time.monotonic() + DOWN_RETRY_AFTER_SECONDS
    logger.warning("Leaderboards fall back to the database: %s", error)


def _hidden_ids(organization_id: int) -> list[int]:
    """The organisation's active people hidden from rankings (a few)."""
    return list(
        Score.objects.filter(
            organization_id=organization_id,
            hidden_from_rankings=True,
            user__organization_id=organization_id,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


def board_scores_from_database(
    *, organization_id: int, period: str, now: datetime, zone: ZoneInfo
) -> tuple[dict[int, int], dict[int, int]]:
    """Points per active employee of the organisation in the period, as (listed people,
    people hidden from rankings). All time: the Score totals, which the ledger moves in
    the same transaction."""
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
    # Who still counts, apart: joined to the aggregate, the planner can go badly wrong.
    active = set(
        User.objects.filter(organization_id=organization_id, is_active=True).values_list(
            "pk", flat=True
        )
    )
    hidden = set(_hidden_ids(organization_id))
    listed: dict[int, int] = {}
    unlisted: dict[int, int] = {}
    for user_id, total in rows:
        if total and user_id in active:
            (unlisted if user_id in hidden else listed)[user_id] = int(total)
    return listed, unlisted


def leaderboard_rebuild(
    *, organization_id: int, period: str, now: datetime | None = None, time_zone: str
) -> tuple[dict[int, int], dict[int, int]]:
    """Recompute one period's sets from the ledger and swap them in atomically. Raises
    the Redis error when Redis is unreachable."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    listed, unlisted = board_scores_from_database(
        organization_id=organization_id, period=period, now=now, zone=zone
    )
    hidden = _hidden_ids(organization_id)
    client = _client_for(settings.REDIS_URL)
    key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
    pipe = client.pipeline(transaction=True)
    for target, scores in ((key, listed), (_unlisted_key(key), unlisted)):
        building = f"{target}:building"
        pipe.delete(building)
        members = {leaderboard_member(uid): -points for uid, points in scores.items()}
        pipe.zadd(building, {**members, _EMPTY: float("inf")})
        pipe.expire(building, KEY_TTL_SECONDS)
        pipe.rename(building, target)
    hidden_key = _hidden_key(organization_id)
    pipe.delete(hidden_key)
    if hidden_members := [leaderboard_member(uid) for uid in hidden]:
        pipe.sadd(hidden_key, *hidden_members)
        pipe.expire(hidden_key, KEY_TTL_SECONDS)
    pipe.execute()
    return listed, unlisted


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


@dataclass
class Window:
    """The caller and their neighbours: `rows` start at index `start` of the ranking
    (the caller included even when hidden), `above` scores are strictly higher than the
    first row's."""

    points: int
    hidden: bool
    start: int
    above: int
    rows: list[tuple[int, int]]


class DatabasePeopleBoard:
    """A people board ranked in Python from the database's scores (the fallback, and a
    team's people, which are read whole)."""

    source = "database"

    def __init__(self, listed: dict[int, int], unlisted: dict[int, int]) -> None:
        self._ordered = sorted(listed.items(), key=lambda item: (-item[1], item[0]))
        self._order = [(-points, uid) for uid, points in self._ordered]
        self._listed = listed
        self._unlisted = unlisted

    def count(self) -> int:
        return len(self._ordered)

    def _above(self, points: int) -> int:
        return bisect_left(self._order, (-points, 0))

    def slice(self, start: int, stop: int) -> tuple[list[tuple[int, int]], int]:
        rows = self._ordered[start:stop]
        return rows, self._above(rows[0][1]) if rows else 0

    def around(self, user_id: int, neighbours: int) -> Window | None:
        if user_id in self._listed:
            points, hidden = self._listed[user_id], False
            position = bisect_left(self._order, (-points, user_id))
            after = self._ordered[position + 1 : position + 1 + neighbours]
        elif user_id in self._unlisted:
            points, hidden = self._unlisted[user_id], True
            position = bisect_left(self._order, (-points, user_id))
            after = self._ordered[position : position + neighbours]
        else:
            return None
        start = max(0, position - neighbours)
        rows = [*self._ordered[start:position], (user_id, points), *after]
        return Window(points, hidden, start, self._above(rows[0][1]), rows)


class RedisPeopleBoard:
    """A people board read from the sets a piece at a time. When Redis fails mid-request
    the rest of the request is answered by the database."""

    def __init__(self, client, key: str, *, fallback: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
        self.source = "redis"
        self._client = client
        self._key = key
        self._fallback_args = fallback
        self._database: DatabasePeopleBoard | None = None
        self._count: int | None = None

    def _fallback(self, error: Exception) -> DatabasePeopleBoard:
        _mark_down(error)
        if self._database is None:
            listed, unlisted = board_scores_from_database(**self._fallback_args)  # type: ignore[arg-type]
            self._database = DatabasePeopleBoard(listed, unlisted)
            self.source = "database"
        return self._database

    def count(self) -> int:
        if self._database is not None:
            return self._database.count()
        if self._count is None:
            try:
                self._count = max(0, int(self._client.zcard(self._key)) - 1)
            except Exception as error:
                return self._fallback(error).count()
        return self._count

    def slice(self, start: int, stop: int) -> tuple[list[tuple[int, int]], int]:
        if self._database is None and stop > start:
            try:
                script = _script(settings.REDIS_URL, _SLICE)
                above, rows = script(keys=[self._key], args=[start, stop - 1])
                return _pairs(rows), int(above)
            except Exception as error:
                self._fallback(error)
        return (self._database or DatabasePeopleBoard({}, {})).slice(start, stop)

    def around(self, user_id: int, neighbours: int) -> Window | None:
        if self._database is None:
            try:
                script = _script(settings.REDIS_URL, _AROUND)
                found = script(
                    keys=[self._key, _unlisted_key(self._key)],
                    args=[leaderboard_member(user_id), neighbours],
                )
            except Exception as error:
                return self._fallback(error).around(user_id, neighbours)
            if not found:
                return None
            score, hidden, start, above, before, after = found
            points = -int(float(score))
            rows = [*_pairs(before), (user_id, points), *_pairs(after)]
            return Window(points, bool(hidden), int(start), int(above), rows)
        return self._database.around(user_id, neighbours)


def people_board(
    *, organization_id: int, period: str, time_zone: str, now: datetime | None = None
) -> RedisPeopleBoard | DatabasePeopleBoard:
    """The people board of a period: the Redis sets (built from the ledger when missing),
    or the database when Redis is absent or down."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    client = _client()
    args = {"organization_id": organization_id, "period": period, "now": now, "zone": zone}
    if client is not None:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        try:
            if not client.exists(key):
                leaderboard_rebuild(
                    organization_id=organization_id, period=period, now=now, time_zone=time_zone
                )
            return RedisPeopleBoard(client, key, fallback=args)
        except Exception as error:  # any Redis failure: the database answers instead
            _mark_down(error)
    return DatabasePeopleBoard(*board_scores_from_database(**args))  # type: ignore[arg-type]


def period_scores(
    *, organization_id: int, period: str, time_zone: str, now: datetime | None = None
) -> tuple[dict[int, int], dict[int, int], str]:
    """Every score of the period, as (listed people, hidden people, "redis" or
    "database"): for the boards that need every member (teams, a team's people)."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    client = _client()
    if client is not None:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        try:
            pipe = client.pipeline(transaction=False)
            pipe.zrange(key, 0, -1, withscores=True)
            pipe.zrange(_unlisted_key(key), 0, -1, withscores=True)
            listed_rows, unlisted_rows = pipe.execute()
            if not listed_rows:
                listed, unlisted = leaderboard_rebuild(
                    organization_id=organization_id, period=period, now=now, time_zone=time_zone
                )
                return listed, unlisted, "redis"

            def flat(rows: list) -> list:
                return [item for pair in rows for item in pair]

            return dict(_pairs(flat(listed_rows))), dict(_pairs(flat(unlisted_rows))), "redis"
        except Exception as error:  # any Redis failure: the database answers instead
            _mark_down(error)
    listed, unlisted = board_scores_from_database(
        organization_id=organization_id, period=period, now=now, zone=zone
    )
    return listed, unlisted, "database"


def member_scores(
    *,
    organization_id: int,
    period: str,
    time_zone: str,
    user_ids: list[int],
    now: datetime | None = None,
) -> tuple[dict[int, int], dict[int, int], str]:
    """The period's scores of the given people only (a team's people), as
    `period_scores` gives them: ZMSCORE of those members, not the whole set."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    client = _client()
    if client is not None:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        try:
            if not client.exists(key):
                leaderboard_rebuild(
                    organization_id=organization_id, period=period, now=now, time_zone=time_zone
                )
            if not user_ids:
                return {}, {}, "redis"
            members = [leaderboard_member(uid) for uid in user_ids]
            pipe = client.pipeline(transaction=False)
            pipe.zmscore(key, members)
            pipe.zmscore(_unlisted_key(key), members)
            found = [
                {uid: -int(score) for uid, score in zip(user_ids, scores, strict=True) if score}
                for scores in pipe.execute()
            ]
            return found[0], found[1], "redis"
        except Exception as error:  # any Redis failure: the database answers instead
            _mark_down(error)
    listed, unlisted = board_scores_from_database(
        organization_id=organization_id, period=period, now=now, zone=zone
    )
    keep = set(user_ids)
    return (
        {uid: points for uid, points in listed.items() if uid in keep},
        {uid: points for uid, points in unlisted.items() if uid in keep},
        "database",
    )


def leaderboard_entry_recorded(
    *, organization_id: int, user_id: int, points: int, occurred_at: datetime, time_zone: str
) -> None:
    """Move the sets an entry counts in (after commit). Sets that do not exist are left
    alone: the next reader builds them from the ledger, this entry included."""
    client = _client()
    if client is None:
        return
    zone = ZoneInfo(time_zone)
    keys = []
    for period in PERIODS:
        key = leaderboard_key(
            organization_id=organization_id, period=period, moment=occurred_at, zone=zone
        )
        keys += [key, _unlisted_key(key)]
    try:
        _script(settings.REDIS_URL, _INCREMENT)(
            keys=[*keys, _hidden_key(organization_id)], args=[points, leaderboard_member(user_id)]
        )
    except Exception as error:
        _mark_down(error)


def leaderboards_drop_current(*, organization_id: int, time_zone: str) -> None:
    """Drop the organisation's current sets, rebuilt by their next reader: someone was
    hidden, shown again, or left (rare; a rebuild is simpler than moving them)."""
    client = _client()
    if client is None:
        return
    now = timezone.now()
    zone = ZoneInfo(time_zone)
    keys = [_hidden_key(organization_id)]
    for period in PERIODS:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        keys += [key, _unlisted_key(key)]
    try:
        client.delete(*keys)
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


def _drop_for(organization_id: int) -> None:
    from organizations.models import Organization

    time_zone = (
        Organization.objects.filter(pk=organization_id).values_list("time_zone", flat=True).first()
    )
    if time_zone is not None:
        leaderboards_drop_current(organization_id=organization_id, time_zone=time_zone)


def on_user_saved(sender: type, instance: object, **kwargs: object) -> None:
    """A deactivated employee leaves the sets at once (the database board drops them)."""
    organization_id = getattr(instance, "organization_id", None)
    if not getattr(instance, "is_active", True) and organization_id is not None:
        _drop_for(organization_id)


def on_score_saved(sender: type, instance: Score, **kwargs: object) -> None:
    """A Score saved whole (the Django admin; the ledger only updates it) may have changed
    the privacy choice."""
    _drop_for(instance.organization_id)
