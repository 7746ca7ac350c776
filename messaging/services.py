"""The org admin's writes: the Slack connection, the destinations with their routing, and
the test message; and the events that become messages (a post published, a challenge
launched or ended, the weekly leaderboard). Every configuration change is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.token_vault import token_encrypt
from challenges.display import public_name
from challenges.models import Challenge, PointEntry, Score
from challenges.points_selectors import rank_scores
from content.models import Content, Lifecycle, Topic
from messaging import composer
from messaging.delivery import Broken, DeliveryError, RetryLater
from messaging.failures import failure_text
from messaging.models import (
    ConnectionStatus,
    Destination,
    DestinationKind,
    DestinationStatus,
    EventKind,
    SlackConnection,
)
from messaging.outbox import messages_enqueue
from messaging.routing import destinations_for_item, destinations_for_organization
from messaging.slack import BOT_TOKEN_PATTERN, CHANNEL_ID_PATTERN, slack_identify
from messaging.teams import teams_webhook_clean, teams_webhook_hint
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Organization, Team, User

LABEL_MAX = 100
DESTINATIONS_MAX = 50
TEST_EVENT = "test"


def _require_admin(actor: User) -> None:
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators can do this."))


# --- the Slack connection -----------------------------------------------------------------


def slack_connect(
    *, actor: User, token: str, request: HttpRequest | None = None
) -> SlackConnection:
    """Check a bot token with auth.test and keep it, encrypted: the workspace and the bot
    it names are shown to the admin. A token Slack refuses is not kept."""
    _require_admin(actor)
    token = (token or "").strip()
    if not BOT_TOKEN_PATTERN.match(token):
        raise DomainError(
            _("Paste the app's bot token: it starts with xoxb- (OAuth & Permissions in Slack)."),
            field="token",
        )
    try:
        identity = slack_identify(token=token)
    except Broken as exc:
        raise DomainError(
            _("Slack refused this token (%(code)s): copy it again from the app's page.")
            % {"code": exc.failure},
            field="token",
        ) from exc
    except RetryLater as exc:
        raise DomainError(
            _("Slack could not be reached: try again in a moment."), field="token"
        ) from exc
    except DeliveryError as exc:
        raise DomainError(
            _("Slack refused this token (%(code)s): copy it again from the app's page.")
            % {"code": exc.detail or exc.failure},
            field="token",
        ) from exc
    fields = {
        "bot_token": token_encrypt(token),
        "token_hint": f"xoxb-…{token[-4:]}",
        "team_id": identity.team_id[:40],
        "team_name": identity.team[:200],
        "workspace_url": identity.url[:300] if identity.url.startswith("https://") else "",
        "bot_user_id": identity.user_id[:40],
        "bot_name": identity.user[:200],
        "status": ConnectionStatus.CONNECTED,
        "problem": "",
        "broken_at": None,
        "connected_by": actor,
        "connected_at": timezone.now(),
    }
    with transaction.atomic():
        connection, created = SlackConnection.objects.select_for_update().update_or_create(
            organization_id=actor.organization_id, defaults=fields
        )
        audit_record(
            action="channels.slack_connected",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={"workspace": identity.team, "bot": identity.user, "reconnected": not created},
        )
    return connection


def slack_disconnect(*, actor: User, request: HttpRequest | None = None) -> bool:
    """Forget the token. Slack destinations stay, and wait for a new connection."""
    _require_admin(actor)
    with transaction.atomic():
        connection = (
            SlackConnection.objects.select_for_update()
            .filter(organization_id=actor.organization_id)
            .first()
        )
        if connection is None:
            return False
        audit_record(
            action="channels.slack_disconnected",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={"workspace": connection.team_name},
        )
        connection.delete()
    return True


# --- destinations -------------------------------------------------------------------------


@dataclass
class DestinationInput:
    kind: str
    label: str
    slack_channel_id: str = ""
    # None on an update: keep the stored address.
    webhook_url: str | None = None
    events: list[str] = field(default_factory=lambda: [e.value for e in EventKind])
    teams: list[Team] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)


def _clean(data: DestinationInput, actor: User, existing: Destination | None) -> None:
    if data.kind not in DestinationKind.values:
        raise DomainError(_("Choose Slack or Microsoft Teams."), field="kind")
    if existing is not None and data.kind != existing.kind:
        raise DomainError(
            _("A destination cannot change from Slack to Teams: add a new one."), field="kind"
        )
    data.label = (data.label or "").strip()
    if not data.label:
        raise DomainError(_("Give the destination a name."), field="label")
    if len(data.label) > LABEL_MAX:
        raise DomainError(_("At most %(count)d characters.") % {"count": LABEL_MAX}, field="label")
    if data.kind == DestinationKind.SLACK:
        channel = (data.slack_channel_id or "").strip().upper()
        if not CHANNEL_ID_PATTERN.match(channel):
            raise DomainError(
                _(
                    "Give the channel's id, such as C0123456789 (in Slack, open the channel's "
                    "details: the id is at the bottom), not its name."
                ),
                field="slack_channel_id",
            )
        data.slack_channel_id = channel
        data.webhook_url = ""
    else:
        data.slack_channel_id = ""
        if data.webhook_url is not None or existing is None:
            data.webhook_url = teams_webhook_clean(data.webhook_url or "")
    unknown = [event for event in data.events if event not in EventKind.values]
    if unknown or not data.events:
        raise DomainError(_("Choose at least one kind of message."), field="events")
    data.events = [event.value for event in EventKind if event.value in set(data.events)]
    for item in (*data.teams, *data.topics):
        if item.organization_id != actor.organization_id:
            raise DomainError(_("Unknown team or topic."), field="teams")


def destination_create(
    *, actor: User, data: DestinationInput, request: HttpRequest | None = None
) -> Destination:
    _require_admin(actor)
    _clean(data, actor, None)
    if Destination.objects.filter(organization_id=actor.organization_id).count() >= (
        DESTINATIONS_MAX
    ):
        raise DomainError(_("At most %(count)d destinations.") % {"count": DESTINATIONS_MAX})
    with transaction.atomic():
        destination = Destination.objects.create(
            organization_id=actor.organization_id,
            kind=data.kind,
            label=data.label,
            slack_channel_id=data.slack_channel_id,
            webhook_url=token_encrypt(data.webhook_url or ""),
            webhook_hint=teams_webhook_hint(data.webhook_url) if data.webhook_url else "",
            events=data.events,
            created_by=actor,
        )
        destination.teams.set(data.teams)
        destination.topics.set(data.topics)
        audit_record(
            action="channels.destination_created",
            organization=actor.organization,
            actor=actor,
            target=destination,
            request=request,
            details={"kind": data.kind, "events": data.events},
        )
    return destination


def destination_update(
    *,
    actor: User,
    destination: Destination,
    data: DestinationInput,
    request: HttpRequest | None = None,
) -> Destination:
    """Save the destination's settings; saving also clears a problem (the admin fixed it)."""
    _require_admin(actor)
    if destination.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This destination belongs to another organisation."))
    _clean(data, actor, destination)
    with transaction.atomic():
        locked = Destination.objects.select_for_update().get(pk=destination.pk)
        locked.label = data.label
        locked.slack_channel_id = data.slack_channel_id
        if data.kind == DestinationKind.TEAMS and data.webhook_url:
            locked.webhook_url = token_encrypt(data.webhook_url)
            locked.webhook_hint = teams_webhook_hint(data.webhook_url)
        locked.events = data.events
        locked.status = DestinationStatus.ACTIVE
        locked.problem = ""
        locked.broken_at = None
        locked.save()
        locked.teams.set(data.teams)
        locked.topics.set(data.topics)
        audit_record(
            action="channels.destination_updated",
            organization=actor.organization,
            actor=actor,
            target=locked,
            request=request,
            details={"events": data.events, "webhook_changed": bool(data.webhook_url)},
        )
    return locked


