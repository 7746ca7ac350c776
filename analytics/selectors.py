"""Reads behind the dashboards, the API, the CSV exports, the report and the weekly email.

Every number here is a sum of `DailyRollup` rows; nothing reads the raw events. Two
things shape every query:

- the **scope**: the caller's organisation, narrowed to teams for a manager (the teams
  they manage and those below) or to the team picked in the filter. Teams are resolved
  at read time through the sharers' *current* memberships: a person in two teams counts
  in both team rows and once in every total.
- the **period**: whole days in the organisation's time zone, both ends included, and
  the previous period of the same length just before it, for the changes.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractIsoWeekDay
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.models import AnalyticsSettings, DailyRollup, MetricPoll, PollStatus
from content.models import Content, ContentKind, ContentStatus, Network
from content.selectors import LIBRARY_ROLES
from organizations.errors import DomainError
from organizations.models import Organization, Role, Team, User
from organizations.selectors import team_descendant_ids

# --- periods --------------------------------------------------------------------------------

PERIOD_CHOICES = [
    ("7d", gettext_lazy("Last 7 days")),
    ("30d", gettext_lazy("Last 30 days")),
    ("90d", gettext_lazy("Last 90 days")),
    ("this_month", gettext_lazy("This month")),
    ("previous_month", gettext_lazy("Previous month")),
    ("custom", gettext_lazy("Custom dates")),
]
PERIOD_KEYS = [key for key, _label in PERIOD_CHOICES]
DEFAULT_PERIOD = "30d"
# A custom period longer than this would make the daily chart unreadable and the
# previous-period query heavy; a year covers every question we have seen.
MAX_PERIOD_DAYS = 366
# Dates outside these bounds are typing slips; far enough out, the previous period or
# the day after the end no longer exists as a date (a 500 rather than an answer).
EARLIEST_DAY = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366
INTERVALS = ("day", "week")


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    key: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(start=end - timedelta(days=self.days - 1), end=end, key="previous")

    @property
    def slug(self) -> str:
        return f"{self.start:%Y-%m-%d}_{self.end:%Y-%m-%d}"

    def label(self) -> str:
        return _("%(start)s to %(end)s") % {
            "start": formats.date_format(self.start, "SHORT_DATE_FORMAT"),
            "end": formats.date_format(self.end, "SHORT_DATE_FORMAT"),
        }

    def default_interval(self) -> str:
        return "day" if self.days <= 31 else "week"


def organization_today(organization: Organization, *, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(organization.time_zone)).date()


def period_resolve(
    *, key: str, today: date, start: date | None = None, end: date | None = None
) -> Period:
    """The period a picker choice names, seen from `today` (the organisation's date).
    Rolling periods end today; a bad custom range is a DomainError naming the field."""
    if key == "7d":
        return Period(start=today - timedelta(days=6), end=today, key=key)
    if key == "30d":
        return Period(start=today - timedelta(days=29), end=today, key=key)
    if key == "90d":
        return Period(start=today - timedelta(days=89), end=today, key=key)
    if key == "this_month":
        return Period(start=today.replace(day=1), end=today, key=key)
    if key == "previous_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(start=last.replace(day=1), end=last, key=key)
    if key != "custom":
        raise DomainError(_("Choose one of the listed periods."), field="period")
    if start is None:
        raise DomainError(_("Give the first day of the period."), field="start")
    if end is None:
        raise DomainError(_("Give the last day of the period."), field="end")
    if start < EARLIEST_DAY:
        raise DomainError(
            _("The first day cannot be before %(day)s.") % {"day": _short(EARLIEST_DAY)},
            field="start",
        )
    latest = latest_day(today)
    if end > latest:
        raise DomainError(
            _("The last day cannot be after %(day)s.") % {"day": _short(latest)}, field="end"
        )
    if end < start:
        raise DomainError(_("The last day comes before the first day."), field="end")
    if start > today:
        raise DomainError(_("The period starts in the future."), field="start")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise DomainError(
            _("A period can last at most %(n)s days.") % {"n": MAX_PERIOD_DAYS}, field="end"
        )
    return Period(start=start, end=end, key=key)


def latest_day(today: date) -> date:
    return today + timedelta(days=MAX_DAYS_AHEAD)


def _short(day: date) -> str:
    return str(formats.date_format(day, "SHORT_DATE_FORMAT"))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- scope ----------------------------------------------------------------------------------

ORG_WIDE_ROLES = (Role.ORG_ADMIN, Role.EDITOR, Role.REVIEWER)


@dataclass(frozen=True)
class TeamNode:
    """A team as the dashboards' scope needs it: read as plain rows (a company of 50,000
    has thousands of teams, and a model instance each cost most of the page)."""

    pk: int
    name: str
    parent_id: int | None

    @property
    def id(self) -> int:
        return self.pk


@dataclass(frozen=True)
class Scope:
    """Whose numbers a reader sees. `team_ids` None means the whole organisation;
    `visible_team_ids` is what the team filter may offer."""

    organization: Organization
    team_ids: frozenset[int] | None
    visible_team_ids: frozenset[int]
    whole_organization: bool
    team: TeamNode | None = None
    content_ids: frozenset[int] | None = None
    network: str = ""
    # The organisation's teams as the access check read them (id, name, parent): the team
    # filter reuses them instead of reading them again.
    teams: tuple[TeamNode, ...] = field(default=(), compare=False, repr=False)

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    def for_content(self, content_id: int) -> Scope:
        return replace(self, content_ids=frozenset({content_id}))


def sees_whole_organization(user: User) -> bool:
    return user.can_see_dashboards and user.role in ORG_WIDE_ROLES


def can_see_what_works(user: User) -> bool:
    return sees_whole_organization(user)


def dashboard_scope(user: User, *, team_id: int | None = None) -> Scope:
    """The one access check of every dashboard page, API call and export.

    Someone without dashboards gets a 404 (the pages do not exist for them); another
    organisation's team is a 404; a team of the organisation outside a manager's teams
    is a 403 (it exists, and they may ask their admin)."""
    organization = user.organization if user.is_authenticated else None
    if organization is None or not user.can_see_dashboards:
        raise Http404
    teams = _team_nodes(Team.objects.filter(organization_id=organization.pk))
    whole = sees_whole_organization(user)
    if whole:
        visible = frozenset(team.pk for team in teams)
    else:
        managed = list(user.managed_teams.values_list("id", flat=True))
        visible = frozenset(team_descendant_ids(managed, teams))
    if team_id is None:
        return Scope(
            organization=organization,
            team_ids=None if whole else visible,
            visible_team_ids=visible,
            whole_organization=whole,
            teams=tuple(teams),
        )
    team = next((team for team in teams if team.pk == team_id), None)
    if team is None:
        raise Http404
    if team.pk not in visible:
        raise PermissionDenied
    return Scope(
        organization=organization,
        team_ids=frozenset(team_descendant_ids([team.pk], teams)),
        visible_team_ids=visible,
        whole_organization=False,
        team=team,
        teams=tuple(teams),
    )


def team_choices(scope: Scope) -> list[tuple[TeamNode, int]]:
    """The teams the filter offers, in tree order with their depth: the top levels of the
    reader's tree (TEAM_LEVELS_SHOWN and one more), and the chosen team with the teams
    above it and its own sub-teams, so that one can always go one level further down."""
    if scope.teams:
        teams = [team for team in scope.teams if team.pk in scope.visible_team_ids]
    else:
        teams = _team_nodes(
            Team.objects.filter(
                organization_id=scope.organization_id, pk__in=scope.visible_team_ids
            )
        )
    ordered = _tree_order(teams)
    wanted = {team.pk for team, depth in ordered if depth <= TEAM_LEVELS_SHOWN}
    if scope.team is not None:
        parents = {team.pk: team.parent_id for team in teams}
        chosen: int | None = scope.team.pk
        while chosen is not None and chosen in parents and chosen not in wanted:
            wanted.add(chosen)
            chosen = parents[chosen]
        wanted.update(team.pk for team in teams if team.parent_id == scope.team.pk)
    return [(team, depth) for team, depth in ordered if team.pk in wanted]


def _team_nodes(teams: QuerySet[Team]) -> list[TeamNode]:
    return [
        TeamNode(*row)
        for row in teams.order_by("name", "pk").values_list("id", "name", "parent_id")
    ]


def _tree_order(teams: list[TeamNode]) -> list[tuple[TeamNode, int]]:
    ids = {team.pk for team in teams}
    children: dict[int | None, list[TeamNode]] = defaultdict(list)
    for team in teams:
        # A visible team whose parent is out of sight is a root for this reader.
        children[team.parent_id if team.parent_id in ids else None].append(team)
    ordered: list[tuple[TeamNode, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for team in children.get(parent, []):
            ordered.append((team, depth))
            walk(team.pk, depth + 1)

    walk(None, 0)
    return ordered


def _member_links(scope: Scope) -> QuerySet[Any]:
    if scope.team_ids is not None:
        # The ids come from dashboard_scope, already limited to the organisation.
        return User.teams.through.objects.filter(team_id__in=scope.team_ids)
    return User.teams.through.objects.filter(team__organization_id=scope.organization_id)


def rollups_in_scope(scope: Scope) -> QuerySet[DailyRollup]:
    rows = DailyRollup.objects.filter(organization_id=scope.organization_id)
    if scope.team_ids is not None:
        # A subquery, not a join: a person in two of the teams must not count twice.
        rows = rows.filter(user_id__in=_member_links(scope).values("user_id"))
    if scope.content_ids is not None:
        rows = rows.filter(content_id__in=scope.content_ids)
    if scope.network:
        rows = rows.filter(network=scope.network)
    return rows


def people_in_scope(scope: Scope) -> QuerySet[User]:
    """Active employees in scope: the denominator of adoption and the segments."""
    people = User.objects.filter(organization_id=scope.organization_id, is_active=True)
    if scope.team_ids is not None:
        people = people.filter(pk__in=_member_links(scope).values("user_id"))
    return people


# --- totals ---------------------------------------------------------------------------------

COUNT_FIELDS = (
    "shares",
    "link_confirmations",
    "clicks",
    "unique_clicks",
    "reactions",
    "comments",
    "reshares",
    "impressions",
    "potential_reach",
)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Totals:
    shares: int = 0
    link_confirmations: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    impressions: int = 0
    potential_reach: int = 0
    emv: Decimal = Decimal("0.00")
    reach_stands_in: bool = False

    @property
    def all_shares(self) -> int:
        """Both ways of sharing count: posts published through the API and share-link
        posts the employee confirmed."""
        return self.shares + self.link_confirmations

    @property
    def engagement(self) -> int:
        return self.reactions + self.comments + self.reshares

    @property
    def clicks_per_share(self) -> Decimal | None:
        if not self.all_shares:
            return None
        return (Decimal(self.clicks) / Decimal(self.all_shares)).quantize(CENT, ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return {
            "shares": self.all_shares,
            "api_shares": self.shares,
            "link_confirmations": self.link_confirmations,
            "clicks": self.clicks,
            "unique_clicks": self.unique_clicks,
            "clicks_per_share": self.clicks_per_share,
            "reactions": self.reactions,
            "comments": self.comments,
            "reshares": self.reshares,
            "engagement": self.engagement,
            "impressions": self.impressions,
            "potential_reach": self.potential_reach,
            "emv": self.emv,
        }


def _sums(prefix: str = "sum_", condition: Q | None = None) -> dict[str, Any]:
    # Prefixed names: an annotation named like a field would shadow it in later filters.
    sums: dict[str, Any] = {
        f"{prefix}{name}": Sum(name, filter=condition, default=0) for name in COUNT_FIELDS
    }
    sums[f"{prefix}emv"] = Sum("emv", filter=condition, default=Decimal("0"))
    stands_in = (
        Q(reach_stands_in=True) if condition is None else condition & Q(reach_stands_in=True)
    )
    sums[f"{prefix}stands_in_rows"] = Count("pk", filter=stands_in)
    return sums


def _totals(row: dict[str, Any], prefix: str = "sum_") -> Totals:
    values = {name: int(row.get(f"{prefix}{name}") or 0) for name in COUNT_FIELDS}
    emv = Decimal(row.get(f"{prefix}emv") or 0).quantize(CENT, ROUND_HALF_UP)
    return Totals(**values, emv=emv, reach_stands_in=bool(row.get(f"{prefix}stands_in_rows") or 0))


SHARED = Q(shares__gt=0) | Q(link_confirmations__gt=0)


def _in(period: Period) -> Q:
    return Q(day__gte=period.start, day__lte=period.end)


# --- summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: Any
    previous: Any
    # Percent change against the previous period; None when there was nothing before.
    change: Decimal | None
    unit: str = ""
    help: str = ""


def change_percent(current: Any, previous: Any) -> Decimal | None:
    if current is None or previous is None or not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
        Decimal("0.1"), ROUND_HALF_UP
    )


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Summary:
    period: Period
    totals: Totals
    previous_totals: Totals
    people: int
    active: int
    previous_active: int
    currency: str

    @property
    def adoption(self) -> Decimal:
        return _percent(self.active, self.people)

    @property
    def previous_adoption(self) -> Decimal:
        # Measured against today's headcount: past team memberships are not kept.
        return _percent(self.previous_active, self.people)

    def cards(self) -> list[Card]:
        now, before = self.totals, self.previous_totals
        return [
            Card(
                "active_ambassadors",
                _("Active ambassadors"),
                self.adoption,
                self.previous_adoption,
                change_percent(self.adoption, self.previous_adoption),
                "%",
                _("%(active)s of %(people)s employees shared at least once")
                % {"active": self.active, "people": self.people},
            ),
            Card(
                "shares",
                _("Shares"),
                now.all_shares,
                before.all_shares,
                change_percent(now.all_shares, before.all_shares),
                help=_("%(api)s posted, %(links)s by share link")
                % {"api": now.shares, "links": now.link_confirmations},
            ),
            Card(
                "clicks",
                _("Clicks"),
                now.clicks,
                before.clicks,
                change_percent(now.clicks, before.clicks),
            ),
            Card(
                "clicks_per_share",
                _("Clicks per share"),
                now.clicks_per_share,
                before.clicks_per_share,
                change_percent(now.clicks_per_share, before.clicks_per_share),
            ),
            Card(
                "engagement",
                _("Engagement"),
                now.engagement,
                before.engagement,
                change_percent(now.engagement, before.engagement),
                help=_("reactions, comments and reshares"),
            ),
            Card(
                "potential_reach",
                _("Potential reach"),
                now.potential_reach,
                before.potential_reach,
                change_percent(now.potential_reach, before.potential_reach),
                help=_("followers of the sharers when they shared"),
            ),
            Card(
                "emv",
                _("Earned media value"),
                now.emv,
                before.emv,
                change_percent(now.emv, before.emv),
                self.currency,
            ),
        ]


def summary(scope: Scope, period: Period) -> Summary:
    """Headline numbers of the period and of the previous one, in one query over both."""
    previous = period.previous
    current_q, previous_q = _in(period), _in(previous)
    row = (
        rollups_in_scope(scope)
        .filter(day__gte=previous.start, day__lte=period.end)
        .aggregate(
            **_sums("now_", current_q),
            **_sums("before_", previous_q),
            active=Count("user_id", distinct=True, filter=current_q & SHARED),
            previous_active=Count("user_id", distinct=True, filter=previous_q & SHARED),
        )
    )
    return Summary(
        period=period,
        totals=_totals(row, "now_"),
        previous_totals=_totals(row, "before_"),
        people=people_in_scope(scope).count(),
        active=row["active"] or 0,
        previous_active=row["previous_active"] or 0,
        currency=rates_for(scope.organization).currency,
    )


# --- trend ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    start: date
    end: date
    totals: Totals

    def label(self, interval: str) -> str:
        if interval == "week":
            return _("Week of %(day)s") % {
                "day": formats.date_format(self.start, "SHORT_DATE_FORMAT")
            }
        return formats.date_format(self.start, "SHORT_DATE_FORMAT")


def timeseries(scope: Scope, period: Period, *, interval: str = "day") -> list[Point]:
    """One point per day, or per week (Monday to Sunday, cut at the period's ends), with
    empty days filled in so the chart's axis is regular."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .values("day")
        .annotate(**_sums())
        .order_by("day")
    )
    by_day = {row["day"]: _totals(row) for row in rows}
    points: list[Point] = []
    day = period.start
    while day <= period.end:
        if interval == "week":
            end = min(day + timedelta(days=6 - day.weekday()), period.end)
        else:
            end = day
        totals = _add(by_day.get(d, Totals()) for d in _days(day, end))
        points.append(Point(start=day, end=end, totals=totals))
        day = end + timedelta(days=1)
    return points


