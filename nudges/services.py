"""Nudges' writes: the sending run (claim, cap, priority, notify), the organisation's
settings, a person's opt-outs, and the demo's settings."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from advocacy.models import SharingPause
from notifications.services import notification_create_many
from nudges import selection
from nudges.models import NOTIFICATION_KINDS, NudgeDelivery, NudgeKind, NudgeOptOut, NudgeSettings
from nudges.selection import Candidate
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Organization, User
from organizations.signals import seeding_demo

logger = logging.getLogger(__name__)

CAP_WINDOW = timedelta(days=7)
PRIORITY = {kind: index for index, kind in enumerate(NudgeKind.values)}
# Habit nudges wait for the person's daytime; the scheduled-share reminder cannot.
HABIT_KINDS = frozenset({NudgeKind.INACTIVE, NudgeKind.CHARTER, NudgeKind.CHALLENGE_ENDING})
SETTINGS_FIELDS = (
    "scheduled_share_enabled",
    "challenge_ending_enabled",
    "charter_enabled",
    "inactive_enabled",
    "inactivity_weeks",
    "weekly_cap",
)


# --- the run -------------------------------------------------------------------------------


def nudges_send(*, now: datetime | None = None) -> int:
    """Send every nudge that is due, organisation by organisation. Returns how many went
    out. Safe to run concurrently and repeatedly: each organisation is worked on by one
    run at a time (its settings row is locked; a second run skips it), and each nudge's
    delivery row is unique."""
    if seeding_demo():
        # The demo writes the past: nothing is "due" about it.
        return 0
    now = now or timezone.now()
    organization_ids = list(Organization.objects.values_list("pk", flat=True))
    # Every organisation gets its settings row (the defaults), so there is a row to lock.
    NudgeSettings.objects.bulk_create(
        [NudgeSettings(organization_id=pk) for pk in organization_ids], ignore_conflicts=True
    )
    sent = 0
    for pk in organization_ids:
        try:
            sent += nudges_send_for_organization(organization_id=pk, now=now)
        except Exception:
            # One organisation's problem (a bad time zone, a bug) must not stop the others'
            # reminders every ten minutes.
            logger.exception("Nudges of organisation %s failed", pk)
    return sent


def nudges_send_for_organization(*, organization_id: int, now: datetime) -> int:
    with transaction.atomic():
        config = (
            NudgeSettings.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organization")
            .filter(organization_id=organization_id)
            .first()
        )
        if config is None:
            return 0  # another run is sending this organisation's nudges right now
        enabled = set(config.enabled_kinds())
        if not enabled:
            return 0
        organization = config.organization
        people = {
            user.pk: user
            for user in User.objects.filter(organization_id=organization_id, is_active=True).only(
                "pk", "organization_id", "is_active", "language", "time_zone", "date_joined"
            )
        }
        if not people:
            return 0
        candidates = _candidates(organization, config, enabled, people, now)
        if not candidates:
            return 0
        chosen = _choose(organization_id, config, candidates, now)
        claimed = deliveries_claim(
            organization_id=organization_id,
            items=[(c.user_id, c.kind, c.key) for c in chosen],
            now=now,
        )
        return _notify(
            [c for c in chosen if (c.user_id, c.key) in claimed],
            people,
            weeks=config.inactivity_weeks,
        )


def _candidates(
    organization: Organization,
    config: NudgeSettings,
    enabled: set[str],
    people: dict[int, User],
    now: datetime,
) -> list[Candidate]:
    opted_out: dict[str, set[int]] = defaultdict(set)
    for user_id, kind in NudgeOptOut.objects.filter(
        user__organization_id=organization.pk, kind__in=enabled
    ).values_list("user_id", "kind"):
        opted_out[kind].add(user_id)

    def wanting(kind: str, pool: set[int]) -> set[int]:
        return pool - opted_out[kind] if kind in enabled else set()

    everyone = set(people)
    awake = {
        pk
        for pk, user in people.items()
        if selection.is_daytime(selection.zone_of(user, organization.time_zone), now)
    }
    # While sharing is paused (a crisis), nobody is urged to share.
    paused = SharingPause.objects.filter(
        organization_id=organization.pk, paused_at__isnull=False
    ).exists()
    candidates: list[Candidate] = []
    candidates += selection.scheduled_share_candidates(
        organization_id=organization.pk,
        now=now,
        people=wanting(NudgeKind.SCHEDULED_SHARE, everyone),
    )
    if not paused:
        candidates += selection.challenge_ending_candidates(
            organization_id=organization.pk,
            now=now,
            people=wanting(NudgeKind.CHALLENGE_ENDING, awake),
        )
    candidates += selection.charter_candidates(
        organization_id=organization.pk, people=wanting(NudgeKind.CHARTER, awake)
    )
    if not paused:
        candidates += selection.inactive_candidates(
            organization_id=organization.pk,
            now=now,
            weeks=config.inactivity_weeks,
            joined={pk: people[pk].date_joined for pk in wanting(NudgeKind.INACTIVE, awake)},
        )
    return candidates


def _choose(
    organization_id: int, config: NudgeSettings, candidates: list[Candidate], now: datetime
) -> list[Candidate]:
    """At most one nudge per person and run, the most urgent one not sent before, and
    none for a person who reached the weekly cap."""
    user_ids = {c.user_id for c in candidates}
    sent = set(
        NudgeDelivery.objects.filter(
            organization_id=organization_id,
            user_id__in=user_ids,
            key__in={c.key for c in candidates},
        ).values_list("user_id", "key")
    )
    recent = dict(
        NudgeDelivery.objects.filter(
            organization_id=organization_id, user_id__in=user_ids, sent_at__gt=now - CAP_WINDOW
        )
        .values("user_id")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("user_id", "count")
    )
    best: dict[int, Candidate] = {}
    for candidate in candidates:
        if (candidate.user_id, candidate.key) in sent:
            continue
        if recent.get(candidate.user_id, 0) >= config.weekly_cap:
            continue
        current = best.get(candidate.user_id)
        if current is None or PRIORITY[candidate.kind] < PRIORITY[current.kind]:
            best[candidate.user_id] = candidate
    return list(best.values())


def deliveries_claim(
    *, organization_id: int, items: list[tuple[int, str, str]], now: datetime
) -> set[tuple[int, str]]:
    """Write a delivery row for each (user id, kind, key) not yet sent; returns the
    (user id, key) pairs this call wrote. A pair another run already holds is left out
    (the unique constraint refuses it), so a nudge is sent once."""
    if not items:
        return set()
    run = uuid.uuid4()
    NudgeDelivery.objects.bulk_create(
        [
            NudgeDelivery(
                organization_id=organization_id,
                user_id=user_id,
                kind=kind,
                key=key,
                run=run,
                sent_at=now,
            )
            for user_id, kind, key in items
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    return set(NudgeDelivery.objects.filter(run=run).values_list("user_id", "key"))


# --- the messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    url: str


def nudge_message(kind: str, group: tuple[Any, ...], *, weeks: int = 0) -> Message:
    """The notification of a nudge, in the active language."""
    if kind == NudgeKind.SCHEDULED_SHARE:
        return Message(
            _("Your scheduled share goes out in one hour"),
            _(
                "Changed your mind? You can still cancel it: open the share and choose "
                "Cancel before it goes out."
            ),
            reverse("nudge_scheduled_share", args=[group[1]]),
        )
    if kind == NudgeKind.CHALLENGE_ENDING:
        return Message(
            _("Almost there: “%(title)s” ends soon") % {"title": group[2]},
            _(
                "You have done more than half of the challenge’s goal, and it ends within "
                "two days. A share or two could get you there."
            ),
            reverse("challenge_detail", args=[group[1]]),
        )
    if kind == NudgeKind.CHARTER:
        return Message(
            _("Please read and accept the social media charter"),
            _("It takes a few minutes and says what you can share, and how."),
            reverse("guideline_page", args=["charter"]),
        )
    return Message(
        _("Something to share this week?"),
        ngettext(
            "You have not shared anything for more than %(weeks)s week. New posts are "
            "waiting in your feed.",
            "You have not shared anything for more than %(weeks)s weeks. New posts are "
            "waiting in your feed.",
            weeks,
        )
        % {"weeks": weeks},
        reverse("feed"),
    )


def _notify(chosen: list[Candidate], people: dict[int, User], *, weeks: int) -> int:
    """One bulk notification per kind, message and language: the number of calls grows
    with the contents and challenges concerned, never with the number of people."""
    if not chosen:
        return 0
    groups: dict[tuple[str, tuple[Any, ...], str], list[User]] = defaultdict(list)
    for candidate in chosen:
        person = people[candidate.user_id]
        groups[(candidate.kind, candidate.group, person.language)].append(person)
    sent = 0
    for (kind, group, language), recipients in sorted(
        groups.items(), key=lambda item: (PRIORITY[item[0][0]], str(item[0][1]), item[0][2])
    ):
        with translation.override(language):
            message = nudge_message(kind, group, weeks=weeks)
            sent += notification_create_many(
                recipients=recipients,
                kind=NOTIFICATION_KINDS[kind],
                title=message.title,
                body=message.body,
                url=message.url,
            )
    return sent


# --- settings and preferences ------------------------------------------------------------------


def nudge_settings_of(organization_id: int) -> NudgeSettings:
    """The organisation's settings; the defaults (unsaved) when it never changed them."""
    config = NudgeSettings.objects.filter(organization_id=organization_id).first()
    return config or NudgeSettings(organization_id=organization_id)