def destination_delete(
    *, actor: User, destination: Destination, request: HttpRequest | None = None
) -> None:
    _require_admin(actor)
    if destination.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This destination belongs to another organisation."))
    with transaction.atomic():
        audit_record(
            action="channels.destination_deleted",
            organization=actor.organization,
            actor=actor,
            target=destination,
            request=request,
            details={"kind": destination.kind},
        )
        destination.delete()


def destination_test(
    *, actor: User, destination: Destination, request: HttpRequest | None = None
) -> None:
    """Send a test message now (a new one each time)."""
    _require_admin(actor)
    if destination.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This destination belongs to another organisation."))
    organization = actor.organization
    assert organization is not None
    if destination.kind == DestinationKind.SLACK:
        connection = SlackConnection.objects.filter(organization_id=organization.pk).first()
        if connection is None or connection.status == ConnectionStatus.BROKEN:
            raise DomainError(
                str(failure_text("connection_broken" if connection else "not_connected"))
            )
    with transaction.atomic():
        if destination.status == DestinationStatus.BROKEN:
            # The admin says it is fixed: the test will tell.
            Destination.objects.filter(pk=destination.pk).update(
                status=DestinationStatus.ACTIVE, problem="", broken_at=None
            )
            destination.refresh_from_db()
        messages_enqueue(
            organization=organization,
            event=TEST_EVENT,
            ref=uuid.uuid4().hex,
            destinations=[destination],
            compose=lambda: composer.compose_test(destination.label),
        )
        audit_record(
            action="channels.test_sent",
            organization=organization,
            actor=actor,
            target=destination,
            request=request,
        )


# --- events -------------------------------------------------------------------------------


