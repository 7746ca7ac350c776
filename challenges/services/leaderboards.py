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
import uuid
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
from organizations.selectors import organization_people

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

# KEYS: per period the listed set, the hidden set, the team set and the team totals;
# then the hidden members, each person's teams, each team's size. ARGV: points, member.
# A team's score is minus its average per member in tenths, rounded half up in integers
# (`team_tenths`), so Redis and the database rank teams alike.
_INCREMENT = """
local n = #KEYS
local hidden = redis.call('SISMEMBER', KEYS[n - 2], ARGV[2]) == 1
local points = tonumber(ARGV[1])
local teams = nil
for i = 1, n - 3, 4 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local target = KEYS[i]
    if hidden then target = KEYS[i + 1] end
    local left = redis.call('ZINCRBY', target, -points, ARGV[2])
    if tonumber(left) == 0 then redis.call('ZREM', target, ARGV[2]) end
  end
  if redis.call('EXISTS', KEYS[i + 2]) == 1 then
    if teams == nil then
      if redis.call('EXISTS', KEYS[n - 1]) == 0 or redis.call('EXISTS', KEYS[n]) == 0 then
        teams = false
      else
        teams = redis.call('HGET', KEYS[n - 1], ARGV[2]) or ''
      end
    end
    if teams == false then
      -- Who belongs where is gone: the next reader rebuilds the team sets.
      redis.call('DEL', KEYS[i + 2], KEYS[i + 3])
    else
      for team in string.gmatch(teams, '[^,]+') do
        local total = redis.call('HINCRBY', KEYS[i + 3], team, points)
        local size = tonumber(redis.call('HGET', KEYS[n], team) or '0')
        if total > 0 and size > 0 then
          redis.call('ZADD', KEYS[i + 2], -math.floor((20 * total + size) / (2 * size)), team)
        else
          redis.call('ZREM', KEYS[i + 2], team)
        end
      end
    end
  end
end
return 1
"""

# The caller's teams on the team board: for each, its score and how many teams score
# strictly better (its rank is one more).
_TEAMS_OF = """
local teams = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local found = {}
for team in string.gmatch(teams, '[^,]+') do
  local score = redis.call('ZSCORE', KEYS[1], team)
  if score then
    found[#found + 1] = team
    found[#found + 1] = score
    found[#found + 1] = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. score)
  end
end
return found
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


def _team_keys(key: str) -> tuple[str, str]:
    """A period's team board (a sorted set) and its team totals (a hash)."""
    return f"{key}:teams", f"{key}:team_totals"


def _team_of_key(organization_id: int) -> str:
    """Each active person's teams, those above them included ("t1,t2"), for increments."""
    return f"{settings.LEADERBOARD_KEY_PREFIX}:{organization_id}:teams:of"


def _team_sizes_key(organization_id: int) -> str:
    return f"{settings.LEADERBOARD_KEY_PREFIX}:{organization_id}:teams:sizes"


def _team_labels_key(organization_id: int) -> str:
    return f"{settings.LEADERBOARD_KEY_PREFIX}:{organization_id}:teams:labels"


def _org_team_keys(organization_id: int) -> list[str]:
    return [
        _team_of_key(organization_id),
        _team_sizes_key(organization_id),
        _team_labels_key(organization_id),
    ]


def team_tenths(total: int, size: int) -> int:
    """A team's points per member in tenths, rounded half up with integers only (the
    increment script computes the same in Lua)."""
    return (20 * total + size) // (2 * size)


