"""Reads of points shared by the HTML pages and the API, scoped to the caller's
organisation: the caller's points summary and history, and the leaderboards.

Ranking: competition ranks (equal points share a rank, the next rank skips: 1, 1, 3),
ties listed by id so that every page and both score sources give the same order. People
hidden from rankings are left out of every public list; they still see their own rank,
computed as if they were listed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from challenges.models import BadgeAward, BadgeKind, PointEntry, Score
from challenges.services.badges import badge_description
from challenges.services.leaderboards import (
    PERIOD_ALL,
    PERIODS,
    DatabasePeopleBoard,
    RedisPeopleBoard,
    RedisTeamBoard,
    leaderboards_mark_down,
    member_scores,
    people_board,
    period_scores,
    team_board,
    team_tenths,
)
from challenges.services.levels import LevelProgress, level_progress, levels_for
from challenges.services.points import streak_current, week_of
from organizations.models import Organization, Team, User
from organizations.selectors import team_descendant_ids

BOARD_PEOPLE = "organisation"
BOARD_TEAMS = "team"
BOARDS = (BOARD_PEOPLE, BOARD_TEAMS)
NEIGHBOURS = 2
PeopleBoard = RedisPeopleBoard | DatabasePeopleBoard


@dataclass
class Standing:
    rank: int
    key: int  # a user's id (people) or a team's id (teams)
    points: float
    name: str = ""
    members: int | None = None
    is_me: bool = False
    user: User | None = None


@dataclass
class Leaderboard:
    board: str
    period: str
    team: Team | None
    rows: Sequence[Standing]
    me: Standing | None
    neighbours: list[Standing]
    scores_source: str
    hidden: bool = False
    my_teams: list[Standing] = field(default_factory=list)

    @property
    def source(self) -> str:
        """Where the scores were read ("redis" or "database"); a people board read from
        Redis says "database" once Redis failed during the request."""
        return getattr(self.rows, "source", self.scores_source)


def rank_scores(scores: dict[int, float]) -> list[Standing]:
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    standings: list[Standing] = []
    for index, (key, points) in enumerate(ordered):
        tied = bool(standings) and points == standings[-1].points
        standings.append(Standing(standings[-1].rank if tied else index + 1, key, points))
    return standings


def _ranked(rows: list[tuple[int, int]], *, start: int, above: int) -> list[Standing]:
    """Standings of consecutive rows of a ranking, the first at index `start` with `above`
    scores strictly higher: a row tied with the one before shares its rank, any other
    row's rank is its position (everyone before it has more points)."""
    standings: list[Standing] = []
    for offset, (key, points) in enumerate(rows):
        if not standings:
            rank = above + 1
        elif points == standings[-1].points:
            rank = standings[-1].rank
        else:
            rank = start + offset + 1
        standings.append(Standing(rank, key, points))
    return standings


class PeopleRows(Sequence[Standing]):
    """The listed people of a board, read a slice at a time (a Paginator takes its
    length, then the page): a Redis board sends only that page."""

    def __init__(self, board: PeopleBoard, *, caller_id: int, source: str | None = None) -> None:
        self.board = board
        self._caller_id = caller_id
        self._source = source

    @property
    def source(self) -> str:
        return self._source or self.board.source

    def __len__(self) -> int:
        return self.board.count()

    @overload
    def __getitem__(self, index: int) -> Standing: ...

    @overload
    def __getitem__(self, index: slice) -> list[Standing]: ...

    def __getitem__(self, index: int | slice) -> Standing | list[Standing]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if stop <= start:
                return []
            rows, above = self.board.slice(start, stop)
            standings = _ranked(rows, start=start, above=above)
            for standing in standings:
                standing.is_me = standing.key == self._caller_id
            return standings[::step]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self[position : position + 1][0]

    def __iter__(self) -> Iterator[Standing]:
        return iter(self[0 : len(self)])


class TeamRows(Sequence[Standing]):
    """The ranked teams of a board read from Redis a page at a time, each page's teams
    named and counted; when Redis fails mid-request, the rest comes from the database
    (`fallback` ranks every team there)."""

    def __init__(
        self,
        board: RedisTeamBoard,
        *,
        caller_teams: set[int],
        fallback: Callable[[], list[Standing]],
    ) -> None:
        self.board = board
        self.source = "redis"
        self._caller_teams = caller_teams
        self._fallback = fallback
        self._database: list[Standing] | None = None

    def _from_database(self, error: Exception) -> list[Standing]:
        leaderboards_mark_down(error)
        if self._database is None:
            self._database = self._fallback()
            self.source = "database"
        return self._database

    def __len__(self) -> int:
        if self._database is None:
            try:
                return self.board.count()
            except Exception as error:
                self._from_database(error)
        return len(self._database or [])

    @overload
    def __getitem__(self, index: int) -> Standing: ...

    @overload
    def __getitem__(self, index: slice) -> list[Standing]: ...

    def __getitem__(self, index: int | slice) -> Standing | list[Standing]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if stop <= start:
                return []
            if self._database is None:
                try:
                    rows, above = self.board.slice(start, stop)
                    described = self.board.describe([team for team, _points in rows])
                except Exception as error:
                    return self._from_database(error)[start:stop:step]
                standings = _ranked(
                    [(team, tenths / 10) for team, tenths in rows],  # type: ignore[misc]
                    start=start,
                    above=above,
                )
                for standing in standings:
                    standing.name, standing.members = described[standing.key]
                    standing.is_me = standing.key in self._caller_teams
                return standings[::step]
            return self._database[start:stop:step]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self[position : position + 1][0]

    def __iter__(self) -> Iterator[Standing]:
        return iter(self[0 : len(self)])


