"""Reads of points shared by the HTML pages and the API, scoped to the caller's
organisation: the caller's points summary and history, and the leaderboards.

Ranking: competition ranks (equal points share a rank, the next rank skips: 1, 1, 3),
ties listed by id so that every page and both score sources give the same order. People
hidden from rankings are left out of every public list; they still see their own rank,
computed as if they were listed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from challenges.models import BadgeAward, BadgeKind, PointEntry, Score
from challenges.services.badges import badge_description
from challenges.services.leaderboards import PERIOD_ALL, PERIODS, period_scores
from challenges.services.levels import LevelProgress, level_progress, levels_for
from challenges.services.points import streak_current, week_of
from organizations.models import Organization, Team, User
from organizations.selectors import team_descendant_ids

BOARD_PEOPLE = "organisation"
BOARD_TEAMS = "team"
BOARDS = (BOARD_PEOPLE, BOARD_TEAMS)
NEIGHBOURS = 2


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
    rows: list[Standing]
    me: Standing | None
    neighbours: list[Standing]
    source: str
    hidden: bool = False
    my_teams: list[Standing] = field(default_factory=list)


def rank_scores(scores: dict[int, float]) -> list[Standing]:
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    standings: list[Standing] = []
    for index, (key, points) in enumerate(ordered):
        tied = bool(standings) and points == standings[-1].points
        standings.append(Standing(standings[-1].rank if tied else index + 1, key, points))
    return standings


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
    organisation's team is a 404."""
    if board not in BOARDS or period not in PERIODS:
        raise Http404
    organization = _organization(user)
    scores, source = period_scores(
        organization_id=organization.pk, period=period, time_zone=organization.time_zone, now=now
    )
    team = None
    teams: dict[int, Team] = {}
    members: dict[int, set[int]] = {}
    if board == BOARD_TEAMS or team_id is not None:
        teams, members = _team_members(organization.pk)
        if team_id is not None:
            team = teams.get(team_id)
            if team is None:
                raise Http404
    if board == BOARD_TEAMS:
        return _team_board(user, period, team, teams, members, scores, source)
    people = dict(
        User.objects.filter(organization_id=organization.pk, is_active=True).values_list(
            "pk", "score__hidden_from_rankings"
        )
    )
    if team is not None:
        people = {pk: hidden for pk, hidden in people.items() if pk in members[team.pk]}
    visible = {pk: scores[pk] for pk in people if pk in scores and not people[pk]}
    rows = rank_scores(visible)
    me = neighbours = None
    hidden = bool(people.get(user.pk))
    if user.pk in people and scores.get(user.pk, 0) > 0:
        # A hidden caller is ranked as if listed, in a copy of the ranking.
        with_me = rank_scores({**visible, user.pk: scores[user.pk]}) if hidden else rows
        index = next(i for i, s in enumerate(with_me) if s.key == user.pk)
        with_me[index].is_me = True
        me = with_me[index]
        neighbours = with_me[max(0, index - NEIGHBOURS) : index + NEIGHBOURS + 1]
    return Leaderboard(BOARD_PEOPLE, period, team, rows, me, neighbours or [], source, hidden)


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
            averages[team_id] = round(total / len(people), 1)
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
    score = Score.objects.filter(user_id=user.pk).first()
    lifetime = score.lifetime_points if score else 0
    badges = [
        BadgeView(
            award.badge,
            str(BadgeKind(award.badge).label),
            badge_description(award.badge),
            award.awarded_at,
        )
        for award in BadgeAward.objects.filter(user_id=user.pk).order_by("awarded_at", "pk")
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