def _days(start: date, end: date) -> Iterable[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def _add(items: Iterable[Totals]) -> Totals:
    counts = dict.fromkeys(COUNT_FIELDS, 0)
    emv = Decimal("0.00")
    stands_in = False
    for item in items:
        for name in COUNT_FIELDS:
            counts[name] += getattr(item, name)
        emv += item.emv
        stands_in = stands_in or item.reach_stands_in
    return Totals(**counts, emv=emv, reach_stands_in=stands_in)


# --- rankings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentRow:
    content_id: int
    title: str
    kind: str
    ambassadors: int
    totals: Totals


@dataclass(frozen=True)
class PersonRow:
    user_id: int
    name: str
    email: str
    totals: Totals
    contents: int = 0


def _ranked(rows: QuerySet[DailyRollup, dict[str, Any]]) -> Any:
    return rows.annotate(all_shares=Sum(F("shares") + F("link_confirmations")))


def top_contents(scope: Scope, period: Period, *, limit: int = 10) -> list[ContentRow]:
    """The contents that brought the most clicks (then shares) in the period."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .values("content_id", "content__title", "content__kind")
        .annotate(**_sums(), ambassadors=Count("user_id", distinct=True, filter=SHARED))
    )
    rows = _ranked(rows).order_by("-sum_clicks", "-all_shares", "content_id")[:limit]
    return [
        ContentRow(
            content_id=row["content_id"],
            title=row["content__title"],
            kind=row["content__kind"],
            ambassadors=row["ambassadors"],
            totals=_totals(row),
        )
        for row in rows
    ]


def _name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email


def top_ambassadors(scope: Scope, period: Period, *, limit: int = 10) -> list[PersonRow]:
    """The people who shared the most (then brought the most clicks). Managers see their
    own people by name: the opt-out from public leaderboards is about colleagues, not
    about the manager's own dashboard."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .values("user_id", "user__first_name", "user__last_name", "user__email")
        .annotate(**_sums(), contents=Count("content_id", distinct=True, filter=SHARED))
    )
    rows = _ranked(rows).filter(all_shares__gt=0).order_by("-all_shares", "-sum_clicks", "user_id")
    return [
        PersonRow(
            user_id=row["user_id"],
            name=_name(row["user__first_name"], row["user__last_name"], row["user__email"]),
            email=row["user__email"],
            totals=_totals(row),
            contents=row["contents"],
        )
        for row in rows[:limit]
    ]