def _organization(user: User) -> Organization:
    if user.organization is None:
        raise Http404
    return user.organization


def _team_members(organization_id: int) -> tuple[dict[int, Team], dict[int, set[int]]]:
    """The organisation's teams and, for each, its active members including those of the
    teams below it (two queries)."""
    teams = {team.pk: team for team in Team.objects.filter(organization_id=organization_id)}
    direct: dict[int, set[int]] = {}
    rows = User.teams.through.objects.filter(
        team__organization_id=organization_id, user__is_active=True
    ).values_list("team_id", "user_id")
    for team_id, user_id in rows:
        direct.setdefault(team_id, set()).add(user_id)
    children: dict[int | None, list[int]] = {}
    for team in teams.values():
        children.setdefault(team.parent_id, []).append(team.pk)
    members = {}
    for team_id in teams:
        found: set[int] = set()
        stack, seen = [team_id], set()
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                found |= direct.get(current, set())
                stack.extend(children.get(current, []))
        members[team_id] = found
    return teams, members


def leaderboard_for(
    user: User,
    *,
    board: str = BOARD_PEOPLE,
    period: str = PERIOD_ALL,
    team_id: int | None = None,
    now: datetime | None = None,
) -> Leaderboard:
    """One leaderboard as the caller sees it. `team_id` narrows the people board to a
    team (and those below it), and the team board to the teams below it; another
    organisation's team is a 404. The people of the whole organisation are read a page
    at a time, a team's people by their ids; the team board needs every score."""
    if board not in BOARDS or period not in PERIODS:
        raise Http404
    organization = _organization(user)
    where = {"organization_id": organization.pk, "period": period, "now": now}
    if board == BOARD_PEOPLE and team_id is None:
        people = people_board(**where, time_zone=organization.time_zone)
        return _people_board(user, period, None, PeopleRows(people, caller_id=user.pk))
    if board == BOARD_TEAMS and team_id is None:
        teams_board = team_board(**where, time_zone=organization.time_zone)
        if teams_board is not None:
            try:
                return _redis_team_board(user, period, teams_board, where)
            except Exception as error:  # any Redis failure: the database answers instead
                leaderboards_mark_down(error)
    teams, members = _team_members(organization.pk)
    team = None
    if team_id is not None:
        team = teams.get(team_id)
        if team is None:
            raise Http404
    if board == BOARD_PEOPLE:
        assert team is not None
        listed, unlisted, source = member_scores(
            **where, time_zone=organization.time_zone, user_ids=sorted(members[team.pk])
        )
        rows = PeopleRows(DatabasePeopleBoard(listed, unlisted), caller_id=user.pk, source=source)
        return _people_board(user, period, team, rows)
    # Team averages need every score of the period (hidden people's included): read whole.
    listed, unlisted, source = period_scores(**where, time_zone=organization.time_zone)
    return _team_board(user, period, team, teams, members, {**listed, **unlisted}, source)


def _people_board(user: User, period: str, team: Team | None, rows: PeopleRows) -> Leaderboard:
    hidden = bool(
        Score.objects.filter(user_id=user.pk, organization_id=user.organization_id)
        .values_list("hidden_from_rankings", flat=True)
        .first()
    )
    window = rows.board.around(user.pk, NEIGHBOURS)
    me, neighbours = None, []
    if window is not None and window.points > 0:
        neighbours = _ranked(window.rows, start=window.start, above=window.above)
        me = next(standing for standing in neighbours if standing.key == user.pk)
        me.is_me = True
    return Leaderboard(BOARD_PEOPLE, period, team, rows, me, neighbours, rows.source, hidden)


def _database_team_rows(user: User, where: dict) -> list[Standing]:
    """Every ranked team of the organisation from the database (the fallback)."""
    organization = _organization(user)
    teams, members = _team_members(organization.pk)
    listed, unlisted, _source = period_scores(**where, time_zone=organization.time_zone)
    scores = {**listed, **unlisted}
    return list(_team_board(user, where["period"], None, teams, members, scores, "database").rows)


def _redis_team_board(
    user: User, period: str, teams_board: RedisTeamBoard, where: dict
) -> Leaderboard:
    """The whole organisation's team board from Redis: the page's teams only, and the
    caller's teams with their ranks (a few round trips whatever the size)."""
    mine = teams_board.teams_of(user.pk)
    described = teams_board.describe([team for team, _tenths, _above in mine])
    my_teams = []
    for team_id, tenths, above in sorted(mine, key=lambda row: (-row[1], row[0])):
        name, size = described[team_id]
        my_teams.append(Standing(above + 1, team_id, tenths / 10, name, size, is_me=True))
    rows = TeamRows(
        teams_board,
        caller_teams={team_id for team_id, _tenths, _above in mine},
        fallback=lambda: _database_team_rows(user, where),
    )
    return Leaderboard(BOARD_TEAMS, period, None, rows, None, [], "redis", my_teams=my_teams)


