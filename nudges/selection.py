"""Who is due which nudge, organisation by organisation: read-only rules, each a bounded
number of queries whatever the number of people (the candidates are sets, never a query
per person). services.nudges_send() applies the opt-outs, the caps and the priorities."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Max

from advocacy.models import Activity, ActivityKind, Share, ShareStatus
from challenges import campaign_metrics as metrics
from challenges.models import Challenge, ChallengeMode, ChallengeStatus
from content.models import CharterAcceptance, Guideline, GuidelineKind
from nudges.models import NudgeKind
from organizations.models import User

SHARE_KINDS = (ActivityKind.SHARE_PUBLISHED, ActivityKind.SHARE_LINK_CONFIRMED)
# The scheduled-share reminder goes out when the share is at most an hour away, and not
# when it is so close that the person could no longer act on it.
SCHEDULED_LEAD = timedelta(hours=1)
SCHEDULED_LATEST = timedelta(minutes=10)
# A challenge "about to end" ends within this; "close to the goal" is at least this share
# of it, and not yet all of it.
CHALLENGE_ENDING_WITHIN = timedelta(hours=48)
CHALLENGE_CLOSE_FROM = 0.5


@dataclass(frozen=True)
class Candidate:
    """A nudge due for one person. `group` is what the message depends on besides the
    language (the content, the challenge): people with the same group and language get
    the same notification, written in one bulk call."""

    user_id: int
    kind: str
    key: str
    group: tuple[object, ...]


def daytime_bounds() -> tuple[int, int]:
    start, end = getattr(settings, "NUDGES_DAYTIME_HOURS", (9, 18))
    return int(start), int(end)


def is_daytime(zone: ZoneInfo, now: datetime) -> bool:
    """A working day's daytime in the person's own zone (Monday to Friday, 09:00 to
    18:00 by default): habit nudges wait for it, so that nobody is nudged at night."""
    local = now.astimezone(zone)
    start, end = daytime_bounds()
    return local.weekday() < 5 and start <= local.hour < end


def zone_of(user: User, organization_zone: str) -> ZoneInfo:
    """user.zone without a query for the organisation (the caller knows its zone)."""
    return ZoneInfo(user.time_zone or organization_zone or settings.TIME_ZONE)


# --- the rules ---------------------------------------------------------------------------


def scheduled_share_candidates(
    *, organization_id: int, now: datetime, people: Collection[int]
) -> list[Candidate]:
    """A share scheduled to go out within the hour (at least 10 minutes away), once per
    share. Only shares scheduled at least an hour ahead: someone who scheduled one 20
    minutes ago does not need reminding."""
    rows = Share.objects.filter(
        organization_id=organization_id,
        status=ShareStatus.SCHEDULED,
        scheduled_at__gt=now + SCHEDULED_LATEST,
        scheduled_at__lte=now + SCHEDULED_LEAD,
        created_at__lte=F("scheduled_at") - SCHEDULED_LEAD,
    ).values_list("pk", "user_id", "content_id")
    return [
        Candidate(user_id, NudgeKind.SCHEDULED_SHARE, f"scheduled:{pk}", ("content", content_id))
        for pk, user_id, content_id in rows
        if user_id in people
    ]


def challenge_ending_candidates(
    *, organization_id: int, now: datetime, people: Collection[int]
) -> list[Candidate]:
    """A running individual challenge with a goal that ends within 48 hours, for the
    participants who have done at least half of the goal and not all of it. Queries per
    challenge ending soon (a handful), not per person."""
    if not people:
        return []
    challenges = list(
        Challenge.objects.filter(
            organization_id=organization_id,
            status=ChallengeStatus.ACTIVE,
            mode=ChallengeMode.INDIVIDUAL,
            goal__gt=0,
            ends_at__gt=now,
            ends_at__lte=now + CHALLENGE_ENDING_WITHIN,
        ).prefetch_related("audience_teams", "contents", "topics")
    )
    if not challenges:
        return []
    scopes = metrics.scope_content_ids(challenges)
    result: list[Candidate] = []
    for challenge in challenges:
        eligible = metrics.participants_of(challenge).user_ids & set(people)
        if not eligible:
            continue
        values = metrics.values_by_user(challenge, scopes[challenge.pk], user_ids=eligible)
        goal = challenge.goal or 0
        for user_id in eligible:
            value = values.get(user_id, 0)
            if goal * CHALLENGE_CLOSE_FROM <= value < goal:
                result.append(
                    Candidate(
                        user_id,
                        NudgeKind.CHALLENGE_ENDING,
                        f"challenge-ending:{challenge.pk}",
                        ("challenge", challenge.pk, challenge.title),
                    )
                )
    return result


def charter_candidates(*, organization_id: int, people: Collection[int]) -> list[Candidate]:
    """The people who have not accepted the current version of the charter, once per
    version (a new version is a new thing to accept)."""
    if not people:
        return []
    charter = (
        Guideline.objects.filter(organization_id=organization_id, kind=GuidelineKind.CHARTER)
        .only("pk", "version")
        .first()
    )
    if charter is None:
        return []
    accepted = set(
        CharterAcceptance.objects.filter(guideline=charter, version=charter.version).values_list(
            "user_id", flat=True
        )
    )
    key = f"charter:v{charter.version}"
    return [
        Candidate(user_id, NudgeKind.CHARTER, key, ("charter",))
        for user_id in people
        if user_id not in accepted
    ]


def inactive_candidates(
    *, organization_id: int, now: datetime, weeks: int, joined: dict[int, datetime]
) -> list[Candidate]:
    """People whose last share (or, if they never shared, their arrival) is at least
    `weeks` weeks old, and who have nothing scheduled. Once per inactivity stretch: the
    key is the day the stretch began, so sharing again starts a new one."""
    if not joined:
        return []
    last_share = dict(
        Activity.objects.filter(organization_id=organization_id, kind__in=SHARE_KINDS)
        .values("user_id")
        .annotate(last=Max("occurred_at"))
        .order_by()
        .values_list("user_id", "last")
    )
    waiting = set(
        Share.objects.filter(
            organization_id=organization_id, status=ShareStatus.SCHEDULED
        ).values_list("user_id", flat=True)
    )
    threshold = now - timedelta(weeks=weeks)
    result: list[Candidate] = []
    for user_id, date_joined in joined.items():
        if user_id in waiting:
            continue
        shared = last_share.get(user_id)
        since = max(shared, date_joined) if shared else date_joined
        if since <= threshold:
            result.append(
                Candidate(user_id, NudgeKind.INACTIVE, f"inactive:{since.date().isoformat()}", ())
            )
    return result