# --- by team --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    team_id: int
    name: str
    depth: int
    people: int
    active: int
    totals: Totals
    # How many teams are below this one (the page shows the top levels and links here).
    below: int = 0

    @property
    def adoption(self) -> Decimal:
        return _percent(self.active, self.people)


# The dashboard page's team table and team filter show this many levels of the reader's
# tree (a large company has thousands of teams); a row with teams below links to them, and
# the CSV export lists every team.
TEAM_LEVELS_SHOWN = 2


def team_rows_shown(rows: list[TeamRow]) -> tuple[list[TeamRow], int]:
    """The rows of the top TEAM_LEVELS_SHOWN levels, and how many were left out."""
    shown = [row for row in rows if row.depth < TEAM_LEVELS_SHOWN]
    return shown, len(rows) - len(shown)


def by_team(scope: Scope, period: Period) -> list[TeamRow]:
    """One row per team in sight, each counting its own members and those of the teams
    below it (a department's row is the whole department). Two queries whatever the
    number of teams: the memberships and the sums per person (the teams come with the
    scope)."""
    shown = scope.team_ids if scope.team_ids is not None else scope.visible_team_ids
    if scope.teams:
        teams = [team for team in scope.teams if team.pk in shown]
    else:
        teams = _team_nodes(
            Team.objects.filter(organization_id=scope.organization_id, pk__in=shown)
        )
    ordered = _tree_order(teams)
    links = list(
        User.teams.through.objects.filter(team_id__in=shown).values_list(
            "team_id", "user_id", "user__is_active"
        )
    )
    per_person = {
        row["user_id"]: (_totals(row), row["shared"])
        for row in rollups_in_scope(scope)
        .filter(_in(period))
        .values("user_id")
        .annotate(**_sums(), shared=Count("pk", filter=SHARED))
    }
    members: dict[int, set[int]] = defaultdict(set)
    active_people: set[int] = set()
    for team_id, user_id, is_active in links:
        members[team_id].add(user_id)
        if is_active:
            active_people.add(user_id)
    # Tree order lists a team before the teams below it: walked backwards, each team's
    # people are its members plus its children's people, gathered once.
    people_of: dict[int, set[int]] = {}
    shown_ids = {team.pk for team, _depth in ordered}
    for team, _depth in reversed(ordered):
        people_of[team.pk] = people_of.get(team.pk, set()) | members[team.pk]
        if team.parent_id in shown_ids:
            people_of[team.parent_id] = people_of.get(team.parent_id, set()) | people_of[team.pk]
    below: dict[int, int] = defaultdict(int)
    for team, _depth in reversed(ordered):
        if team.parent_id in shown_ids:
            below[team.parent_id] += below[team.pk] + 1
    result = []
    for team, depth in ordered:
        people = people_of[team.pk]
        sums = [per_person[p][0] for p in people if p in per_person]
        result.append(
            TeamRow(
                team_id=team.pk,
                name=team.name,
                depth=depth,
                people=len(people & active_people),
                active=sum(1 for p in people & active_people if per_person.get(p, (0, 0))[1]),
                totals=_add(sums),
                below=below[team.pk],
            )
        )
    return result