def _team_board(
    user: User,
    period: str,
    team: Team | None,
    teams: dict[int, Team],
    members: dict[int, set[int]],
    scores: dict[int, int],
    source: str,
) -> Leaderboard:
    # Per member, so that a small team can beat a large one; a hidden person's points
    # still count for their team, which shows no names.
    candidates = set(teams)
    if team is not None:
        candidates = team_descendant_ids([team.pk], teams.values()) - {team.pk}
    averages = {}
    for team_id in candidates:
        people = members.get(team_id) or set()
        total = sum(scores.get(pk, 0) for pk in people)
        if people and total > 0:
            # Rounded as the Redis board rounds (half up, in integers).
            averages[team_id] = team_tenths(total, len(people)) / 10
    rows = rank_scores(averages)
    labels = dict(team_labels(teams.values()))
    my_teams = []
    for row in rows:
        row.name = labels[row.key]
        row.members = len(members[row.key])
        row.is_me = user.pk in members[row.key]
        if row.is_me:
            my_teams.append(row)
    return Leaderboard(BOARD_TEAMS, period, team, rows, None, [], source, my_teams=my_teams)


def team_labels(teams: Iterable[Team]) -> list[tuple[int, str]]:
    """Each team named with its parents ("Sales › Paris"): sites of different
    departments often share a name. Sorted by that label."""
    by_id = {team.pk: team for team in teams}
    labels = []
    for team in by_id.values():
        names, current, seen = [], team, set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            names.append(current.name)
            current = by_id.get(current.parent_id) if current.parent_id else None
        labels.append((team.pk, " › ".join(reversed(names))))
    return sorted(labels, key=lambda item: item[1].casefold())


def team_choices(user: User) -> list[tuple[int, str]]:
    """The organisation's teams for a filter, labelled with their parents (one query)."""
    return team_labels(
        Team.objects.filter(organization_id=user.organization_id).only("id", "name", "parent_id")
    )


def standings_named(standings: list[Standing]) -> list[Standing]:
    """Fill in the people of the given standings (one query)."""
    ids = {s.key for s in standings if s.user is None and s.members is None}
    if ids:
        users = User.objects.only(
            "id", "first_name", "last_name", "email", "avatar", "job_title"
        ).in_bulk(ids)
        for standing in standings:
            person = users.get(standing.key)
            if person is not None and standing.members is None:
                standing.user = person
                standing.name = str(person)
    return standings


# --- the caller's points ------------------------------------------------------------------


@dataclass
class BadgeView:
    badge: str
    label: str
    description: str
    awarded_at: datetime


@dataclass
class PointsSummary:
    lifetime_points: int
    spendable_points: int
    hidden_from_rankings: bool
    level: LevelProgress
    badges: list[BadgeView]
    current_streak_weeks: int
    longest_streak_weeks: int
    rank: Standing | None
    ranked_people: int


def points_summary(user: User, *, now: datetime | None = None) -> PointsSummary:
    organization = _organization(user)
    now = now or timezone.now()
    score = Score.objects.filter(user_id=user.pk, organization_id=organization.pk).first()
    lifetime = score.lifetime_points if score else 0
    badges = [
        BadgeView(
            award.badge,
            str(BadgeKind(award.badge).label),
            badge_description(award.badge),
            award.awarded_at,
        )
        for award in BadgeAward.objects.filter(
            user_id=user.pk, organization_id=organization.pk
        ).order_by("awarded_at", "pk")
    ]
    board = leaderboard_for(user, period=PERIOD_ALL, now=now)
    return PointsSummary(
        lifetime_points=lifetime,
        spendable_points=score.spendable_points if score else 0,
        hidden_from_rankings=bool(score and score.hidden_from_rankings),
        level=level_progress(levels_for(organization.pk), lifetime),
        badges=badges,
        current_streak_weeks=streak_current(
            score, today_week=week_of(now, ZoneInfo(organization.time_zone))
        ),
        longest_streak_weeks=score.longest_streak_weeks if score else 0,
        rank=board.me,
        ranked_people=len(board.rows) + (1 if board.hidden and board.me else 0),
    )


def point_history(user: User) -> QuerySet[PointEntry]:
    """The caller's entries, newest first, with what each one was for."""
    return (
        PointEntry.objects.filter(user_id=user.pk, organization_id=user.organization_id)
        .select_related("content")
        .only(
            "id",
            "reason",
            "points",
            "spendable_delta",
            "note",
            "occurred_at",
            "share_id",
            "content__id",
            "content__title",
        )
        .order_by("-occurred_at", "-pk")
    )


def profile_points_context(user: User) -> dict[str, object]:
    """The points section of /me/ (a bounded number of queries)."""
    if user.organization_id is None:
        return {"points": None}
    return {"points": points_summary(user), "recent_entries": list(point_history(user)[:5])}
