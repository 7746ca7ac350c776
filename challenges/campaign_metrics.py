"""How far each participant of a challenge has gone, computed from the raw rows: advocacy
activity for shares and clicks, the points ledger for points, accepted suggestions.

The period is [starts_at, ends_at): both bounds are instants, entered in the
organisation's time zone. The scope (contents, topics, hashtag, network) narrows shares,
clicks and points; every filter that is set must match. Accepted suggestions have no
content yet when they are made, so only the period applies to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from advocacy.models import Activity, ActivityKind
from challenges.models import Challenge, ChallengeMetric, PointEntry
from content.models import Content, SuggestionStatus
from content.models import Suggestion as SuggestionModel
from organizations.models import Team, User
from organizations.selectors import organization_people, team_descendant_ids

SHARE_KINDS = (ActivityKind.SHARE_PUBLISHED, ActivityKind.SHARE_LINK_CONFIRMED)
CENT = Decimal("0.01")


def bonus_key_prefix(challenge_id: int) -> str:
    """Every ledger entry a challenge pays starts with this; its own points metric skips
    them, so a bonus never feeds the ranking it rewards."""
    return f"challenge:{challenge_id}:"


def normalise_hashtag(raw: str) -> str:
    tag = raw.strip().lstrip("#").strip()
    return f"#{tag}" if tag else ""


# --- participants ------------------------------------------------------------------------


@dataclass
class Participants:
    user_ids: set[int] = field(default_factory=set)
    teams_of: dict[int, list[int]] = field(default_factory=dict)
    members_of: dict[int, set[int]] = field(default_factory=dict)


def audience_team_ids(challenge: Challenge, all_teams: Sequence[Team]) -> set[int] | None:
    """The audience with every sub-team, or None for the whole organisation."""
    roots = [team.pk for team in challenge.audience_teams.all()]
    if not roots:
        return None
    return team_descendant_ids(roots, all_teams)


def participants_of(challenge: Challenge) -> Participants:
    """Active members of the organisation in the audience, and their teams inside it
    (the teams that compete in team mode)."""
    all_teams = list(
        Team.objects.filter(organization_id=challenge.organization_id).only("id", "parent_id")
    )
    audience = audience_team_ids(challenge, all_teams)
    # Everyone in the organisation: members through a Membership (people of several
    # organisations) take part in its challenges too.
    people = organization_people(challenge.organization_id).filter(is_active=True)
    memberships = User.teams.through.objects.filter(
        team__organization_id=challenge.organization_id, user__in=people.values("pk")
    )
    if audience is not None:
        memberships = memberships.filter(team_id__in=audience)
    result = Participants()
    for user_id, team_id in memberships.values_list("user_id", "team_id"):
        result.user_ids.add(user_id)
        result.teams_of.setdefault(user_id, []).append(team_id)
        result.members_of.setdefault(team_id, set()).add(user_id)
    if audience is None:
        result.user_ids |= set(people.values_list("pk", flat=True))
    return result


def in_audience(challenge: Challenge, user: User, all_teams: Sequence[Team]) -> bool:
    audience = audience_team_ids(challenge, all_teams)
    if audience is None:
        return True
    return any(team.pk in audience for team in user.teams.all())


# --- scope -------------------------------------------------------------------------------


def scope_content_ids(challenges: Sequence[Challenge]) -> dict[int, set[int] | None]:
    """For each challenge, the contents its scope allows (None: any content). Batched: at
    most two queries whatever the number of challenges (contents and topics prefetched)."""
    topic_ids = {topic.pk for c in challenges for topic in c.topics.all()}
    contents_of_topic: dict[int, set[int]] = {}
    if topic_ids:
        rows = Content.topics.through.objects.filter(topic_id__in=topic_ids).values_list(
            "topic_id", "content_id"
        )
        for topic_id, content_id in rows:
            contents_of_topic.setdefault(topic_id, set()).add(content_id)
    tagged: dict[tuple[int, str], set[int]] = {}
    orgs = {c.organization_id for c in challenges if c.hashtag}
    if orgs:
        tag_rows = Content.objects.filter(organization_id__in=orgs).values_list(
            "pk", "organization_id", "hashtags"
        )
        for pk, org_id, tags in tag_rows:
            # JSON containment is not portable to SQLite; the lists are short.
            for tag in tags or []:
                tagged.setdefault((org_id, str(tag).lower()), set()).add(pk)
    scopes: dict[int, set[int] | None] = {}
    for challenge in challenges:
        allowed: set[int] | None = None
        chosen = {content.pk for content in challenge.contents.all()}
        if chosen:
            allowed = chosen
        topics = [topic.pk for topic in challenge.topics.all()]
        if topics:
            by_topic = set().union(*(contents_of_topic.get(t, set()) for t in topics))
            allowed = by_topic if allowed is None else allowed & by_topic
        if challenge.hashtag:
            by_tag = tagged.get((challenge.organization_id, challenge.hashtag.lower()), set())
            allowed = by_tag if allowed is None else allowed & by_tag
        scopes[challenge.pk] = allowed
    return scopes


def _filter(challenge: Challenge, scope: set[int] | None, *, time_field: str) -> Q:
    q = Q(**{f"{time_field}__gte": challenge.starts_at, f"{time_field}__lt": challenge.ends_at})
    if challenge.metric == ChallengeMetric.SUGGESTIONS:
        return q
    if scope is not None:
        q &= Q(content_id__in=scope)
    if challenge.network:
        field_name = "network" if challenge.metric != ChallengeMetric.POINTS else "share__network"
        q &= Q(**{field_name: challenge.network})
    if challenge.metric == ChallengeMetric.SHARES:
        q &= Q(kind__in=SHARE_KINDS)
    elif challenge.metric == ChallengeMetric.CLICKS:
        q &= Q(kind=ActivityKind.CLICK_RECORDED, click__is_self=False)
    elif challenge.metric == ChallengeMetric.POINTS:
        q &= ~Q(source_key__startswith=bonus_key_prefix(challenge.pk))
    return q


def _source(challenge: Challenge):
    """(queryset, user field, time field, aggregate) for the challenge's metric."""
    org = challenge.organization_id
    if challenge.metric == ChallengeMetric.POINTS:
        return PointEntry.objects.filter(organization_id=org), "user_id", "occurred_at", "points"
    if challenge.metric == ChallengeMetric.SUGGESTIONS:
        return (
            SuggestionModel.objects.filter(organization_id=org, status=SuggestionStatus.ACCEPTED),
            "author_id",
            "decided_at",
            "count",
        )
    return Activity.objects.filter(organization_id=org), "user_id", "occurred_at", "count"