def channels_post_content(*, content_id: int) -> int:
    content = (
        Content.objects.select_related("organization")
        .prefetch_related("audience_teams", "topics")
        .filter(pk=content_id)
        .first()
    )
    if content is None or content.lifecycle != Lifecycle.PUBLISHED:
        return 0  # withdrawn or expired between its announcement and now
    destinations = destinations_for_item(
        organization_id=content.organization_id,
        event=EventKind.CONTENT_PUBLISHED,
        team_ids=[team.pk for team in content.audience_teams.all()],
        topic_ids=[topic.pk for topic in content.topics.all()],
    )
    return len(
        messages_enqueue(
            organization=content.organization,
            event=EventKind.CONTENT_PUBLISHED,
            ref=str(content.pk),
            destinations=destinations,
            compose=lambda: composer.compose_content(content),
        )
    )


def channels_post_challenge(*, challenge_id: int, event: str) -> int:
    challenge = (
        Challenge.objects.select_related("organization")
        .prefetch_related("audience_teams", "topics")
        .filter(pk=challenge_id)
        .first()
    )
    if challenge is None:
        return 0
    destinations = destinations_for_item(
        organization_id=challenge.organization_id,
        event=event,
        team_ids=[team.pk for team in challenge.audience_teams.all()],
        topic_ids=[topic.pk for topic in challenge.topics.all()],
    )
    compose = (
        composer.compose_challenge_launch
        if event == EventKind.CHALLENGE_LAUNCHED
        else composer.compose_challenge_results
    )
    return len(
        messages_enqueue(
            organization=challenge.organization,
            event=event,
            ref=str(challenge.pk),
            destinations=destinations,
            compose=lambda: compose(challenge),
        )
    )


def last_week(organization: Organization, now: datetime) -> tuple[datetime, datetime]:
    """The last whole week (Monday to Monday) in the organisation's time zone."""
    zone = ZoneInfo(organization.time_zone)
    local = now.astimezone(zone).date()
    this_monday = local - timedelta(days=local.weekday())
    start = datetime.combine(this_monday - timedelta(days=7), datetime.min.time(), tzinfo=zone)
    end = datetime.combine(this_monday, datetime.min.time(), tzinfo=zone)
    return start, end


def weekly_standings(
    organization: Organization, start: datetime, end: datetime, *, count: int
) -> list[tuple[int, str, int]]:
    """(rank, public name, points) of the week's leaders: active people, never someone
    hidden from the rankings (the leaderboard's rules)."""
    hidden = set(
        Score.objects.filter(
            organization_id=organization.pk, hidden_from_rankings=True
        ).values_list("user_id", flat=True)
    )
    totals = {
        user_id: float(total)
        for user_id, total in PointEntry.objects.filter(
            organization_id=organization.pk, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("user_id")
        .annotate(total=Sum("points"))
        .values_list("user_id", "total")
        if total and total > 0 and user_id not in hidden
    }
    people = {
        person.pk: person
        for person in User.objects.filter(
            organization_id=organization.pk, is_active=True, pk__in=list(totals)
        ).only("id", "first_name", "last_name")
    }
    ranked = rank_scores(
        {user_id: points for user_id, points in totals.items() if user_id in people}
    )
    return [
        (standing.rank, public_name(people[standing.key]), int(Decimal(standing.points)))
        for standing in ranked[:count]
    ]


# Last week's leaderboard goes out from this hour on Monday, in the organisation's zone.
LEADERBOARD_HOUR = 9


def leaderboard_due(organization: Organization, now: datetime) -> bool:
    """Whether the organisation's Monday morning has come this week (beat asks hourly; the
    week in the message's key keeps it to once a week, even when a run was missed)."""
    local = now.astimezone(ZoneInfo(organization.time_zone))
    return local.weekday() > 0 or local.hour >= LEADERBOARD_HOUR


def channels_post_leaderboards(*, now: datetime | None = None) -> int:
    """Last week's leaderboard to every destination that takes it, once per week (the
    week's date is in the idempotency key: running it twice posts nothing twice), from
    Monday 09:00 in each organisation's own time zone."""
    now = now or timezone.now()
    organization_ids = (
        Destination.objects.exclude(status=DestinationStatus.BROKEN)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    total = 0
    for organization in Organization.objects.filter(pk__in=organization_ids).order_by("pk"):
        destinations = destinations_for_organization(
            organization_id=organization.pk, event=EventKind.LEADERBOARD_WEEKLY
        )
        if not destinations or not leaderboard_due(organization, now):
            continue
        start, end = last_week(organization, now)
        standings = weekly_standings(organization, start, end, count=composer.LEADERS_SHOWN)
        total += len(
            messages_enqueue(
                organization=organization,
                event=EventKind.LEADERBOARD_WEEKLY,
                ref=start.date().isoformat(),
                destinations=destinations,
                compose=lambda start=start, standings=standings: composer.compose_leaderboard(
                    start.date(), standings
                ),
            )
        )
    return total