# --- by network -----------------------------------------------------------------------------

LINKEDIN_NOTE = gettext_lazy(
    "LinkedIn personal posts give no numbers without partner access: tracked clicks are "
    "the measure."
)


@dataclass(frozen=True)
class NetworkRow:
    network: str
    label: str
    totals: Totals
    notes: list[str] = field(default_factory=list)


def _no_metrics_note(network: str) -> str:
    if network == Network.LINKEDIN:
        return str(LINKEDIN_NOTE)
    return _("%(network)s gives no numbers for these posts: tracked clicks are the measure.") % {
        "network": Network(network).label if network in Network.values else network
    }


def by_network(scope: Scope, period: Period) -> list[NetworkRow]:
    """Sums per network, with a note wherever the numbers are partial: a network (or an
    account) that gives no metrics, share-link posts (never any metrics), and potential
    reach standing in for impressions in the EMV."""
    rows = {
        row["network"]: _totals(row)
        for row in rollups_in_scope(scope).filter(_in(period)).values("network").annotate(**_sums())
    }
    silent = set(
        MetricPoll.objects.filter(
            organization_id=scope.organization_id,
            status__in=[PollStatus.UNSUPPORTED, PollStatus.NO_PERMISSION],
            share__user_id__in=people_ids_subquery(scope),
            share__published_at__date__gte=period.start - timedelta(days=1),
            share__published_at__date__lte=period.end + timedelta(days=1),
        )
        .values_list("share__network", flat=True)
        .distinct()
    )
    result = []
    for network in Network:
        totals = rows.get(network.value)
        if totals is None:
            continue
        notes = []
        no_metrics = totals.shares and not (totals.impressions or totals.engagement)
        if network.value in silent or no_metrics:
            notes.append(_no_metrics_note(network.value))
        if totals.link_confirmations:
            notes.append(
                _("Posts shared by share link give no numbers: their tracked clicks count.")
            )
        if totals.reach_stands_in:
            notes.append(_("Potential reach stands in for impressions in the EMV."))
        result.append(NetworkRow(network.value, str(network.label), totals, notes))
    return result


