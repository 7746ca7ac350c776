"""Reads of challenges and rewards shared by the pages and the API, scoped to the caller's
organisation: the lists with the caller's progress, the challenge board (progress bars,
live or frozen ranking, winners), the catalogue and the redemptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from challenges import campaign_metrics as metrics
from challenges.models import (
    Challenge,
    ChallengeMode,
    ChallengeResult,
    ChallengeStatus,
    Redemption,
    RedemptionStatus,
    Reward,
    Score,
)
from organizations.models import Team, User
from organizations.selectors import user_team_ancestor_ids

TABS = ("active", "upcoming", "ended", "drafts")
TAB_STATUSES: dict[str, tuple[str, ...]] = {
    "active": (ChallengeStatus.ACTIVE,),
    "upcoming": (ChallengeStatus.SCHEDULED,),
    "ended": (ChallengeStatus.ENDED,),
    "drafts": (ChallengeStatus.DRAFT, ChallengeStatus.CANCELLED),
}
PUBLIC_STATUSES = (ChallengeStatus.SCHEDULED, ChallengeStatus.ACTIVE, ChallengeStatus.ENDED)
TOP = 10


def challenges_visible(user: User) -> QuerySet[Challenge]:
    """Editors see every challenge of the organisation; others the published ones whose
    audience includes them."""
    challenges = Challenge.objects.filter(organization_id=user.organization_id)
    if user.can_edit_content:
        return challenges
    targeted = Challenge.audience_teams.through.objects.filter(challenge_id=OuterRef("pk"))
    reaches_me = targeted.filter(team_id__in=user_team_ancestor_ids(user))
    return challenges.filter(status__in=PUBLIC_STATUSES).filter(
        ~Exists(targeted) | Exists(reaches_me)
    )


def _with_relations(challenges: QuerySet[Challenge]) -> QuerySet[Challenge]:
    return challenges.select_related("organization", "created_by").prefetch_related(
        "audience_teams", "contents", "topics"
    )


def challenge_list(user: User, *, tab: str = "active") -> QuerySet[Challenge]:
    statuses = TAB_STATUSES.get(tab, TAB_STATUSES["active"])
    if tab == "drafts" and not user.can_edit_content:
        return Challenge.objects.none()
    challenges = challenges_visible(user).filter(status__in=statuses)
    order = ["-ends_at", "-pk"] if tab == "ended" else ["starts_at", "pk"]
    return _with_relations(challenges).order_by(*order)


def challenge_for_user(user: User, pk: int, *, write: bool = False) -> Challenge:
    """The one access check: another organisation's challenge, or one outside the caller's
    audience, does not exist; only editors may write."""
    challenge = _with_relations(challenges_visible(user)).filter(pk=pk).first()
    if challenge is None or (write and not user.can_edit_content):
        raise Http404
    return challenge


@dataclass
class Progress:
    value: Decimal
    percent: int
    goal_reached: bool
    rank: int | None = None


def _percent(value: Decimal, target: Decimal) -> int:
    if target <= 0 or value <= 0:
        return 0
    return min(100, int(value * 100 / target))


def progress_for(challenges: list[Challenge], user: User) -> dict[int, Progress]:
    """The caller's own progress in each challenge of a list, in a bounded number of
    queries (not one per challenge). A goal is the target; without one, the bar shows the
    value alone (the ranking is on the challenge's page)."""
    result: dict[int, Progress] = {}
    live = [c for c in challenges if c.status in (ChallengeStatus.ACTIVE,)]
    ended = [c for c in challenges if c.status == ChallengeStatus.ENDED]
    if live:
        scopes = metrics.scope_content_ids(live)
        values = metrics.values_for_user(live, scopes, user)
        for challenge in live:
            value = Decimal(values.get(challenge.pk, 0))
            goal = Decimal(challenge.goal or 0)
            result[challenge.pk] = Progress(
                value, _percent(value, goal), bool(goal) and value >= goal
            )
    if ended:
        mine = ChallengeResult.objects.filter(challenge__in=ended, user=user)
        frozen = {row.challenge_id: row for row in mine}
        for challenge in ended:
            row = frozen.get(challenge.pk)
            value = row.value if row else Decimal(0)
            result[challenge.pk] = Progress(
                value,
                _percent(value, Decimal(challenge.goal or 0)),
                bool(row and row.goal_reached),
                row.rank if row and challenge.mode == ChallengeMode.INDIVIDUAL else None,
            )
    return result


# --- the challenge board ---------------------------------------------------------------------


@dataclass
class BoardRow:
    rank: int
    name: str
    value: Decimal
    is_me: bool = False
    members: int = 1
    is_winner: bool = False
    goal_reached: bool = False
    user_id: int | None = None
    team_id: int | None = None


@dataclass
class Board:
    challenge: Challenge
    frozen: bool
    participant: bool
    me: Progress | None
    hidden: bool
    team_name: str = ""
    team: Progress | None = None
    rows: list[BoardRow] = field(default_factory=list)
    my_row: BoardRow | None = None
    winners: list[BoardRow] = field(default_factory=list)
    participants_count: int = 0
    leader: Decimal = Decimal(0)


def challenge_board(user: User, challenge: Challenge) -> Board:
    """Everything the challenge page and the API detail show, in a bounded number of
    queries: live from the raw rows while it runs, from the frozen results once ended."""
    hidden = Score.objects.filter(
        user=user, organization_id=challenge.organization_id, hidden_from_rankings=True
    ).exists()
    if challenge.status == ChallengeStatus.ENDED:
        return _frozen_board(user, challenge, hidden)
    if challenge.status != ChallengeStatus.ACTIVE:
        return Board(challenge, frozen=False, participant=False, me=None, hidden=hidden)
    return _live_board(user, challenge, hidden)


def _names(user_ids: set[int]) -> dict[int, str]:
    return {
        person.pk: str(person)
        for person in User.objects.filter(pk__in=user_ids).only(
            "id", "first_name", "last_name", "email"
        )
    }


def _live_board(user: User, challenge: Challenge, hidden: bool) -> Board:
    participants = metrics.participants_of(challenge)
    scope = metrics.scope_content_ids([challenge])[challenge.pk]
    values = {
        u: v
        for u, v in metrics.values_by_user(challenge, scope).items()
        if u in participants.user_ids
    }
    goal = Decimal(challenge.goal or 0)
    teams = metrics.team_values(values, participants)
    team_names = dict(Team.objects.filter(pk__in=list(teams)).values_list("pk", "name"))
    board = Board(
        challenge,
        frozen=False,
        participant=user.pk in participants.user_ids,
        me=None,
        hidden=hidden,
        participants_count=len(participants.user_ids),
    )
    my_teams = sorted(participants.teams_of.get(user.pk, []), key=lambda t: team_names.get(t, ""))
    team_ranked = [value for value, _n in teams.values()]
    if challenge.mode == ChallengeMode.TEAM:
        table = metrics.standings({t: v for t, (v, _n) in teams.items()})
        board.leader = table[0].value if table else Decimal(0)
        board.rows = [
            BoardRow(
                s.rank,
                team_names.get(s.key, ""),
                s.value,
                is_me=s.key in my_teams,
                members=teams[s.key][1],
                goal_reached=bool(goal) and s.value >= goal,
                team_id=s.key,
            )
            for s in table[:TOP]
        ]
        shown = {row.team_id for row in board.rows}
        mine = next((s for s in table if s.key in my_teams and s.key not in shown), None)
        if mine is not None:
            board.my_row = BoardRow(
                mine.rank,
                team_names.get(mine.key, ""),
                mine.value,
                is_me=True,
                members=teams[mine.key][1],
                team_id=mine.key,
            )
    else:
        secret = set(
            Score.objects.filter(
                organization_id=challenge.organization_id, hidden_from_rankings=True
            ).values_list("user_id", flat=True)
        )
        public = {u: Decimal(v) for u, v in values.items() if v > 0 and u not in secret}
        table = metrics.standings(public)
        board.leader = table[0].value if table else Decimal(0)
        top = table[:TOP]
        names = _names({s.key for s in top} | {user.pk})
        board.rows = [
            BoardRow(
                s.rank,
                names.get(s.key, ""),
                s.value,
                is_me=s.key == user.pk,
                goal_reached=bool(goal) and s.value >= goal,
                user_id=s.key,
            )
            for s in top
        ]
        my_value = Decimal(values.get(user.pk, 0))
        if board.participant and my_value > 0 and all(r.user_id != user.pk for r in board.rows):
            board.my_row = BoardRow(
                metrics.rank_of(my_value, list(public.values())),
                names.get(user.pk, ""),
                my_value,
                is_me=True,
                user_id=user.pk,
            )
    if board.participant:
        my_value = Decimal(values.get(user.pk, 0))
        target = goal or board.leader
        rank = None
        if challenge.mode == ChallengeMode.INDIVIDUAL and my_value > 0:
            rank = next((r.rank for r in [*board.rows, board.my_row] if r and r.is_me), None)
        board.me = Progress(
            my_value, _percent(my_value, target), bool(goal) and my_value >= goal, rank
        )
        if my_teams:
            team_id = my_teams[0]
            value = teams[team_id][0]
            best = max(team_ranked) if team_ranked else Decimal(0)
            board.team_name = team_names.get(team_id, "")
            board.team = Progress(
                value,
                _percent(value, goal or best),
                bool(goal) and value >= goal,
                metrics.rank_of(value, team_ranked),
            )
    return board


def _frozen_board(user: User, challenge: Challenge, hidden: bool) -> Board:
    results = ChallengeResult.objects.filter(challenge=challenge).select_related("user", "team")
    top = list(results.filter(hidden=False)[:TOP])
    winners = list(results.filter(is_winner=True, hidden=False)[:100])
    team_mode = challenge.mode == ChallengeMode.TEAM
    if team_mode:
        my_team_ids = set(user.teams.values_list("id", flat=True))
        mine = next(iter(results.filter(team_id__in=my_team_ids).order_by("rank")[:1]), None)
    else:
        mine = results.filter(user=user).first()

    def row(result: ChallengeResult) -> BoardRow:
        is_me = (
            result.team_id == (mine.team_id if mine else None)
            if team_mode
            else result.user_id == user.pk
        )
        return BoardRow(
            result.rank,
            str(result.team or result.user),
            result.value,
            is_me=bool(is_me),
            members=result.members,
            is_winner=result.is_winner,
            goal_reached=result.goal_reached,
            user_id=result.user_id,
            team_id=result.team_id,
        )

    board = Board(
        challenge,
        frozen=True,
        participant=True,
        me=None,
        hidden=hidden,
        rows=[row(r) for r in top],
        winners=[row(r) for r in winners],
        leader=top[0].value if top else Decimal(0),
    )
    if mine is not None and not any(r.is_me for r in board.rows):
        board.my_row = row(mine)
    goal = Decimal(challenge.goal or 0)
    if team_mode:
        if mine is not None:
            board.team_name = str(mine.team)
            board.team = Progress(
                mine.value, _percent(mine.value, goal or board.leader), mine.goal_reached, mine.rank
            )
    else:
        value = mine.value if mine else Decimal(0)
        board.me = Progress(
            value,
            _percent(value, goal or board.leader),
            bool(mine and mine.goal_reached),
            mine.rank if mine else None,
        )
    return board


# --- rewards -------------------------------------------------------------------------------


def rewards_catalogue(user: User) -> QuerySet[Reward]:
    return Reward.objects.filter(organization_id=user.organization_id, is_active=True)


def rewards_all(user: User) -> QuerySet[Reward]:
    if not user.is_org_admin:
        return Reward.objects.none()
    return Reward.objects.filter(organization_id=user.organization_id).order_by(
        "-is_active", "title"
    )


def reward_for_user(user: User, pk: int, *, write: bool = False) -> Reward:
    rewards = rewards_all(user) if write else rewards_catalogue(user)
    reward = rewards.filter(pk=pk).first()
    if reward is None:
        raise Http404
    return reward


def spendable_of(user: User) -> int:
    # The active organisation's balance: rewards are paid from points earned there.
    score = (
        Score.objects.filter(user=user, organization_id=user.organization_id)
        .only("spendable_points")
        .first()
    )
    return score.spendable_points if score else 0


def taken_counts(user: User) -> dict[int, int]:
    """How many of each reward the user holds or has asked for (refusals do not count)."""
    rows = (
        Redemption.objects.filter(user=user)
        .exclude(status=RedemptionStatus.REFUSED)
        .values_list("reward_id", flat=True)
    )
    counts: dict[int, int] = {}
    for reward_id in rows:
        counts[reward_id] = counts.get(reward_id, 0) + 1
    return counts


def redemptions_of(user: User) -> QuerySet[Redemption]:
    return Redemption.objects.filter(
        user=user, organization_id=user.organization_id
    ).select_related("reward", "decided_by")


def redemption_queue(
    user: User, *, status: str = RedemptionStatus.REQUESTED
) -> QuerySet[Redemption]:
    if not user.is_org_admin:
        return Redemption.objects.none()
    rows = Redemption.objects.filter(organization_id=user.organization_id)
    if status in RedemptionStatus.values:
        rows = rows.filter(status=status)
    order = "created_at" if status == RedemptionStatus.REQUESTED else "-created_at"
    return rows.select_related("reward", "user", "decided_by").order_by(order, "pk")


def redemption_for_user(user: User, pk: int, *, write: bool = False) -> Redemption:
    """Employees read their own; org admins read and decide any of the organisation's."""
    rows = Redemption.objects.filter(organization_id=user.organization_id)
    if not user.is_org_admin:
        if write:
            raise Http404
        rows = rows.filter(user=user)
    redemption = rows.select_related("reward", "user", "decided_by").filter(pk=pk).first()
    if redemption is None:
        raise Http404
    return redemption
