"""What each event pays: shares, settled clicks, accepted suggestions and charters, and
their reversals. Every award is keyed on its source, so an event delivered twice (a signal
sent again, an activity replayed, a job run twice) pays once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import Activity, ActivityKind, Click, ShareStatus
from challenges.models import (
    ClickSettleState,
    PointEntry,
    PointReason,
    ScoringEvent,
    ScoringRule,
)
from challenges.services.points import (
    points_award,
    points_reverse,
    scoring_rule,
)
from content.models import CharterAcceptance, Suggestion, SuggestionStatus
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.memberships import user_as_member_of
from organizations.models import Organization, User

logger = logging.getLogger(__name__)

# A click pays only once it is this old: time for the fraud filters (and a person who
# reviews suspicious bursts) to act before points are handed out.
CLICK_SETTLE_SECONDS = settings.POINTS_CLICK_SETTLE_SECONDS
# Clicks recorded this long before the last settled moment are looked at again: a click
# written by a slow transaction may become visible after the job passed its time.
CLICK_SETTLE_OVERLAP = timedelta(minutes=10)
CLICK_SETTLE_BATCH = 5000


def share_source_key(share_id: int) -> str:
    return f"share:{share_id}"


def click_source_key(click: Click) -> str:
    # The visitor hash changes every day: one payment per visitor, share and day.
    return f"click:{click.share_id}:{click.visitor}"


def points_for_activity(*, activity: Activity) -> PointEntry | None:
    """Pay (or reverse) what an activity is worth. Clicks are paid later by clicks_settle."""
    kind = activity.kind
    if kind in (ActivityKind.SHARE_PUBLISHED, ActivityKind.SHARE_LINK_CONFIRMED):
        event = (
            ScoringEvent.SHARE_PUBLISHED
            if kind == ActivityKind.SHARE_PUBLISHED
            else ScoringEvent.SHARE_LINK_CONFIRMED
        )
        rule = scoring_rule(organization_id=activity.organization_id, event=event)
        if not rule.is_active:
            return None
        user = User.objects.select_related("organization").get(pk=activity.user_id)
        # A person of several organisations earns in the organisation of the share.
        if not user_as_member_of(user, activity.organization_id):
            return None
        # Keyed on the share, not the activity: a share pays once however it got out.
        return points_award(
            user=user,
            reason=event,
            points=rule.points,
            source_key=share_source_key(activity.share_id),
            occurred_at=activity.occurred_at,
            share=activity.share,
            content=activity.content,
        )
    if kind == ActivityKind.SHARE_RECALLED:
        return points_reverse(
            source_key=share_source_key(activity.share_id),
            reversal_key=f"share-recalled:{activity.share_id}",
            reason=PointReason.SHARE_RECALLED,
        )
    return None


def points_for_suggestion(*, suggestion: Suggestion) -> PointEntry | None:
    if suggestion.status != SuggestionStatus.ACCEPTED:
        return None
    rule = scoring_rule(
        organization_id=suggestion.organization_id, event=ScoringEvent.SUGGESTION_ACCEPTED
    )
    author = User.objects.select_related("organization").get(pk=suggestion.author_id)
    if not rule.is_active or not user_as_member_of(author, suggestion.organization_id):
        return None
    return points_award(
        user=author,
        reason=PointReason.SUGGESTION_ACCEPTED,
        points=rule.points,
        source_key=f"suggestion:{suggestion.pk}",
        occurred_at=suggestion.decided_at or timezone.now(),
        content=suggestion.content,
    )


def points_for_charter(*, acceptance: CharterAcceptance) -> PointEntry | None:
    user = User.objects.select_related("organization").get(pk=acceptance.user_id)
    if user.organization_id is None:
        return None
    rule = scoring_rule(organization_id=user.organization_id, event=ScoringEvent.CHARTER_ACCEPTED)
    if not rule.is_active:
        return None
    # Once per charter: accepting a new version of the same text pays nothing more.
    return points_award(
        user=user,
        reason=PointReason.CHARTER_ACCEPTED,
        points=rule.points,
        source_key=f"charter:{acceptance.guideline_id}:{user.pk}",
        occurred_at=acceptance.accepted_at,
    )


# --- clicks ---------------------------------------------------------------------------


@dataclass
class _ClickRules:
    points: int
    cap: int | None
    zone: ZoneInfo


def clicks_settle(*, now: datetime | None = None, batch_size: int = CLICK_SETTLE_BATCH) -> int:
    """Pay the clicks that have settled: not the sharer's own, on a share still
    published, at most the rule's cap per share and day (organisation's time zone), one per
    visitor. Bots and prefetches never reach here (they are not stored). Returns how many
    clicks paid. Concurrent runs queue on the state row."""
    now = now or timezone.now()
    until = now - timedelta(seconds=CLICK_SETTLE_SECONDS)
    paid = 0
    with transaction.atomic():
        ClickSettleState.objects.bulk_create(
            [ClickSettleState(name="clicks")], ignore_conflicts=True
        )
        state = ClickSettleState.objects.select_for_update().get(name="clicks")
        clicks = Click.objects.filter(recorded_at__lte=until, is_self=False).select_related("share")
        since = state.settled_until
        if since is not None and state.last_click_id is not None:
            # Working through a backlog: strictly after the last click looked at, so that
            # a burst of clicks recorded at one moment cannot hold the job in place.
            clicks = clicks.filter(
                Q(recorded_at__gt=since) | Q(recorded_at=since, pk__gt=state.last_click_id)
            )
        elif since is not None:
            clicks = clicks.filter(recorded_at__gt=since - CLICK_SETTLE_OVERLAP)
        batch = list(clicks.order_by("recorded_at", "pk")[:batch_size])
        if batch:
            paid = _clicks_pay(batch)
        if len(batch) == batch_size:
            state.settled_until, state.last_click_id = batch[-1].recorded_at, batch[-1].pk
        else:
            state.settled_until, state.last_click_id = until, None
        state.save(update_fields=["settled_until", "last_click_id"])
    return paid


def _clicks_pay(batch: list[Click]) -> int:
    organization_ids = {click.organization_id for click in batch}
    zones = dict(
        Organization.objects.filter(pk__in=organization_ids).values_list("pk", "time_zone")
    )
    rules: dict[int, _ClickRules] = {}
    for organization_id in organization_ids:
        rule = scoring_rule(organization_id=organization_id, event=ScoringEvent.CLICK)
        rules[organization_id] = _ClickRules(
            rule.points if rule.is_active else 0,
            rule.daily_cap_per_share,
            ZoneInfo(zones[organization_id]),
        )
    sharers = User.objects.select_related("organization").in_bulk(
        {click.sharer_id for click in batch}
    )
    # Clicks already paid per (share, local day), and the keys already paid, in one query.
    earliest = min(click.clicked_at for click in batch) - timedelta(days=1)
    paid_per_day: dict[tuple[int, date], int] = {}
    paid_keys: set[str] = set()
    existing = PointEntry.objects.filter(
        share_id__in={click.share_id for click in batch},
        reason=PointReason.CLICK,
        occurred_at__gte=earliest,
    ).values_list("share_id", "occurred_at", "organization_id", "source_key")
    for share_id, occurred_at, organization_id, source_key in existing:
        zone = rules[organization_id].zone if organization_id in rules else ZoneInfo("UTC")
        day = occurred_at.astimezone(zone).date()
        paid_per_day[(share_id, day)] = paid_per_day.get((share_id, day), 0) + 1
        paid_keys.add(source_key)
    paid = 0
    for click in batch:
        rule = rules[click.organization_id]
        sharer = sharers.get(click.sharer_id)
        if (
            rule.points <= 0
            or sharer is None
            or not sharer.is_active
            or not user_as_member_of(sharer, click.organization_id)
            or click.share.status != ShareStatus.PUBLISHED
        ):
            continue
        key = click_source_key(click)
        if key in paid_keys:
            continue
        day = (click.share_id, click.clicked_at.astimezone(rule.zone).date())
        if rule.cap is not None and paid_per_day.get(day, 0) >= rule.cap:
            continue
        entry = points_award(
            user=sharer,
            reason=PointReason.CLICK,
            points=rule.points,
            source_key=key,
            occurred_at=click.clicked_at,
            share=click.share,
        )
        paid_keys.add(key)
        if entry is not None:
            paid_per_day[day] = paid_per_day.get(day, 0) + 1
            paid += 1
    return paid


def points_click_reverse(
    *,
    click: Click,
    actor: User | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> PointEntry | None:
    """Take back what a click found fraudulent paid (None when it paid nothing or was
    taken back before)."""
    if actor is not None and (
        not actor.is_org_admin or actor.organization_id != click.organization_id
    ):
        raise PermissionDeniedError(_("Only organisation administrators can do this."))
    entry = points_reverse(
        source_key=click_source_key(click),
        reversal_key=f"click-fraud:{click.share_id}:{click.visitor}",
        note=note or _("Click found fraudulent"),
        reason=PointReason.CLICK_FRAUD,
    )
    if entry is not None and actor is not None:
        audit_record(
            action="points.click_reversed",
            organization=actor.organization,
            actor=actor,
            target=entry,
            request=request,
            details={"click": str(click.event_id), "points": entry.points},
        )
    return entry


def clicks_pay_organization(*, organization: Organization, until: datetime) -> int:
    """Pay an organisation's clicks made up to `until`, whenever recorded (the demo's
    history, recorded all at once). Same filters and keys as clicks_settle."""
    clicks = (
        Click.objects.filter(organization=organization, clicked_at__lte=until, is_self=False)
        .select_related("share")
        .order_by("clicked_at", "pk")
    )
    paid = 0
    batch: list[Click] = []
    for click in clicks.iterator(chunk_size=2000):
        batch.append(click)
        if len(batch) == 2000:
            paid += _clicks_pay(batch)
            batch = []
    if batch:
        paid += _clicks_pay(batch)
    return paid


# --- rules edited by the admin ----------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    event: str
    points: int
    is_active: bool
    daily_cap_per_share: int | None = None


def scoring_rules_of(organization_id: int) -> list[ScoringRule]:
    """Every event's rule, the organisation's own or the default, in a fixed order."""
    own = {rule.event: rule for rule in ScoringRule.objects.filter(organization_id=organization_id)}
    return [
        own.get(event) or scoring_rule(organization_id=organization_id, event=event)
        for event in ScoringEvent.values
    ]


def scoring_rules_save(
    *, actor: User, changes: list[RuleChange], request: HttpRequest | None = None
) -> list[ScoringRule]:
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators can do this."))
    for change in changes:
        if change.event not in ScoringEvent.values:
            raise DomainError(_("Unknown event."), field="event")
        if change.points < 0 or change.points > 10_000:
            raise DomainError(_("Points must be between 0 and 10,000."), field=change.event)
        if change.daily_cap_per_share is not None and change.daily_cap_per_share < 1:
            raise DomainError(_("A cap must be 1 or more, or empty."), field=change.event)
    with transaction.atomic():
        for change in changes:
            ScoringRule.objects.update_or_create(
                organization_id=actor.organization_id,
                event=change.event,
                defaults={
                    "points": change.points,
                    "is_active": change.is_active,
                    "daily_cap_per_share": (
                        change.daily_cap_per_share if change.event == ScoringEvent.CLICK else None
                    ),
                },
            )
        audit_record(
            action="points.rules_changed",
            organization=actor.organization,
            actor=actor,
            request=request,
            details={
                c.event: {"points": c.points, "active": c.is_active, "cap": c.daily_cap_per_share}
                for c in changes
            },
        )
    return scoring_rules_of(actor.organization_id)


# --- replay -----------------------------------------------------------------------------


def points_replay(*, organization: Organization) -> int:
    """Run every recorded event of the organisation through the services above (the demo,
    and recovery after a receiver failed). Idempotent: paid sources are skipped by key."""
    # Known keys are skipped up front, which keeps a second run to a few queries.
    paid = set(
        PointEntry.objects.filter(organization=organization).values_list("source_key", flat=True)
    )
    count = 0
    activities = (
        Activity.objects.filter(organization=organization)
        .exclude(kind=ActivityKind.CLICK_RECORDED)
        .select_related("share", "content")
        .order_by("occurred_at", "pk")
    )
    for activity in activities.iterator(chunk_size=500):
        key = (
            f"share-recalled:{activity.share_id}"
            if activity.kind == ActivityKind.SHARE_RECALLED
            else share_source_key(activity.share_id)
        )
        if key not in paid and points_for_activity(activity=activity) is not None:
            paid.add(key)
            count += 1
    suggestions = Suggestion.objects.filter(
        organization=organization, status=SuggestionStatus.ACCEPTED
    ).order_by("decided_at", "pk")
    for suggestion in suggestions:
        if f"suggestion:{suggestion.pk}" in paid:
            continue
        if points_for_suggestion(suggestion=suggestion) is not None:
            count += 1
    acceptances = CharterAcceptance.objects.filter(guideline__organization=organization).order_by(
        "accepted_at", "pk"
    )
    for acceptance in acceptances:
        if f"charter:{acceptance.guideline_id}:{acceptance.user_id}" in paid:
            continue
        if points_for_charter(acceptance=acceptance) is not None:
            count += 1
    return count