def nudge_settings_update(
    *, actor: User, values: dict[str, Any], request: HttpRequest | None = None
) -> NudgeSettings:
    """Save the organisation's nudge settings (org admins only), with an audit entry
    naming what changed."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only an organisation admin can change the nudges."))
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError(_("Unknown setting: %(name)s.") % {"name": sorted(unknown)[0]})
    with transaction.atomic():
        config, _created = NudgeSettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        changes = {
            name: [getattr(config, name), value]
            for name, value in values.items()
            if getattr(config, name) != value
        }
        if not changes:
            return config
        for name, (_before, after) in changes.items():
            setattr(config, name, after)
        config.updated_by = actor
        try:
            config.full_clean(exclude=["organization", "updated_by"])
        except ValidationError as error:
            name, messages = next(iter(error.message_dict.items()))
            raise DomainError(messages[0], field=name) from error
        config.save()
        audit_record(
            action="nudges.settings_changed",
            organization=actor.organization,
            actor=actor,
            target=config,
            request=request,
            details={"changes": changes},
        )
    return config


def nudge_preferences_set(*, user: User, enabled: set[str]) -> None:
    """The kinds of nudge `user` wants; every other kind is switched off for them."""
    unknown = enabled - set(NudgeKind.values)
    if unknown:
        raise DomainError(
            _("Unknown kind of nudge: %(name)s.") % {"name": sorted(unknown)[0]}, field="kinds"
        )
    off = set(NudgeKind.values) - enabled
    with transaction.atomic():
        NudgeOptOut.objects.filter(user=user).exclude(kind__in=off).delete()
        NudgeOptOut.objects.bulk_create(
            [NudgeOptOut(user=user, kind=kind) for kind in sorted(off)], ignore_conflicts=True
        )


def nudge_settings_seed_demo(*, organization: Organization) -> NudgeSettings:
    """The demo organisation's nudges: every kind on, three weeks, one a week. Idempotent."""
    config, _created = NudgeSettings.objects.update_or_create(
        organization=organization,
        defaults={
            "scheduled_share_enabled": True,
            "challenge_ending_enabled": True,
            "charter_enabled": True,
            "inactive_enabled": True,
            "inactivity_weeks": 3,
            "weekly_cap": 1,
        },
    )
    return config