def people_ids_subquery(scope: Scope) -> QuerySet[Any]:
    if scope.team_ids is None:
        return User.objects.filter(organization_id=scope.organization_id).values("pk")
    return _member_links(scope).values("user_id")


# --- segments -------------------------------------------------------------------------------

REGULAR_WEEKS = 4
REGULAR_MIN_WEEKS = 3


@dataclass(frozen=True)
class SegmentMember:
    user_id: int
    name: str
    email: str
    shares: int
    weeks: int


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    definition: str
    members: list[SegmentMember]
    # How many people the segment holds when `members` lists only the first of them.
    total: int | None = None

    @property
    def size(self) -> int:
        return len(self.members) if self.total is None else self.total


# The dashboard page names the first of a segment's people; the CSV lists everyone.
SEGMENT_NAMES_SHOWN = 100


def segments(scope: Scope, period: Period) -> list[Segment]:
    """Regulars shared in at least 3 of the 4 weeks that end with the period; occasional
    sharers shared at least once in the period without being regulars; inactive people
    did not share in the period."""
    window_start = period.end - timedelta(days=REGULAR_WEEKS * 7 - 1)
    rows = (
        rollups_in_scope(scope)
        .filter(SHARED, day__gte=min(window_start, period.start), day__lte=period.end)
        .values("user_id", "day")
        .annotate(n=Sum(F("shares") + F("link_confirmations")))
    )
    weeks: dict[int, set[int]] = defaultdict(set)
    in_period: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["day"] >= window_start:
            weeks[row["user_id"]].add((period.end - row["day"]).days // 7)
        if row["day"] >= period.start:
            in_period[row["user_id"]] += row["n"]
    groups: dict[str, list[SegmentMember]] = {"regulars": [], "occasional": [], "inactive": []}
    people = people_in_scope(scope).only("id", "first_name", "last_name", "email")
    for person in people.order_by("last_name", "first_name", "email"):
        member = SegmentMember(
            user_id=person.pk,
            name=_name(person.first_name, person.last_name, person.email),
            email=person.email,
            shares=in_period.get(person.pk, 0),
            weeks=len(weeks.get(person.pk, ())),
        )
        if member.weeks >= REGULAR_MIN_WEEKS:
            groups["regulars"].append(member)
        elif member.shares:
            groups["occasional"].append(member)
        else:
            groups["inactive"].append(member)
    return [
        Segment(
            "regulars",
            _("Regulars"),
            _("Shared in at least %(min)s of the last %(weeks)s weeks of the period.")
            % {"min": REGULAR_MIN_WEEKS, "weeks": REGULAR_WEEKS},
            groups["regulars"],
        ),
        Segment(
            "occasional",
            _("Occasional"),
            _("Shared at least once in the period, less often than regulars."),
            groups["occasional"],
        ),
        Segment(
            "inactive",
            _("Inactive"),
            _("Did not share in the period."),
            groups["inactive"],
        ),
    ]


# --- the dashboard page --------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardNumbers:
    """Every rollup-derived part of the dashboard page, computed together so that the page
    can be cached as one answer (analytics.dashboard_cache)."""

    summary: Summary
    points: list[Point]
    top_contents: list[ContentRow]
    top_ambassadors: list[PersonRow]
    teams: list[TeamRow]
    networks: list[NetworkRow]
    segments: list[Segment]
    # Teams further down than the page's table shows (team_rows_shown): not kept.
    teams_left_out: int = 0


def dashboard_numbers(scope: Scope, period: Period, *, interval: str) -> DashboardNumbers:
    teams, teams_left_out = team_rows_shown(by_team(scope, period))
    return DashboardNumbers(
        summary=summary(scope, period),
        points=timeseries(scope, period, interval=interval),
        top_contents=top_contents(scope, period),
        top_ambassadors=top_ambassadors(scope, period),
        teams=teams,
        teams_left_out=teams_left_out,
        networks=by_network(scope, period),
        # Kept with the other numbers (dashboard_cache): only the names the page shows.
        segments=[
            replace(segment, members=segment.members[:SEGMENT_NAMES_SHOWN], total=segment.size)
            for segment in segments(scope, period)
        ],
    )


# --- what works (comms and admins) ----------------------------------------------------------


@dataclass(frozen=True)
class WorksRow:
    key: str
    label: str
    totals: Totals


def _works(rows: Iterable[dict[str, Any]], key: str, label_of: Any) -> list[WorksRow]:
    result = [WorksRow(str(row[key] or ""), label_of(row), _totals(row)) for row in rows]
    return sorted(result, key=lambda r: (-(r.totals.clicks_per_share or 0), -r.totals.clicks))


def what_works_by_topic(scope: Scope, period: Period) -> list[WorksRow]:
    """A content with two topics counts in both topic rows."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .values("content__topics__id", "content__topics__name")
        .annotate(**_sums())
    )
    return _works(
        rows,
        "content__topics__id",
        lambda row: row["content__topics__name"] or _("No topic"),
    )


def what_works_by_kind(scope: Scope, period: Period) -> list[WorksRow]:
    rows = rollups_in_scope(scope).filter(_in(period)).values("content__kind").annotate(**_sums())
    labels = dict(ContentKind.choices)
    return _works(rows, "content__kind", lambda row: str(labels.get(row["content__kind"], "")))


def what_works_by_weekday(scope: Scope, period: Period) -> list[WorksRow]:
    """By the weekday of the rollup day: shares on their day of publication, clicks on
    the day they came in."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday")
        .annotate(**_sums())
        .order_by("weekday")
    )
    by_day = {row["weekday"]: row for row in rows}
    return [
        WorksRow(
            str(weekday),
            str(formats.date_format(date(2024, 1, weekday), "l")),  # 1 Jan 2024 was a Monday
            _totals(by_day.get(weekday, {})),
        )
        for weekday in range(1, 8)
    ]


