"""Which destinations an event goes to.

A destination takes the event kinds it lists. For posts and challenges it may also name
teams and topics:
- teams: the item must be for everyone, or its audience (its teams and the teams below
  them) must meet the destination's teams or the teams below them;
- topics: the item must have one of the destination's topics;
- both: both must hold; neither: every item of those kinds.
The weekly leaderboard and test messages are organisation-wide: teams and topics do not
filter them."""

from __future__ import annotations

from collections.abc import Iterable

from messaging.models import Destination, DestinationStatus
from organizations.models import Team
from organizations.selectors import team_descendant_ids


def _active_for_event(organization_id: int, event: str) -> list[Destination]:
    # The event list is filtered here, not in SQL: JSON containment is not portable to the
    # embedded SQLite stack, and an organisation has a handful of destinations.
    destinations = (
        Destination.objects.filter(organization_id=organization_id)
        .exclude(status=DestinationStatus.BROKEN)
        .prefetch_related("teams", "topics")
        .order_by("pk")
    )
    return [destination for destination in destinations if event in (destination.events or [])]


def destinations_for_item(
    *, organization_id: int, event: str, team_ids: Iterable[int], topic_ids: Iterable[int]
) -> list[Destination]:
    candidates = _active_for_event(organization_id, event)
    if not candidates:
        return []
    item_teams = set(team_ids)
    item_topics = set(topic_ids)
    all_teams = list(Team.objects.filter(organization_id=organization_id).only("id", "parent_id"))
    audience = team_descendant_ids(item_teams, all_teams) if item_teams else set()
    chosen = []
    for destination in candidates:
        wanted_teams = {team.pk for team in destination.teams.all()}
        wanted_topics = {topic.pk for topic in destination.topics.all()}
        if (
            wanted_teams
            and audience
            and not audience & team_descendant_ids(wanted_teams, all_teams)
        ):
            continue
        if wanted_topics and not wanted_topics & item_topics:
            continue
        chosen.append(destination)
    return chosen


def destinations_for_organization(*, organization_id: int, event: str) -> list[Destination]:
    return _active_for_event(organization_id, event)