@dataclass
class TeamStructure:
    """Who counts in which team (a person counts in their teams and every team above),
    each team's active members and its label with its parents ("Sales › Paris")."""

    teams_of: dict[int, set[int]]
    sizes: dict[int, int]
    labels: dict[int, str]

    def totals(self, scores: dict[int, int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for user_id, points in scores.items():
            for team_id in self.teams_of.get(user_id, ()):
                found[team_id] = found.get(team_id, 0) + points
        return found


def team_structure(organization_id: int) -> TeamStructure:
    """The organisation's teams and active memberships (two queries), walked up the tree
    once per team rather than down once per team."""
    from organizations.models import Team

    teams = list(
        Team.objects.filter(organization_id=organization_id).values_list("pk", "name", "parent_id")
    )
    parent_of = {pk: parent for pk, _name, parent in teams}
    names = {pk: name for pk, name, _parent in teams}
    chains: dict[int, list[int]] = {}
    for pk in names:
        chain, current = [], pk
        while current is not None and current not in chain and current in names:
            chain.append(current)
            current = parent_of[current]
        chains[pk] = chain
    labels = {pk: " › ".join(names[t] for t in reversed(chain)) for pk, chain in chains.items()}
    teams_of: dict[int, set[int]] = {}
    rows = User.teams.through.objects.filter(
        team__organization_id=organization_id, user__is_active=True
    ).values_list("user_id", "team_id")
    for user_id, team_id in rows:
        teams_of.setdefault(user_id, set()).update(chains.get(team_id, ()))
    sizes: dict[int, int] = {}
    for found in teams_of.values():
        for team_id in found:
            sizes[team_id] = sizes.get(team_id, 0) + 1
    return TeamStructure(teams_of, sizes, labels)


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
    """The organisation's active people hidden from rankings (a few): each one's choice in
    this organisation (a Score row per person and organisation), members through a
    Membership included."""
    return list(
        Score.objects.filter(
            organization_id=organization_id,
            hidden_from_rankings=True,
            user__in=organization_people(organization_id).filter(is_active=True).values("pk"),
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
    # Members through a Membership (people of several organisations) count here too.
    active = set(
        organization_people(organization_id).filter(is_active=True).values_list("pk", flat=True)
    )
    hidden = set(_hidden_ids(organization_id))
    listed: dict[int, int] = {}
    unlisted: dict[int, int] = {}
    for user_id, total in rows:
        if total and user_id in active:
            (unlisted if user_id in hidden else listed)[user_id] = int(total)
    return listed, unlisted


# Members per ZADD / HSET while a set is rebuilt: big sets go in pieces, in one pipeline.
REBUILD_CHUNK = 10_000


def _load(pipe, command: str, key: str, mapping: dict) -> None:  # type: ignore[no-untyped-def]
    items = list(mapping.items())
    for first in range(0, len(items), REBUILD_CHUNK):
        getattr(pipe, command)(key, mapping=dict(items[first : first + REBUILD_CHUNK]))


def leaderboard_rebuild(
    *,
    organization_id: int,
    period: str,
    now: datetime | None = None,
    time_zone: str,
    structure: TeamStructure | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """Recompute one period's sets (people, hidden people, teams) from the ledger: built
    aside in pieces in one pipeline, then swapped in atomically. Raises the Redis error
    when Redis is unreachable."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    listed, unlisted = board_scores_from_database(
        organization_id=organization_id, period=period, now=now, zone=zone
    )
    hidden = _hidden_ids(organization_id)
    structure = structure or team_structure(organization_id)
    totals = structure.totals({**listed, **unlisted})
    client = _client_for(settings.REDIS_URL)
    key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
    teams_key, totals_key = _team_keys(key)
    swaps: list[tuple[str, str]] = []
    pipe = client.pipeline(transaction=False)
    # Its own names: two rebuilds at once never load into each other's half-built sets.
    run = uuid.uuid4().hex[:12]

    def aside(target: str) -> str:
        building = f"{target}:building:{run}"
        swaps.append((building, target))
        return building

    for target, scores in ((key, listed), (_unlisted_key(key), unlisted)):
        building = aside(target)
        members = {leaderboard_member(uid): -points for uid, points in scores.items()}
        _load(pipe, "zadd", building, {**members, _EMPTY: float("inf")})
    ranked = {
        leaderboard_member(team_id): -team_tenths(total, structure.sizes[team_id])
        for team_id, total in totals.items()
        if total > 0 and structure.sizes.get(team_id)
    }
    _load(pipe, "zadd", aside(teams_key), {**ranked, _EMPTY: float("inf")})
    _load(
        pipe,
        "hset",
        aside(totals_key),
        {leaderboard_member(t): total for t, total in totals.items()} or {_EMPTY: 0},
    )
    org_hashes = {
        _team_of_key(organization_id): {
            leaderboard_member(uid): ",".join(leaderboard_member(t) for t in sorted(found))
            for uid, found in structure.teams_of.items()
        },
        _team_sizes_key(organization_id): {
            leaderboard_member(t): size for t, size in structure.sizes.items()
        },
        _team_labels_key(organization_id): {
            leaderboard_member(t): label for t, label in structure.labels.items()
        },
    }
    for target, mapping in org_hashes.items():
        _load(pipe, "hset", aside(target), mapping or {_EMPTY: ""})
    for building, _target in swaps:
        pipe.expire(building, KEY_TTL_SECONDS)
    pipe.execute()
    swap = client.pipeline(transaction=True)
    for building, target in swaps:
        swap.rename(building, target)
    hidden_key = _hidden_key(organization_id)
    swap.delete(hidden_key)
    if hidden_members := [leaderboard_member(uid) for uid in hidden]:
        swap.sadd(hidden_key, *hidden_members)
        swap.expire(hidden_key, KEY_TTL_SECONDS)
    swap.execute()
    return listed, unlisted


def leaderboards_rebuild_all(*, now: datetime | None = None) -> int:
    """Rebuild the current sets of every organisation (the management command)."""
    from organizations.models import Organization

    now = now or timezone.now()
    count = 0
    for organization_id, time_zone in Organization.objects.values_list("pk", "time_zone"):
        structure = team_structure(organization_id)
        for period in PERIODS:
            leaderboard_rebuild(
                organization_id=organization_id,
                period=period,
                now=now,
                time_zone=time_zone,
                structure=structure,
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


class RedisTeamBoard:
    """The team board of a period read from its sorted set a page at a time: the ranked
    teams (points per member in tenths), their labels and sizes for the page only, and
    the caller's teams with their ranks. Any Redis error is raised to the caller, which
    answers from the database."""

    source = "redis"

    def __init__(self, client, key: str, organization_id: int) -> None:  # type: ignore[no-untyped-def]
        self._client = client
        self._key = _team_keys(key)[0]
        self._organization_id = organization_id
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = max(0, int(self._client.zcard(self._key)) - 1)
        return self._count

    def slice(self, start: int, stop: int) -> tuple[list[tuple[int, int]], int]:
        """Rows (team id, tenths) from `start` and how many teams score strictly above
        the first."""
        if stop <= start:
            return [], 0
        above, rows = _script(settings.REDIS_URL, _SLICE)(keys=[self._key], args=[start, stop - 1])
        return _pairs(rows), int(above)

    def describe(self, team_ids: list[int]) -> dict[int, tuple[str, int]]:
        """(label, active members) of the given teams."""
        if not team_ids:
            return {}
        members = [leaderboard_member(t) for t in team_ids]
        pipe = self._client.pipeline(transaction=False)
        pipe.hmget(_team_labels_key(self._organization_id), members)
        pipe.hmget(_team_sizes_key(self._organization_id), members)
        labels, sizes = pipe.execute()
        return {
            team_id: ((label or b"").decode(), int(size or 0))
            for team_id, label, size in zip(team_ids, labels, sizes, strict=True)
        }

    def teams_of(self, user_id: int) -> list[tuple[int, int, int]]:
        """The caller's ranked teams as (team id, tenths, teams strictly above)."""
        found = _script(settings.REDIS_URL, _TEAMS_OF)(
            keys=[self._key, _team_of_key(self._organization_id)],
            args=[leaderboard_member(user_id)],
        )
        return [
            (int(team), -int(float(score)), int(above))
            for team, score, above in zip(found[::3], found[1::3], found[2::3], strict=True)
        ]


def team_board(
    *, organization_id: int, period: str, time_zone: str, now: datetime | None = None
) -> RedisTeamBoard | None:
    """The team board of a period from Redis (its sets built from the ledger when
    missing), or None when Redis is absent or down: the caller ranks from the database."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone)
    client = _client()
    if client is None:
        return None
    key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
    try:
        pipe = client.pipeline(transaction=False)
        for name in (_team_keys(key)[0], *_org_team_keys(organization_id)):
            pipe.exists(name)
        if not all(pipe.execute()):
            leaderboard_rebuild(
                organization_id=organization_id, period=period, now=now, time_zone=time_zone
            )
        return RedisTeamBoard(client, key, organization_id)
    except Exception as error:  # any Redis failure: the database answers instead
        _mark_down(error)
    return None


def leaderboards_mark_down(error: Exception) -> None:
    """A reader met a Redis error mid-request: the database answers for a while."""
    _mark_down(error)


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


def _increment_keys(*, organization_id: int, occurred_at: datetime, zone: ZoneInfo) -> list[str]:
    keys = []
    for period in PERIODS:
        key = leaderboard_key(
            organization_id=organization_id, period=period, moment=occurred_at, zone=zone
        )
        keys += [key, _unlisted_key(key), *_team_keys(key)]
    return [
        *keys,
        _hidden_key(organization_id),
        _team_of_key(organization_id),
        _team_sizes_key(organization_id),
    ]


def leaderboard_entry_recorded(
    *, organization_id: int, user_id: int, points: int, occurred_at: datetime, time_zone: str
) -> None:
    """Move the sets an entry counts in (after commit): the person's, and their teams'
    in the same script. Sets that do not exist are left alone: the next reader builds
    them from the ledger, this entry included."""
    leaderboard_entries_recorded(
        organization_id=organization_id,
        entries=[(user_id, points)],
        occurred_at=occurred_at,
        time_zone=time_zone,
    )


def leaderboard_entries_recorded(
    *,
    organization_id: int,
    entries: list[tuple[int, int]],
    occurred_at: datetime,
    time_zone: str,
) -> None:
    """Move the sets for many (user id, points) entries of one moment: one pipeline of
    increments, a round trip per few thousand people rather than one each."""
    client = _client()
    if client is None or not entries:
        return
    keys = _increment_keys(
        organization_id=organization_id, occurred_at=occurred_at, zone=ZoneInfo(time_zone)
    )
    script = _script(settings.REDIS_URL, _INCREMENT)
    try:
        for first in range(0, len(entries), REBUILD_CHUNK):
            pipe = client.pipeline(transaction=False)
            for user_id, points in entries[first : first + REBUILD_CHUNK]:
                if points:
                    script(keys=keys, args=[points, leaderboard_member(user_id)], client=pipe)
            pipe.execute()
    except Exception as error:
        _mark_down(error)


def leaderboards_drop_current(*, organization_id: int, time_zone: str) -> None:
    """Drop the organisation's current sets, rebuilt by their next reader: someone was
    hidden, shown again, or left, or the teams changed (rare; a rebuild is simpler than
    moving them)."""
    client = _client()
    if client is None:
        return
    now = timezone.now()
    zone = ZoneInfo(time_zone)
    keys = [_hidden_key(organization_id), *_org_team_keys(organization_id)]
    for period in PERIODS:
        key = leaderboard_key(organization_id=organization_id, period=period, moment=now, zone=zone)
        keys += [key, _unlisted_key(key), *_team_keys(key)]
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


def on_team_changed(sender: type, instance: object, **kwargs: object) -> None:
    """A team created, renamed, moved or deleted: the team sets are rebuilt."""
    organization_id = getattr(instance, "organization_id", None)
    if organization_id is not None:
        _drop_for(organization_id)


def on_memberships_changed(
    sender: type, instance: object, action: str, pk_set: set[int] | None, **kwargs: object
) -> None:
    """Someone joined or left a team (either side of User.teams): the team sets are
    rebuilt by their next reader."""
    if not action.startswith("post_"):
        return
    organization_id = getattr(instance, "organization_id", None)
    if organization_id is not None:
        _drop_for(organization_id)