# --- one content, one challenge -------------------------------------------------------------


def content_for_dashboard(scope: Scope, pk: int, *, user: User) -> Content:
    """A content item of the organisation; someone who cannot open the library (a manager)
    sees only what was published once: published, expired or withdrawn after publishing."""
    contents = Content.objects.filter(organization_id=scope.organization_id, pk=pk)
    if user.role not in LIBRARY_ROLES:
        contents = contents.filter(
            status__in=(ContentStatus.APPROVED, ContentStatus.WITHDRAWN),
            publish_at__lte=timezone.now(),
        )
    content = contents.first()
    if content is None:
        raise Http404
    return content


def content_people(scope: Scope, period: Period) -> list[PersonRow]:
    """Everyone in scope who shared the content in scope, most clicks first."""
    rows = (
        rollups_in_scope(scope)
        .filter(_in(period))
        .values("user_id", "user__first_name", "user__last_name", "user__email")
        .annotate(**_sums())
    )
    rows = _ranked(rows).order_by("-sum_clicks", "-all_shares", "user_id")
    return [
        PersonRow(
            user_id=row["user_id"],
            name=_name(row["user__first_name"], row["user__last_name"], row["user__email"]),
            email=row["user__email"],
            totals=_totals(row),
        )
        for row in rows
    ]