def _aggregate(challenge: Challenge, q: Q | None):
    if challenge.metric == ChallengeMetric.POINTS:
        return Sum("points", filter=q)
    if challenge.metric == ChallengeMetric.SHARES:
        # One share counts once, whichever way it was confirmed.
        return Count("share_id", filter=q, distinct=True)
    return Count("pk", filter=q)


def values_by_user(
    challenge: Challenge, scope: set[int] | None, *, user_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """Each participant's value (participants without any activity are absent): one query."""
    rows, user_field, time_field, _kind = _source(challenge)
    rows = rows.filter(_filter(challenge, scope, time_field=time_field))
    if user_ids is not None:
        rows = rows.filter(**{f"{user_field}__in": list(user_ids)})
    grouped = rows.values(user_field).annotate(value=_aggregate(challenge, None)).order_by()
    return {row[user_field]: int(row["value"] or 0) for row in grouped}


def values_for_user(
    challenges: Sequence[Challenge], scopes: dict[int, set[int] | None], user: User
) -> dict[int, int]:
    """One user's value in each challenge, with one query per metric (not per challenge)."""
    result: dict[int, int] = {}
    by_metric: dict[str, list[Challenge]] = {}
    for challenge in challenges:
        by_metric.setdefault(
            "activity"
            if challenge.metric in (ChallengeMetric.SHARES, ChallengeMetric.CLICKS)
            else challenge.metric,
            [],
        ).append(challenge)
    for group in by_metric.values():
        rows, user_field, time_field, _kind = _source(group[0])
        rows = rows.filter(**{user_field: user.pk})
        aggregates = {
            f"c{challenge.pk}": _aggregate(
                challenge, _filter(challenge, scopes.get(challenge.pk), time_field=time_field)
            )
            for challenge in group
        }
        # The organisation filter of _source() is the first challenge's; all share it.
        for key, value in rows.aggregate(**aggregates).items():
            result[int(key[1:])] = int(value or 0)
    return result


# --- standings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    key: int  # user id, or team id in team mode
    value: Decimal
    rank: int
    members: int = 1


def team_values(
    values: dict[int, int], participants: Participants
) -> dict[int, tuple[Decimal, int]]:
    """Each team's value normalised per member (total / members), so a small team can
    win; a person in two teams counts in both."""
    result = {}
    for team_id, members in participants.members_of.items():
        total = sum(values.get(user_id, 0) for user_id in members)
        result[team_id] = (
            (Decimal(total) / len(members)).quantize(CENT, rounding=ROUND_HALF_UP),
            len(members),
        )
    return result


def rank_of(value: Decimal, ranked_values: Sequence[Decimal]) -> int:
    """Competition ranking ("1224"): one more than the number of strictly better values."""
    return 1 + sum(1 for other in ranked_values if other > value)


def standings(
    values: dict[int, Decimal], *, members: dict[int, int] | None = None
) -> list[Standing]:
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    result: list[Standing] = []
    for index, (key, value) in enumerate(ordered):
        # Sorted, so the rank is the position of the first equal value.
        rank = result[-1].rank if index and value == ordered[index - 1][1] else index + 1
        result.append(Standing(key, value, rank, (members or {}).get(key, 1)))
    return result