# --- settings and the profile ---------------------------------------------------------------


def rates_for(organization: Organization) -> AnalyticsSettings:
    """The organisation's EMV rates; the defaults while nobody has saved any."""
    # Kept on the organisation instance: a page asks several times, the database once.
    cached = getattr(organization, "_analytics_rates", None)
    if cached is not None:
        return cached
    found = AnalyticsSettings.objects.filter(organization_id=organization.pk).first()
    rates = found or AnalyticsSettings(organization=organization)
    organization._analytics_rates = rates  # type: ignore[attr-defined]
    return rates


@dataclass(frozen=True)
class OwnNumbers:
    days: int
    totals: Totals


def own_numbers(user: User, *, now: datetime | None = None) -> list[OwnNumbers]:
    """An employee's own shares, clicks, engagement and EMV over 30 and 90 days."""
    organization = user.organization
    if organization is None:
        return []
    today = organization_today(organization, now=now)
    spans = (30, 90)
    row = DailyRollup.objects.filter(
        organization_id=organization.pk,
        user_id=user.pk,
        day__gte=today - timedelta(days=max(spans) - 1),
        day__lte=today,
    ).aggregate(
        **{
            key: value
            for days in spans
            for key, value in _sums(
                f"d{days}_", Q(day__gte=today - timedelta(days=days - 1))
            ).items()
        }
    )
    return [OwnNumbers(days, _totals(row, f"d{days}_")) for days in spans]


@dataclass(frozen=True)
class ChallengeNumbers:
    challenge: Any
    period: Period
    scope: Scope
    # The challenge's audience lies outside the reader's teams: nothing of it is shown.
    audience_hidden: bool


def _challenge_day(moment: datetime, zone: ZoneInfo, *, today: date) -> date:
    # Clamped before the time zone shift: 9999-12-31 shifted east is past datetime.max.
    low = datetime.combine(EARLIEST_DAY, time(), tzinfo=UTC)
    high = datetime.combine(latest_day(today), time(), tzinfo=UTC)
    return min(max(moment, low), high).astimezone(zone).date()


def challenge_numbers(
    scope: Scope, pk: int, *, user: User, now: datetime | None = None
) -> ChallengeNumbers:
    """The challenge's period (its days in the organisation's time zone, up to today), its
    audience within the reader's scope, and its contents (those listed, and those of its
    topics; every content when it names none) and network: the same numbers as the
    dashboard, for the challenge."""
    from challenges.campaign_selectors import PUBLIC_STATUSES
    from challenges.models import Challenge

    challenges = Challenge.objects.filter(organization_id=scope.organization_id, pk=pk)
    if not user.can_edit_content:
        # As on the challenge pages: drafts and cancelled challenges are the editors' own.
        challenges = challenges.filter(status__in=PUBLIC_STATUSES)
    challenge = challenges.prefetch_related("audience_teams", "contents", "topics").first()
    if challenge is None:
        raise Http404
    zone = ZoneInfo(scope.organization.time_zone)
    today = organization_today(scope.organization, now=now)
    start = _challenge_day(challenge.starts_at, zone, today=today)
    end = min(_challenge_day(challenge.ends_at, zone, today=today), max(today, start))
    teams = list(Team.objects.filter(organization_id=scope.organization_id).only("id", "parent_id"))
    audience = [team.pk for team in challenge.audience_teams.all()]
    team_ids = scope.team_ids
    if audience:
        reach = frozenset(team_descendant_ids(audience, teams))
        team_ids = reach if team_ids is None else team_ids & reach
    content_ids: set[int] | None = None
    listed = {content.pk for content in challenge.contents.all()}
    topics = [topic.pk for topic in challenge.topics.all()]
    if listed or topics:
        content_ids = set(listed)
        if topics:
            content_ids |= set(
                Content.objects.filter(
                    organization_id=scope.organization_id, topics__in=topics
                ).values_list("pk", flat=True)
            )
    challenge_scope = replace(
        scope,
        team_ids=team_ids,
        whole_organization=team_ids is None,
        content_ids=frozenset(content_ids) if content_ids is not None else None,
        network=challenge.network or "",
    )
    return ChallengeNumbers(
        challenge=challenge,
        period=Period(start=start, end=end, key="challenge"),
        scope=challenge_scope,
        audience_hidden=team_ids is not None and not team_ids,
    )


def challenges_in_period(scope: Scope, period: Period, *, limit: int = 10) -> list[Any]:
    """Launched challenges that ran during the period, for links to their pages."""
    from challenges.models import Challenge, ChallengeStatus

    zone = ZoneInfo(scope.organization.time_zone)
    starts = datetime.combine(period.start, datetime.min.time(), tzinfo=zone)
    ends = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return list(
        Challenge.objects.filter(
            organization_id=scope.organization_id,
            starts_at__lt=ends,
            ends_at__gte=starts,
        )
        .exclude(status__in=[ChallengeStatus.DRAFT, ChallengeStatus.CANCELLED])
        .only("id", "title", "starts_at", "ends_at", "status")
        .order_by("-starts_at")[:limit]
    )
